import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { OutboxTable } from '../db/schema';

/** The queues the outbox relays to (the outbox table's own list). */
export type QueueName = OutboxTable['queue'];

export const QUEUE_NAMES: readonly QueueName[] = ['reminders', 'reports', 'exports', 'imports'];

/**
 * A connection for enqueuing and for probes: it fails a command at once while Redis is unreachable
 * (no offline queue, no retries), so that the caller — the outbox relay, /readyz — can carry on,
 * rather than wait for Redis to come back. It keeps reconnecting in the background; it answers
 * once `ready` (the promise, which rejects if the first attempt fails).
 */
export function connectRedisForProducers(
  url: string,
  closing: () => boolean = () => false,
): { redis: Redis; ready: Promise<void> } {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 2000,
    connectTimeout: 2000,
    lazyConnect: true,
    retryStrategy: retryUnless(closing),
  });
  redis.on('error', () => undefined); // the commands that fail say so
  return { redis, ready: redis.connect() };
}

/**
 * Reconnects every half second to two seconds, until `closing`: then the connection ends, which
 * is what BullMQ waits for when it closes (while Redis is down it would otherwise wait for ever).
 */
function retryUnless(closing: () => boolean) {
  return (times: number) => (closing() ? null : Math.min(500 * times, 2000));
}

/** A connection for BullMQ workers, which block on Redis and retry until `closing` (the copies BullMQ makes too). */
export function connectRedisForWorkers(url: string, closing: () => boolean = () => false): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, retryStrategy: retryUnless(closing) });
}

export class EvictingRedisError extends Error {}

/**
 * BullMQ keeps its jobs in Redis keys: a Redis that evicts keys under memory pressure loses jobs.
 * Throws, with what to do, unless `maxmemory-policy` is `noeviction`.
 */
export async function assertNoEviction(redis: Redis): Promise<void> {
  const info = await redis.info('memory');
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy !== 'noeviction') {
    throw new EvictingRedisError(
      `Redis maxmemory-policy is "${policy ?? 'unknown'}": BullMQ needs "noeviction", or Redis may evict queued jobs. ` +
        'Set it (redis-cli CONFIG SET maxmemory-policy noeviction, and in redis.conf) and start the worker again.',
    );
  }
}

/**
 * The queues, by name, on one connection; `prefix` keeps tests apart. `sink(name)` enqueues only
 * while the connection is ready, and fails at once otherwise (BullMQ itself would wait for Redis,
 * holding the relay's pass for the whole outage).
 */
export function openQueues(
  connection: Redis,
  options: { prefix?: string; jobOptions?: Partial<Record<QueueName, JobsOptions>> } = {},
): {
  get(name: QueueName): Queue;
  sink(name: QueueName): {
    add(name: string, data: unknown, options: { jobId: string }): Promise<unknown>;
  };
  close(): Promise<void>;
} {
  const { prefix } = options;
  const queues = new Map(
    QUEUE_NAMES.map((name) => [
      name,
      new Queue(name, {
        connection,
        ...(prefix ? { prefix } : {}),
        // Kept a week after they end, so that a job id relayed again within the week is still known and added once.
        defaultJobOptions: {
          removeOnComplete: { age: 7 * 24 * 3600 },
          removeOnFail: { age: 30 * 24 * 3600 },
          ...options.jobOptions?.[name],
        },
      }).on('error', () => undefined),
    ]),
  ); // while Redis is down: the callers see their own commands fail
  return {
    get: (name) => queues.get(name)!,
    sink: (name) => ({
      add: (jobName, data, jobOptions) =>
        connection.status === 'ready'
          ? queues.get(name)!.add(jobName, data, jobOptions)
          : Promise.reject(new Error(`Redis is not connected (${connection.status})`)),
    }),
    close: async () => {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
    },
  };
}
