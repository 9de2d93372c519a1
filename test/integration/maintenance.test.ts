/**
 * The maintenance queue (issue 5): the workers register the nightly purge of expired
 * Idempotency-Keys as a BullMQ job scheduler (Paris time), and a purge job, run by the worker on
 * real Redis, forgets the keys past their seven days and keeps the others.
 */
import { loadConfig } from '../../src/config';
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { sql } from 'kysely';
import pino from 'pino';
import { MAINTENANCE_QUEUE, startWorkers, type Workers } from '../../workers/start';
import { PURGE_EXPIRED_KEYS } from '../../src/idempotency/purge-expired-keys.job';
import { purgeExpiredKeys } from '../../src/idempotency/purge-expired-keys';
import { SCAN_REMINDERS } from '../../src/reminders/scan-reminders.job';
import { connectRedisForProducers } from '../../src/queues/redis';
import { testDb } from '../support/db';

const prefix = `test-maintenance-${randomUUID().slice(0, 8)}`;
const shared = connectRedisForProducers('redis://127.0.0.1:6379');
let workers: Workers;
let queue: Queue;

beforeAll(async () => {
  await shared.ready;
  workers = await startWorkers({
    db: await testDb(),
    redisUrl: 'redis://127.0.0.1:6379',
    logger: pino({ level: 'silent' }),
    reminders: loadConfig({}).reminders,
    queuePrefix: prefix,
    relay: false,
  });
  queue = new Queue(MAINTENANCE_QUEUE, { connection: shared.redis, prefix });
});

afterAll(async () => {
  await workers.close();
  await queue.obliterate({ force: true });
  await queue.close();
  shared.redis.disconnect();
});

/** `count` keys of one owner, created `ageDays` ago. */
async function keys(owner: string, count: number, ageDays: number) {
  await sql`INSERT INTO idempotency_keys (owner, key, request_hash, status_code, response, created_at)
    SELECT ${owner}, 'k' || n, 'hash', 201, '{}', now() - make_interval(days => ${ageDays}) FROM generate_series(1, ${count}) AS n`.execute(
    await testDb(),
  );
}

async function countOf(owner: string) {
  const { rows } = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM idempotency_keys WHERE owner = ${owner}`.execute(
    await testDb(),
  );
  return rows[0]!.n;
}

describe('the maintenance queue', () => {
  it('has the nightly purge scheduled at 03:30 and the reminder scan at 07:00, Paris time', async () => {
    const purge = await queue.getJobScheduler(PURGE_EXPIRED_KEYS);
    expect(purge).toMatchObject({
      name: PURGE_EXPIRED_KEYS,
      pattern: '30 3 * * *',
      tz: 'Europe/Paris',
    });
    expect(purge!.next).toBeGreaterThan(Date.now());
    expect(await queue.getJobScheduler(SCAN_REMINDERS)).toMatchObject({
      name: SCAN_REMINDERS,
      pattern: '0 7 * * *',
      tz: 'Europe/Paris',
    });
  });

  it('a purge job run by the worker forgets the keys past seven days and keeps the younger ones', async () => {
    const owner = `purge-${randomUUID()}`;
    await keys(owner, 3, 8);
    await keys(`${owner}-young`, 2, 6);
    const events = new QueueEvents(MAINTENANCE_QUEUE, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix,
    });
    await events.waitUntilReady();
    try {
      const job = await queue.add(PURGE_EXPIRED_KEYS, {}, { jobId: `purge-now-${randomUUID()}` });
      const result = (await job.waitUntilFinished(events, 10_000)) as { deleted: number };
      expect(result.deleted).toBeGreaterThanOrEqual(3);
    } finally {
      await events.close();
    }
    expect(await countOf(owner)).toBe(0);
    expect(await countOf(`${owner}-young`)).toBe(2);
  });

  it('purges in batches until none is left past seven days', async () => {
    const owner = `purge-batches-${randomUUID()}`;
    await keys(owner, 2500, 30);
    expect(await purgeExpiredKeys(await testDb())).toBeGreaterThanOrEqual(2500);
    expect(await countOf(owner)).toBe(0);
  });
});
