import pino from 'pino';
import { startWorkers, type Workers } from '../workers/start';
import { createApp } from './app';
import { loadConfig } from './config';
import { DataDirInUseError } from './db/data-dir-lock';
import { migrate } from './db/migrate';
import { connectDatabases, untilReplicaHasMigrations } from './db/read-replica';
import { hashSecret } from './http/auth';
import { startMetricsServer } from './metrics/metrics-server';
import type { QueueToCount } from './metrics/collectors';
import { connectRedisForProducers, EvictingRedisError } from './queues/redis';

const WORKERS_RETRY_MS = 5000;

async function main() {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization'] });
  const {
    db,
    reads,
    replica,
    close: closeDatabases,
  } = await connectDatabases({ ...config, logger });
  const applied = await migrate(db);
  await untilReplicaHasMigrations(db, reads);
  logger.info(
    {
      database: config.databaseUrl ? 'postgresql' : `pglite:${config.dataDir}`,
      migrations_applied: applied,
    },
    'database ready',
  );
  if (!config.adminApiKey) logger.warn('ADMIN_API_KEY is not set: no one can create funds or keys');
  // Its queues are counted where the workers run: here only with PGlite (set once they have started).
  let workerQueues: readonly QueueToCount[] = [];
  const metrics =
    config.metrics.port === undefined
      ? undefined
      : await startMetricsServer({
          host: config.metrics.host,
          port: config.metrics.port,
          logger,
          sources: { db, queues: config.databaseUrl ? undefined : () => workerQueues },
        });
  const { redis, ready } = connectRedisForProducers(config.redisUrl);
  ready.catch(() =>
    logger.warn(
      { redis: 'unreachable' },
      'Redis does not answer: the API serves, background work waits in the outbox',
    ),
  );
  const app = createApp({
    logger,
    db,
    reads,
    replica,
    adminKeyHash: config.adminApiKey ? hashSecret(config.adminApiKey) : undefined,
    redis,
    rateLimits: config.rateLimits,
    trustProxy: config.trustProxy,
    corsOrigins: config.corsOrigins,
    outbound: config.outbound,
  });
  const server = app.listen(config.port, (error?: Error) => {
    if (!error) return logger.info({ port: config.port }, 'listening');
    logger.fatal({ err: error }, `cannot listen on port ${config.port}`); // taken, say: exiting frees DATA_DIR
    process.exit(1);
  });

  // With the embedded PGlite (no DATABASE_URL) this process runs the workers too: PGlite has one writer.
  let workers: Promise<Workers | undefined> = Promise.resolve(undefined);
  let retry: NodeJS.Timeout | undefined;
  let stopping = false;
  let warned = false;
  const tryWorkers = async (): Promise<Workers | undefined> => {
    try {
      const started = await startWorkers({
        db,
        redisUrl: config.redisUrl,
        reminders: config.reminders,
        queuePrefix: config.queuePrefix,
        jobLockMs: config.jobLockMs,
        outbound: config.outbound,
        logger,
        webhooks: { ...config.webhooks, policy: config.outbound },
      });
      if (warned) logger.info('workers started after all');
      workerQueues = started.queues;
      return started;
    } catch (error) {
      if (error instanceof EvictingRedisError) {
        logger.error(error.message);
        return undefined;
      }
      if (!warned)
        logger.warn(
          { err: error },
          `workers not started (Redis unreachable?): retrying every ${WORKERS_RETRY_MS / 1000} s; the API serves meanwhile`,
        );
      warned = true;
      if (!stopping) retry = setTimeout(() => (workers = tryWorkers()), WORKERS_RETRY_MS);
      return undefined;
    }
  };
  if (!config.databaseUrl) workers = tryWorkers();

  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing the requests and jobs under way');
    clearTimeout(retry);
    void metrics?.close();
    server.close(() => {
      void workers
        .then((started) => started?.close())
        .finally(() => {
          redis.disconnect();
          closeDatabases().finally(() => process.exit(0));
        });
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof DataDirInUseError ? error.message : error); // a refusal, not a bug: no stack
  process.exit(1);
});
