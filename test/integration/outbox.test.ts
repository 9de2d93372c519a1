/**
 * The transactional outbox and its relay to BullMQ (issue 5, "Transactional outbox"), on real
 * PostgreSQL and real Redis: rows land with the change or not at all; the relay moves each to its
 * queue once, under its job id; while Redis is down rows wait and the API says so on /readyz; when
 * Redis comes back every row is delivered, none twice. A Redis of our own, on a port of its own, is
 * started and stopped here; the shared one (127.0.0.1:6379) is used with a key prefix per run.
 * The relay moves every unsent row of the test database, other test files' (reminders) included:
 * checks here are about this file's rows.
 */
import { loadConfig } from '../../src/config';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import pino from 'pino';
import request from 'supertest';
import { startRelay } from '../../workers/relay';
import { startWorkers } from '../../workers/start';
import { createApp } from '../../src/app';
import { executeWrites } from '../../src/db/writes';
import { connectDatabase } from '../../src/db/connect';
import { hashSecret } from '../../src/http/auth';
import { enqueue, type OutboxJob } from '../../src/outbox/outbox';
import type { QueueName } from '../../src/queues/redis';
import { relayOutbox } from '../../src/outbox/relay-outbox';
import { connectRedisForProducers, openQueues } from '../../src/queues/redis';
import { ADMIN_KEY } from '../support/app';
import { expectContract } from '../support/contract';
import { testDb } from '../support/db';
import { until } from '../support/until';

const silent = pino({ level: 'silent' });
const prefix = `test-outbox-${randomUUID().slice(0, 8)}`;
const job = (label: string): OutboxJob => ({
  queue: 'reports',
  name: 'produce',
  jobId: `report-${label}-${randomUUID()}`,
  payload: { report_id: label },
});
/** What sentStates gives for these jobs (in job id order). */
const states = (jobs: OutboxJob[], sent: boolean) =>
  jobs.map((j) => ({ job_id: j.jobId, sent })).sort((a, b) => a.job_id.localeCompare(b.job_id));

async function write(jobs: OutboxJob[]) {
  const db = await testDb();
  await db.transaction().execute((trx) => executeWrites(trx, jobs.map(enqueue)));
}

/** Relays until no unsent row is left: other test files' rows (reminders) come before ours. */
async function relayAll(sink: Parameters<typeof relayOutbox>[1]): Promise<number> {
  let total = 0;
  for (let pass = 0; pass < 1000; pass++) {
    const relayed = await relayOutbox(await testDb(), sink);
    total += relayed;
    if (relayed === 0) return total;
  }
  throw new Error('the outbox never emptied');
}

async function sentStates(jobIds: string[]) {
  const { rows } = await sql<{
    job_id: string;
    sent: boolean;
  }>`SELECT job_id, sent_at IS NOT NULL AS sent FROM outbox WHERE job_id = ANY(${jobIds}::text[]) ORDER BY job_id`.execute(
    await testDb(),
  );
  return rows;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** A Redis server of our own: started, stopped, started again on the same port. */
async function ownRedis(port: number, extra: string[] = []): Promise<ChildProcess> {
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra],
    { stdio: 'ignore' },
  );
  const probe = new Redis({
    port,
    lazyConnect: true,
    retryStrategy: () => 50,
    maxRetriesPerRequest: null,
  });
  probe.on('error', () => undefined);
  await probe.connect().catch(() => undefined);
  await probe.ping();
  probe.disconnect();
  return server;
}

async function stop(server: ChildProcess) {
  if (server.exitCode !== null) return;
  server.kill('SIGKILL');
  await once(server, 'exit');
}

const shared = connectRedisForProducers('redis://127.0.0.1:6379');
const queues = openQueues(shared.redis, { prefix });

afterAll(async () => {
  for (const name of ['reminders', 'reports'] as const)
    await queues.get(name).obliterate({ force: true });
  await queues.close();
  shared.redis.disconnect();
});

describe('the outbox', () => {
  beforeAll(() => shared.ready);

  it('relays each row once, under its job id, and stamps it sent', async () => {
    const jobs = [job('a'), job('b')];
    await write(jobs);
    expect(await relayAll(queues.sink)).toBeGreaterThanOrEqual(2);
    expect(await sentStates(jobs.map((j) => j.jobId))).toEqual(states(jobs, true));
    const queued = await queues.get('reports').getJob(jobs[0]!.jobId);
    expect(queued).toMatchObject({ id: jobs[0]!.jobId, name: 'produce', data: { report_id: 'a' } });
    await relayAll(queues.sink); // stamped rows are not read again (other test files may add rows meanwhile)
    const all = await queues
      .get('reports')
      .getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
    for (const j of jobs)
      expect(all.filter((queuedJob) => queuedJob.id === j.jobId)).toHaveLength(1);
  });

  it('keeps no row of a change that fails: the row lands with the change or not at all', async () => {
    const lost = job('rolled-back');
    const db = await testDb();
    await expect(
      db.transaction().execute(async (trx) => {
        await executeWrites(trx, [enqueue(lost)]);
        await sql`SELECT 1 / 0`.execute(trx);
      }),
    ).rejects.toThrow(/division by zero/);
    expect(await sentStates([lost.jobId])).toEqual([]);
  });

  it('asked twice for the same job (same job id), keeps it once', async () => {
    const twice = job('twice');
    await write([twice]);
    await write([twice]);
    expect(await sentStates([twice.jobId])).toHaveLength(1);
  });

  it('runs a job once when a relay crashed between the enqueue and the stamp, even after the job completed', async () => {
    const crashed = job('crashed');
    await write([crashed]);
    await queues.get('reports').add(crashed.name, crashed.payload, { jobId: crashed.jobId }); // the crashed relay's enqueue
    const runs: string[] = [];
    const worker = new Worker(
      'reports',
      async (j) => {
        runs.push(String(j.id));
      },
      { connection: { host: '127.0.0.1', port: 6379 }, prefix },
    );
    try {
      await until(async () => runs.includes(crashed.jobId), 'the crashed job to run again', 10_000);
      await relayAll(queues.sink); // the next pass adds it again: BullMQ still knows the completed job
      // The worker takes jobs in order: once a job added after that pass ran, a re-added one would have.
      const after = job('after-the-pass');
      await queues.get('reports').add(after.name, after.payload, { jobId: after.jobId });
      await until(
        async () => runs.includes(after.jobId),
        'a job added after the pass to run',
        10_000,
      );
    } finally {
      await worker.close();
    }
    expect(runs.filter((id) => id === crashed.jobId)).toHaveLength(1);
    expect(await sentStates([crashed.jobId])).toEqual([{ job_id: crashed.jobId, sent: true }]);
  });

  it('stamps the rows added before Redis refused one, and leaves that one and the rest for the next pass', async () => {
    await relayAll(queues.sink); // no backlog before our rows
    const rows = [job('partial-1'), job('partial-2'), job('partial-3')];
    await write(rows);
    let calls = 0;
    const flaky = (queue: QueueName) => ({
      add: (name: string, data: unknown, options: { jobId: string }) =>
        rows.some((r) => r.jobId === options.jobId) && ++calls === 2
          ? Promise.reject(new Error('Redis went away'))
          : queues.sink(queue).add(name, data, options),
    });
    let failure: unknown;
    for (let pass = 0; pass < 100 && failure === undefined; pass++) {
      try {
        if ((await relayOutbox(await testDb(), flaky)) === 0) break;
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).toEqual(new Error('Redis went away'));
    const after = await sentStates(rows.map((r) => r.jobId));
    expect(after.filter((r) => r.sent)).toHaveLength(1);
    await relayAll(queues.sink);
    expect(await sentStates(rows.map((r) => r.jobId))).toEqual(states(rows, true));
  });

  it('refuses a job id BullMQ would refuse (a colon, or one that reads as an integer), in the code and in PostgreSQL', async () => {
    for (const jobId of ['-1', '42', 'report:1', '']) {
      expect(() => enqueue({ ...job('x'), jobId })).toThrow(/job id/);
      await expect(
        sql`INSERT INTO outbox (queue, job_name, job_id, payload) VALUES ('reports', 'produce', ${jobId}, '{}')`.execute(
          await testDb(),
        ),
      ).rejects.toMatchObject({ code: '23514' });
    }
  });

  it('while Redis is down: the relay fails and stamps nothing, /readyz says degraded with the rows waiting; when it is back, every row is delivered once', async () => {
    const port = await freePort();
    const down = connectRedisForProducers(`redis://127.0.0.1:${port}`);
    await expect(down.ready).rejects.toThrow();
    const deadQueues = openQueues(down.redis, { prefix });
    const waiting = [job('outage-1'), job('outage-2'), job('outage-3')];
    await write(waiting);
    await expect(relayOutbox(await testDb(), deadQueues.sink)).rejects.toThrow();
    expect(await sentStates(waiting.map((j) => j.jobId))).toEqual(states(waiting, false));

    const app = createApp({
      logger: silent,
      db: await testDb(),
      adminKeyHash: hashSecret(ADMIN_KEY),
      redis: down.redis,
    });
    const ready = await request(app).get('/readyz');
    expectContract(ready, 'get', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'degraded', postgres: 'up', redis: 'down' });
    expect(ready.body.outbox_waiting).toBeGreaterThanOrEqual(3);
    await deadQueues.close().catch(() => undefined);
    down.redis.disconnect();

    await relayAll(queues.sink);
    expect(await sentStates(waiting.map((j) => j.jobId))).toEqual(states(waiting, true));
    const jobs = await queues
      .get('reports')
      .getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
    for (const w of waiting) expect(jobs.filter((j) => j.id === w.jobId)).toHaveLength(1);

    const upApp = createApp({
      logger: silent,
      db: await testDb(),
      adminKeyHash: hashSecret(ADMIN_KEY),
      redis: shared.redis,
    });
    const up = await request(upApp).get('/readyz');
    expectContract(up, 'get', '/readyz');
    expect(up.body).toMatchObject({ status: 'ready', postgres: 'up', redis: 'up' });
  });
});

describe('the relay loop and the workers, against a Redis stopped and started again', () => {
  it('delivers every row written during the outage once Redis is back, none twice', async () => {
    const port = await freePort();
    let server = await ownRedis(port);
    const own = connectRedisForProducers(`redis://127.0.0.1:${port}`);
    await own.ready;
    const ownQueues = openQueues(own.redis, { prefix });
    const refusedAt: number[] = []; // when each add that Redis refused was asked for
    const relay = startRelay({
      db: await testDb(),
      queues: (name) => ({
        add: (...args) =>
          ownQueues
            .sink(name)
            .add(...args)
            .catch((error: unknown) => {
              refusedAt.push(performance.now());
              throw error;
            }),
      }),
      logger: silent,
      intervalMs: 50,
    });
    try {
      const before = job('loop-before');
      await write([before]);
      await until(
        async () => (await sentStates([before.jobId]))[0]?.sent === true,
        'the row written before the outage to be sent',
        10_000,
      );

      await stop(server);
      const during = [job('loop-during-1'), job('loop-during-2')];
      await write(during);
      // Two refusals after the write: the second pass at least began after the rows were there.
      const written = performance.now();
      await until(
        () => refusedAt.filter((at) => at > written).length >= 2,
        'two relay passes to fail after the rows were written',
        10_000,
      );
      expect(await sentStates(during.map((j) => j.jobId))).toEqual(states(during, false));

      server = await ownRedis(port);
      await until(
        async () => (await sentStates(during.map((j) => j.jobId))).every((row) => row.sent),
        'the rows written during the outage to be sent',
        10_000,
      );
      const jobs = await ownQueues
        .get('reports')
        .getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
      // The server restarted empty (it keeps nothing on disk): exactly the rows written during the outage are there, once each.
      expect(jobs.map((j) => j.id).sort()).toEqual(during.map((j) => j.jobId).sort());
    } finally {
      await relay.stop();
      await ownQueues.close().catch(() => undefined);
      own.redis.disconnect();
      await stop(server);
    }
  }, 30_000);

  it('closes within its time limit when Redis is down at that moment (BullMQ alone would wait for ever)', async () => {
    const port = await freePort();
    const server = await ownRedis(port);
    const workers = await startWorkers({
      db: await testDb(),
      redisUrl: `redis://127.0.0.1:${port}`,
      logger: silent,
      reminders: loadConfig({}).reminders,
      queuePrefix: prefix,
      relay: false,
    });
    await stop(server);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the connections are reconnecting now
    const started = Date.now();
    await workers.close();
    expect(Date.now() - started).toBeLessThan(25_000);
  }, 40_000);

  it('/readyz answers 503, in the contract, when PostgreSQL does not answer', async () => {
    const port = await freePort();
    const deadDb = await connectDatabase({
      databaseUrl: `postgres://postgres@127.0.0.1:${port}/none`,
      dataDir: '',
    });
    try {
      const app = createApp({
        logger: silent,
        db: deadDb,
        adminKeyHash: hashSecret(ADMIN_KEY),
        redis: shared.redis,
      });
      const res = await request(app).get('/readyz');
      expectContract(res, 'get', '/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        status: 'unavailable',
        postgres: 'down',
        redis: 'up',
        outbox_waiting: null,
      });
    } finally {
      await deadDb.destroy();
    }
  });

  it('refuses to start against a Redis that may evict keys, saying what to do', async () => {
    const port = await freePort();
    const server = await ownRedis(port, ['--maxmemory-policy', 'allkeys-lru']);
    try {
      await expect(
        startWorkers({
          db: await testDb(),
          redisUrl: `redis://127.0.0.1:${port}`,
          logger: silent,
          reminders: loadConfig({}).reminders,
        }),
      ).rejects.toThrow(/maxmemory-policy is "allkeys-lru".*noeviction/);
    } finally {
      await stop(server);
    }
  });
});
