import { Queue, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Db } from '../src/db/connect';
import { PURGE_EXPIRED_KEYS, PURGE_EXPIRED_KEYS_SCHEDULE, purgeExpiredKeysJob } from '../src/idempotency/purge-expired-keys.job';
import { assertNoEviction, connectRedisForProducers, connectRedisForWorkers, openQueues } from '../src/queues/redis';
import { startRelay } from './relay';

/** Jobs of the house itself, on schedules of their own (not asked for by changes, so not in the outbox). */
export const MAINTENANCE_QUEUE = 'maintenance';

export interface Workers {
  /** Stops taking work, lets the work under way finish, and closes the connections. */
  close(): Promise<void>;
}

/**
 * The background side of the service, on `db` and the Redis at `redisUrl`: the outbox relay, which
 * moves the work that changes ask for into BullMQ queues, and the processors of the maintenance
 * queue with their job schedulers (the nightly purge of expired Idempotency-Keys). Refuses a Redis
 * that may evict keys (it would lose jobs).
 */
export async function startWorkers(options: {
  db: Db; redisUrl: string; logger: Logger; queuePrefix?: string; relayIntervalMs?: number;
  /** false: no outbox relay (tests that share a database with other tests' outbox rows) */
  relay?: boolean;
}): Promise<Workers> {
  const { db, redisUrl, logger } = options;
  const prefix = options.queuePrefix ? { prefix: options.queuePrefix } : {};
  const { redis, ready } = connectRedisForProducers(redisUrl);
  try {
    await ready;
    await assertNoEviction(redis);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const queues = openQueues(redis, { prefix: options.queuePrefix });
  const maintenance = new Queue(MAINTENANCE_QUEUE, { connection: redis, ...prefix }).on('error', () => undefined);
  await maintenance.upsertJobScheduler(PURGE_EXPIRED_KEYS, PURGE_EXPIRED_KEYS_SCHEDULE, { name: PURGE_EXPIRED_KEYS });

  const processors: Record<string, (job: Job) => Promise<unknown>> = { [PURGE_EXPIRED_KEYS]: purgeExpiredKeysJob(db) };
  const workerRedis = connectRedisForWorkers(redisUrl);
  workerRedis.on('error', () => undefined); // the worker reconnects; its jobs wait in Redis
  const worker = new Worker(MAINTENANCE_QUEUE, async (job) => {
    const processor = processors[job.name];
    if (!processor) throw new Error(`no processor for job ${job.name}`);
    return processor(job);
  }, { connection: workerRedis, concurrency: 1, ...prefix });
  worker.on('completed', (job, result) => logger.info({ job: job.name, job_id: job.id, result }, 'job done'));
  worker.on('failed', (job, error) => logger.error({ job: job?.name, job_id: job?.id, err: error }, 'job failed'));
  worker.on('error', () => undefined);

  const relay = options.relay === false ? { stop: async () => undefined } : startRelay({ db, queues: queues.sink, logger, intervalMs: options.relayIntervalMs });
  logger.info({ queues: ['reminders', 'reports', MAINTENANCE_QUEUE] }, 'workers started');
  return {
    close: async () => {
      await relay.stop();
      await worker.close(); // waits for the jobs under way
      await Promise.all([queues.close(), maintenance.close()]);
      workerRedis.disconnect();
      redis.disconnect();
    },
  };
}
