/**
 * PostgreSQL lost under load (issue 11): the API process (src/main.ts, run through tsx) and the
 * worker process (workers/main.ts) on a PostgreSQL cluster of the test's own, which the test
 * restarts (`pg_ctl restart -m fast`, what a managed database does on a failover) and kills (-9)
 * while eight clients post repayments. Both processes must live through it; while PostgreSQL is
 * away every request answers 503 problem+json with Retry-After, and once it is back the API serves
 * again by itself; no acknowledged repayment is lost, none is posted twice, the ledger balances;
 * the worker's jobs wait for the database instead of failing for good.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Queue } from 'bullmq';
import type { Express } from 'express';
import { sql } from 'kysely';
import pino from 'pino';
import { createApp } from '../../src/app';
import { connectDatabase, type Db } from '../../src/db/connect';
import { migrate } from '../../src/db/migrate';
import { hashSecret } from '../../src/http/auth';
import { ADMIN_KEY, LOCAL_RECEIVERS } from '../support/app';
import { freePort, ownPostgres, type OwnPostgres } from '../support/own-postgres';
import { webhookReceiver } from '../support/receivers';
import { disbursedLoan, servicingDesk, type Desk } from '../support/servicing';
import { until } from '../support/until';

jest.setTimeout(180_000);

let cluster: OwnPostgres;
let db: Db;
let app: Express;
const children: ChildProcess[] = [];

beforeAll(async () => {
  cluster = await ownPostgres();
  db = await connectDatabase({ databaseUrl: cluster.url, dataDir: '', poolSize: 3 });
  await migrate(db);
  app = createApp({
    logger: pino({ level: 'silent' }),
    db,
    adminKeyHash: hashSecret(ADMIN_KEY),
    outbound: LOCAL_RECEIVERS,
  });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await db?.destroy().catch(() => undefined);
  await cluster?.remove();
});

/** Starts one of the service's processes on the test's cluster; its stderr is collected. */
function spawnProcess(entry: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: `${__dirname}/../..`,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: cluster.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      LOG_LEVEL: 'silent',
      WEBHOOK_ALLOW_INSECURE: 'true',
      ...env,
    },
  });
  children.push(child);
  const output = { stderr: '' };
  child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  return { child, output };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  at: number;
  problem?: boolean;
  retryAfter?: string | null;
  body?: unknown;
}

describe('the API process while PostgreSQL restarts and is killed', () => {
  let desk: Desk;
  let base: string;
  let api: ReturnType<typeof spawnProcess>;
  const answers: Answer[] = [];
  /** Idempotency-Key → the repayment id of its 201. */
  const acknowledged = new Map<string, string>();

  beforeAll(async () => {
    desk = await servicingDesk(app);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = spawnProcess('src/main.ts', { PORT: String(port), ADMIN_API_KEY: ADMIN_KEY });
    await until(
      async () =>
        (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true ||
        api.child.exitCode !== null,
      'the API to listen',
      60_000,
      100,
    );
    expect(api.child.exitCode).toBeNull();
  });

  /** A client posting repayments to its loan, each retried under its Idempotency-Key until it is acknowledged. */
  async function writer(loanId: string, running: () => boolean) {
    while (running()) {
      const key = randomUUID();
      for (;;) {
        let answer: Answer;
        try {
          const res = await fetch(`${base}/v1/loans/${loanId}/repayments`, {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${desk.manager.secret}`,
              'Content-Type': 'application/json',
              'Idempotency-Key': key,
            },
            body: JSON.stringify({ amount: '10.00', value_date: '2025-02-15' }),
          });
          const body = (await res.json()) as { id?: string };
          answer = {
            status: res.status,
            at: Date.now(),
            problem: res.headers.get('content-type')?.startsWith('application/problem+json'),
            retryAfter: res.headers.get('retry-after'),
            body,
          };
          if (res.status === 201) acknowledged.set(key, body.id!);
        } catch (error) {
          answer = { status: 0, at: Date.now(), body: String(error) }; // the process did not answer at all
        }
        answers.push(answer);
        if (answer.status !== 503 && answer.status !== 0) break;
        await sleep(answer.status === 0 ? 100 : 25); // a client may wait less than Retry-After; the API must cope
      }
    }
  }

  it('lives through both, answers 503 while the database is away, serves again within 2 s of its return, and loses nothing', async () => {
    const loans = [];
    for (let k = 0; k < 8; k++)
      loans.push(await disbursedLoan(desk, { principal: '1000000.00', term_periods: 120 }));
    let running = true;
    const writers = loans.map((loan) =>
      writer(loan.id, () => running && api.child.exitCode === null),
    );
    const firstSuccessAfter = (since: number) =>
      until(
        () => answers.some((a) => a.status === 201 && a.at >= since),
        'a 201 after PostgreSQL came back',
        20_000,
        5,
      ).then(() => answers.find((a) => a.status === 201 && a.at >= since)!.at - since);

    await until(() => acknowledged.size >= 40, 'repayments under load', 20_000);
    await cluster.restartFast();
    const backAfterRestart = Date.now();
    const afterRestart = await firstSuccessAfter(backAfterRestart);

    await until(() => acknowledged.size >= 80, 'more repayments', 20_000);
    await cluster.kill();
    const down = Date.now();
    await sleep(1000);
    const readyWhileDown = await fetch(`${base}/readyz`);
    const answeredWhileDown = answers.filter((a) => a.at > down + 200);
    await cluster.start();
    await cluster.accepting();
    const backAfterKill = Date.now();
    const afterKill = await firstSuccessAfter(backAfterKill);
    await until(
      () => answers.filter((a) => a.at > backAfterKill && a.status === 201).length >= 40,
      'load after the kill',
      20_000,
    );
    running = false;
    await Promise.all(writers);

    console.log(
      `first 201 after PostgreSQL came back: ${afterRestart} ms after a fast restart, ${afterKill} ms after a kill -9; ` +
        `${acknowledged.size} repayments acknowledged, ${answers.filter((a) => a.status === 503).length} answers 503`,
    );
    expect(api.child.exitCode).toBeNull();
    expect(api.output.stderr).toBe('');
    expect(afterRestart).toBeLessThan(2000);
    expect(afterKill).toBeLessThan(2000);
    // While PostgreSQL was down: 503 problems with Retry-After, and /readyz 503.
    expect(readyWhileDown.status).toBe(503);
    expect(answeredWhileDown.length).toBeGreaterThan(0);
    expect(answeredWhileDown.filter((a) => a.at < down + 1000).every((a) => a.status === 503)).toBe(
      true,
    );
    const unexpected = answers.filter(
      (a) => a.status !== 201 && !(a.status === 503 && a.problem && a.retryAfter !== null),
    );
    expect(unexpected).toEqual([]);
    expect(answers.some((a) => a.status === 503)).toBe(true);

    // Every acknowledged repayment is in the database, once: each key has its one repayment.
    const ids = [...acknowledged.values()];
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM repayments WHERE id = ANY(${ids}::uuid[])`.execute(db);
    expect(rows[0]!.n).toBe(acknowledged.size);
    const { rows: all } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM repayments WHERE loan_id = ANY(${loans.map((l) => l.id)}::uuid[])`.execute(
      db,
    );
    expect(all[0]!.n).toBe(acknowledged.size);
    // The ledger balances, and loans receivable is what the loans still owe.
    const trial = (
      await desk.api.get(`/v1/funds/${desk.fund.id}/ledger/trial-balance?as_of=2025-12-31`)
    ).body;
    expect(trial.total_debits).toBe(trial.total_credits);
    const owed = (
      await desk.api.get(`/v1/loans?fund_id=${desk.fund.id}&limit=100`)
    ).body.items.reduce(
      (sum: bigint, loan: { outstanding_principal: string }) =>
        sum + BigInt(loan.outstanding_principal.replace('.', '')),
      0n,
    );
    const receivable = trial.accounts.find(
      (line: { account: string }) => line.account === 'loans_receivable',
    ).balance as string;
    expect(BigInt(receivable.replace('.', ''))).toBe(owed);

    api.child.kill('SIGTERM');
    const [code] = await once(api.child, 'exit');
    expect(code).toBe(0);
  });
});

describe('the worker process while PostgreSQL is down', () => {
  it('lives through it and delivers every reminder once the database is back, none failed for good', async () => {
    const hooks = await webhookReceiver(() => ({ status: 200, delayMs: 100 }));
    const prefix = `test-failover-${randomUUID()}`;
    const queue = new Queue('reminders', { connection: { host: '127.0.0.1', port: 6379 }, prefix });
    try {
      const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
      for (let k = 0; k < 6; k++) await disbursedLoan(desk);
      // As of 2025-04-20, each loan has instalments 1 to 3 unpaid: 3 + 3 + 1 after-due reminders.
      expect(
        (await desk.api.post('/v1/reminders/scan', { as_of: '2025-04-20' })).body.created,
      ).toBe(42);

      // Two attempts 100 ms apart: without waiting for the database, every job would fail for good.
      const worker = spawnProcess('workers/main.ts', {
        QUEUE_PREFIX: prefix,
        REMINDER_ATTEMPTS: '2',
        REMINDER_BACKOFF_MS: '100',
        WEBHOOK_TIMEOUT_MS: '2000',
        JOB_LOCK_MS: '5000',
      });
      await until(
        () => hooks.calls.length >= 4 || worker.child.exitCode !== null,
        'the first deliveries',
        60_000,
      );
      await cluster.kill();
      await sleep(3000);
      expect(worker.child.exitCode).toBeNull();
      await cluster.start();
      await cluster.accepting();

      const statuses = async () =>
        (
          await sql<{
            status: string;
            n: number;
          }>`SELECT r.status, count(*)::int AS n FROM reminders r JOIN loans l ON l.id = r.loan_id
        WHERE l.fund_id = ${desk.fund.id} GROUP BY r.status`.execute(db)
        ).rows;
      await until(
        async () =>
          (await statuses().catch(() => [])).some((s) => s.status === 'sent' && s.n === 42),
        'every reminder sent',
        30_000,
        200,
      ).catch(async (e) => {
        console.log(
          JSON.stringify(await statuses()),
          JSON.stringify(await queue.getJobCounts()),
          (await queue.getFailed()).map((j) => j.failedReason),
          worker.output.stderr,
        );
        throw e;
      });
      expect(await statuses()).toEqual([{ status: 'sent', n: 42 }]);
      expect((await queue.getJobCounts('failed')).failed).toBe(0);
      expect(worker.child.exitCode).toBeNull();
      worker.child.kill('SIGTERM');
      const [code] = await once(worker.child, 'exit');
      expect({ code, stderr: worker.output.stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await hooks.close();
    }
  });
});
