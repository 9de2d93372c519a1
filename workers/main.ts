/**
 * npm run worker — the worker process: the outbox relay (and, as they come, the BullMQ processors)
 * on the DATABASE_URL and REDIS_URL of the API. SIGTERM or SIGINT: stop taking work, finish the work
 * under way, close. (Without DATABASE_URL, `npm start` runs these in the API's own process.)
 */
import pino from 'pino';
import { loadConfig } from '../src/config';
import { migrate } from '../src/db/migrate';
import { connectDatabases, untilReplicaHasMigrations } from '../src/db/read-replica';
import { startMetricsServer, type MetricsServer } from '../src/metrics/metrics-server';
import { startWorkers, type Workers } from './start';

async function main() {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel }).child({ process: 'worker' });
  if (!config.databaseUrl)
    throw new Error(
      'The worker process needs DATABASE_URL (without it, `npm start` runs the workers in the API process).',
    );
  const { db, reads, close: closeDatabases } = await connectDatabases({ ...config, logger });
  await migrate(db);
  await untilReplicaHasMigrations(db, reads);
  let workers: Workers | undefined;
  let metrics: MetricsServer | undefined;
  try {
    // Before the work starts: a port that cannot be had stops the worker at once (its queues counted once they are open).
    if (config.metrics.workerPort !== undefined) {
      metrics = await startMetricsServer({
        host: config.metrics.host,
        port: config.metrics.workerPort,
        sources: { db, queues: () => workers?.queues ?? [] },
        logger,
      });
    }
    workers = await startWorkers({
      db,
      reads,
      redisUrl: config.redisUrl,
      reminders: config.reminders,
      queuePrefix: config.queuePrefix,
      jobLockMs: config.jobLockMs,
      outbound: config.outbound,
      logger,
      webhooks: { ...config.webhooks, policy: config.outbound },
    });
  } catch (error) {
    await metrics?.close();
    await closeDatabases();
    throw error;
  }
  const started = workers;
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'worker shutting down: finishing the work under way');
    Promise.all([started.close(), metrics?.close()])
      .then(() => closeDatabases())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'worker did not close cleanly');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
