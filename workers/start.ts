import type { Logger } from 'pino';
import type { Db } from '../src/db/connect';
import { assertNoEviction, connectRedisForProducers, openQueues } from '../src/queues/redis';
import { startRelay } from './relay';

export interface Workers {
  /** Stops taking work, lets the work under way finish, and closes the connections. */
  close(): Promise<void>;
}

/**
 * The background side of the service, on `db` and the Redis at `redisUrl`: for now the outbox
 * relay, which moves the work that changes ask for into BullMQ queues. Refuses a Redis that may
 * evict keys (it would lose jobs).
 */
export async function startWorkers(options: { db: Db; redisUrl: string; logger: Logger; queuePrefix?: string; relayIntervalMs?: number }): Promise<Workers> {
  const { db, redisUrl, logger } = options;
  const { redis, ready } = connectRedisForProducers(redisUrl);
  try {
    await ready;
    await assertNoEviction(redis);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const queues = openQueues(redis, { prefix: options.queuePrefix });
  const relay = startRelay({ db, queues: queues.sink, logger, intervalMs: options.relayIntervalMs });
  logger.info({ queues: ['reminders', 'reports'] }, 'workers started');
  return {
    close: async () => {
      await relay.stop();
      await queues.close();
      redis.disconnect();
    },
  };
}
