/**
 * READ_DATABASE_URL (docs/read-replica.md) on a real streaming replica: a primary cluster of the
 * test's own and a hot standby made from it with pg_basebackup -R, on free ports. Replay is paused to
 * make the standby lag on purpose: then a list, which reads the replica, does not show a loan just
 * made, while its own page, the events feed, a key just made and every write, which are the
 * primary's, do. A replica lagging past the limit, or stopped, hands its reads to the primary and
 * /readyz says so; a report waits for the replica to replay what the primary held when it began.
 */
import express, { type Express } from 'express';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { migrate } from '../../src/db/migrate';
import { connectDatabases, readAfterPrimary, type Databases } from '../../src/db/read-replica';
import { hashSecret } from '../../src/http/auth';
import { readinessHandler } from '../../src/http/readiness';
import { computeReport } from '../../src/reports/compute-report';
import { ADMIN_KEY, LIMITS_OUT_OF_REACH, LOCAL_RECEIVERS } from '../support/app';
import { expectContract } from '../support/contract';
import { ownPostgres, type OwnPostgres } from '../support/own-postgres';
import { as, createKey, createStructure } from '../support/portfolio';
import { disbursedLoan, servicingDesk, type Desk } from '../support/servicing';
import { streamingReplica, type StreamingReplica } from '../support/streaming-replica';
import { until } from '../support/until';

jest.setTimeout(60_000);

let primary: OwnPostgres;
let standby: StreamingReplica;
/** Lag allowed: a minute, so that a paused replay keeps the lists on the replica for the whole test. */
let patient: Databases;
/** Lag allowed: one second, probed five times a second. */
let strict: Databases;
let redis: Redis;
let app: Express;
let strictApp: Express;
let desk: Desk;

const appOn = (databases: Databases, extra: { redis?: Redis } = {}) =>
  createApp({
    logger: pino({ level: 'silent' }),
    db: databases.db,
    reads: databases.reads,
    replica: databases.replica,
    adminKeyHash: hashSecret(ADMIN_KEY),
    rateLimits: LIMITS_OUT_OF_REACH,
    outbound: LOCAL_RECEIVERS,
    ...extra,
  });

beforeAll(async () => {
  primary = await ownPostgres();
  standby = await streamingReplica(primary);
  patient = await connectDatabases({
    databaseUrl: primary.url,
    readDatabaseUrl: standby.url,
    dataDir: '',
    poolSize: 3,
    maxLagMs: 60_000,
  });
  strict = await connectDatabases({
    databaseUrl: primary.url,
    readDatabaseUrl: standby.url,
    dataDir: '',
    poolSize: 3,
    maxLagMs: 1_000,
    probeEveryMs: 200,
  });
  await migrate(patient.db);
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  app = appOn(patient);
  strictApp = appOn(strict, { redis });
  desk = await servicingDesk(app);
  await standby.caughtUp();
});

afterAll(async () => {
  redis?.disconnect();
  await Promise.all([patient?.close(), strict?.close()]);
  await standby?.remove();
  await primary?.remove();
});

const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((item) => item.id);
const readiness = async (target: Express) => {
  const res = await request(target).get('/readyz');
  expectContract(res, 'get', '/readyz');
  return res;
};

/** Runs `during` with the standby's replay paused, then resumes it whatever happened. */
async function whileReplayPaused(during: () => Promise<void>) {
  await standby.caughtUp();
  await standby.pauseReplay();
  try {
    await during();
  } finally {
    await standby.resumeReplay();
  }
}

describe('with READ_DATABASE_URL', () => {
  it("a list reads the lagging replica and misses the loan just made; its page, the events, a key just made and the writes are the primary's", async () => {
    const manager = desk.api;
    let loanId = '';
    await whileReplayPaused(async () => {
      loanId = (await disbursedLoan(desk)).id; // two writes: a standby would refuse them
      expect(
        await standby.query(`SELECT count(*)::int AS n FROM loans WHERE id = '${loanId}'`),
      ).toEqual({ n: 0 });

      expect((await manager.get(`/v1/loans/${loanId}`)).status).toBe(200);
      const list = await manager.get(`/v1/loans?fund_id=${desk.fund.id}`);
      expect(list.status).toBe(200);
      expect(ids(list)).not.toContain(loanId);
      const trial = await manager.get(`/v1/funds/${desk.fund.id}/ledger/trial-balance`);
      expect(
        trial.body.accounts.find((line: { account: string }) => line.account === 'loans_receivable')
          .balance,
      ).toBe('0.00');

      const events = await manager.get(`/v1/events?loan_id=${loanId}`);
      expect(events.body.items.map((event: { type: string }) => event.type)).toEqual([
        'loan.created',
        'loan.disbursed',
      ]);
      const auditor = await createKey(app, { role: 'auditor', fund_id: desk.fund.id });
      expect((await as(app, auditor.secret).get(`/v1/loans/${loanId}`)).status).toBe(200);

      const ready = await readiness(app);
      expect(ready.body).toMatchObject({ postgres: 'up', replica: 'up' }); // behind, but within its minute
    });
    await until(
      async () => ids(await manager.get(`/v1/loans?fund_id=${desk.fund.id}`)).includes(loanId),
      'the list to show the loan once replayed',
      10_000,
      50,
    );
    const trial = await manager.get(`/v1/funds/${desk.fund.id}/ledger/trial-balance`);
    expect(
      trial.body.accounts.find((line: { account: string }) => line.account === 'loans_receivable')
        .balance,
    ).toBe('10000.00');
  });

  it('a replica behind by more than the lag allowed hands its reads to the primary, and /readyz says degraded until it catches up', async () => {
    await until(
      async () => (await readiness(strictApp)).body.status === 'ready',
      "/readyz to say ready (the replica replayed the last test's pause)",
      10_000,
      100,
    );
    await whileReplayPaused(async () => {
      const structure = await createStructure(app, desk.fund.id, desk.manager.secret);
      await until(
        async () => (await readiness(strictApp)).body.replica === 'lagging',
        '/readyz to say lagging',
        10_000,
        100,
      );
      const ready = await readiness(strictApp);
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        status: 'degraded',
        postgres: 'up',
        redis: 'up',
        replica: 'lagging',
      });
      expect(
        ids(await as(strictApp, desk.manager.secret).get(`/v1/structures?fund_id=${desk.fund.id}`)),
      ).toContain(structure.id);
      expect(ids(await desk.api.get(`/v1/structures?fund_id=${desk.fund.id}`))).not.toContain(
        structure.id,
      ); // the patient one still reads the replica
    });
    await until(
      async () => (await readiness(strictApp)).body.status === 'ready',
      '/readyz to say ready once replayed',
      10_000,
      100,
    );
  });

  it('a replica stopped: its reads go to the primary, /readyz answers 200 degraded; started again, it takes them back', async () => {
    await standby.stop();
    try {
      await until(
        async () => (await readiness(strictApp)).body.replica === 'down',
        '/readyz to say down',
        10_000,
        100,
      );
      const ready = await readiness(strictApp);
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'degraded', postgres: 'up', replica: 'down' });
      const loan = await disbursedLoan(desk);
      const list = await as(strictApp, desk.manager.secret).get(
        `/v1/loans?fund_id=${desk.fund.id}`,
      );
      expect(list.status).toBe(200);
      expect(ids(list)).toContain(loan.id);
    } finally {
      await standby.start();
    }
    await until(
      async () => (await readiness(strictApp)).body.replica === 'up',
      '/readyz to say up again',
      15_000,
      100,
    );
    const connection = await readAfterPrimary(
      strict.db,
      strict.reads,
      async (source) =>
        (await sql<{ standby: boolean }>`SELECT pg_is_in_recovery() AS standby`.execute(source))
          .rows[0],
    );
    expect(connection).toEqual({ result: { standby: true }, from: 'replica' });
  });

  it("a read that must see the primary's latest commits waits for the replica to replay them, and past the wait reads the primary", async () => {
    const whereItRan = (waitMs: number) =>
      readAfterPrimary(
        patient.db,
        patient.reads,
        async (source) =>
          (await sql<{ standby: boolean }>`SELECT pg_is_in_recovery() AS standby`.execute(source))
            .rows[0]!.standby,
        waitMs,
      );
    await until(() => patient.replica!.state() === 'up', 'the replica to be up', 10_000, 50);
    await whileReplayPaused(async () => {
      await createStructure(app, desk.fund.id, desk.manager.secret); // the primary moves on
      const started = performance.now();
      expect(await whereItRan(300)).toEqual({ result: false, from: 'primary' });
      expect(performance.now() - started).toBeGreaterThanOrEqual(300); // it waited on the replica first
    });
    expect(await whereItRan(5_000)).toEqual({ result: true, from: 'replica' });
  });

  it('a report asked for while the replica lags waits for it to replay the loan just made', async () => {
    const fresh = await servicingDesk(app);
    let reportId = '';
    await whileReplayPaused(async () => {
      await disbursedLoan(fresh);
      const posted = await fresh.api.post('/v1/reports', { fund_id: fresh.fund.id });
      expect(posted.status).toBe(202);
      reportId = posted.body.id;
    });
    // Replay resumed: the report reads the replica once it holds the loan.
    expect(await computeReport(patient.db, reportId, true, null, patient.reads)).toBe('done');
    expect((await fresh.api.get(`/v1/reports/${reportId}`)).body.result).toMatchObject({
      loan_count: 1,
      outstanding_principal: '10000.00',
    });

    // Replay paused when the attempt begins, resumed a second later: the attempt waits for it.
    let secondId = '';
    await whileReplayPaused(async () => {
      await disbursedLoan(fresh);
      secondId = (await fresh.api.post('/v1/reports', { fund_id: fresh.fund.id })).body.id;
      const resume = setTimeout(() => void standby.resumeReplay(), 1_000);
      const started = performance.now();
      expect(await computeReport(patient.db, secondId, true, null, patient.reads)).toBe('done');
      clearTimeout(resume);
      expect(performance.now() - started).toBeGreaterThan(900); // it waited for the replay
    });
    expect((await fresh.api.get(`/v1/reports/${secondId}`)).body.result).toMatchObject({
      loan_count: 2,
      outstanding_principal: '20000.00',
    });
  });

  // Last of this describe: the standby is a standby no more.
  it('a replica promoted (no longer a standby) is down: its reads, and a read that must follow the primary, go to the primary', async () => {
    await until(() => strict.replica!.state() === 'up', 'the replica to be up', 10_000, 50);
    await standby.query('SELECT pg_promote()');
    await until(
      async () =>
        (await standby.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby'))
          .standby === false,
      'the promotion',
      10_000,
      50,
    );
    // The promoted server now diverges: what it alone holds must never be read.
    await standby.query('INSERT INTO structures SELECT * FROM structures LIMIT 0'); // writable now
    await until(
      async () => (await readiness(strictApp)).body.replica === 'down',
      '/readyz to say down',
      10_000,
      100,
    );
    const loan = await disbursedLoan(desk);
    expect(
      ids(await as(strictApp, desk.manager.secret).get(`/v1/loans?fund_id=${desk.fund.id}`)),
    ).toContain(loan.id);
    const where = await readAfterPrimary(
      strict.db,
      strict.reads,
      async (source) =>
        (await sql<{ standby: boolean }>`SELECT pg_is_in_recovery() AS standby`.execute(source))
          .rows[0],
    );
    expect(where.from).toBe('primary');
    // A read the promoted server lends (its state said up before the probe noticed) runs on the primary too.
    const lent = await readAfterPrimary(
      patient.db,
      patient.reads,
      async (source) =>
        (await sql<{ port: string }>`SELECT current_setting('port') AS port`.execute(source))
          .rows[0]!.port,
    );
    expect(lent).toEqual({ result: new URL(primary.url).port, from: 'primary' });
  });
});

describe('without READ_DATABASE_URL', () => {
  it('reads go to the one database, /readyz says nothing of a replica; with PGlite a replica is refused at start', async () => {
    const single = await connectDatabases({ databaseUrl: primary.url, dataDir: '', poolSize: 2 });
    try {
      expect(single.reads).toBe(single.db);
      // Not a whole new app: it would compile openapi.yaml meanwhile, and hold the event loop past /readyz's one-second probe on a busy machine.
      const probeOnly = express().get('/readyz', readinessHandler(single.db, undefined));
      expect((await readiness(probeOnly)).body).toEqual({
        status: 'degraded',
        postgres: 'up',
        redis: 'not_configured',
        outbox_waiting: expect.any(Number),
      });
    } finally {
      await single.close();
    }
    expect(() => loadConfig({ READ_DATABASE_URL: standby.url })).toThrow(
      /READ_DATABASE_URL.*DATABASE_URL/,
    );
    expect(
      loadConfig({ READ_DATABASE_URL: standby.url, DATABASE_URL: primary.url }).readDatabaseUrl,
    ).toBe(standby.url);
  });
});
