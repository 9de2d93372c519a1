/**
 * npm run bench:repayments — POST /v1/loans/{id}/repayments per second against a bare one-row insert
 * route (bench/repayments-servers.ts), driven by autocannon. Method and figures: docs/benchmarks.md,
 * "Repayments". Knobs: BENCH_SQL_PROFILE=1 (statements and CPU per request), BENCH_FUNDS, BENCH_CONNECTIONS.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { createApiKey } from '../src/access/create-api-key';
import { connectDatabase } from '../src/db/connect';
import { benchFund, withDatabase } from './database';
import { migrate } from '../src/db/migrate';
import { parseDate } from '../src/domain/dates';
import { ADMIN, type RequestContext } from '../src/http/auth';
import { createLoan } from '../src/loans/create-loan';
import { disburseLoan } from '../src/servicing/disburse-loan';

const SECONDS = 5;
const ROUNDS = 5;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const LOANS = 500;
// One fund, as a fund's back office records its repayments; more (BENCH_FUNDS=10) shows what the fund-wide audit chain costs.
const FUNDS = Number(process.env.BENCH_FUNDS ?? 1);
// 10.00 against instalments of about 425: a loan takes about a thousand of them before it is repaid.
const BODY = JSON.stringify({ amount: '10.00', value_date: '2025-02-15' });

interface Target {
  loanId: string;
  authorization: string;
}

/**
 * FUNDS funds, each with a product, a structure and a manager's key, and LOANS loans of 10,000 at
 * 2 % over 24 months disbursed on 2025-01-15, dealt out to the funds in turn.
 */
async function seedLoans(databaseUrl: string): Promise<Target[]> {
  const db = await connectDatabase({ databaseUrl, dataDir: '' });
  await migrate(db);
  const admin: RequestContext = { actor: ADMIN, requestId: 'bench' };
  const funds: { productId: string; structureId: string; authorization: string }[] = [];
  for (let f = 0; f < FUNDS; f++) {
    const { fund, product, structure } = await benchFund(db, admin, `Bench fund ${f}`);
    const { secret } = await createApiKey(db, admin, {
      role: 'manager',
      fund_id: fund.id,
      label: 'bench back office',
    });
    funds.push({
      productId: product.id,
      structureId: structure.id,
      authorization: `Bearer ${secret}`,
    });
  }
  const targets: Target[] = [];
  for (let i = 0; i < LOANS; i++) {
    const fund = funds[i % FUNDS]!;
    const loan = (
      await createLoan(db, admin, {
        product_id: fund.productId,
        structure_id: fund.structureId,
        principal: '10000.00',
        annual_rate_percent: '2',
        periodicity: 'monthly',
        term_periods: 24,
        method: 'annuity',
        disbursement_date: '2025-01-15',
      })
    ).body;
    await disburseLoan(
      db,
      admin,
      loan.id,
      { date: '2025-01-15', amount: '10000.00' },
      parseDate('2025-01-15'),
    );
    targets.push({ loanId: loan.id, authorization: fund.authorization });
  }
  await db.schema
    .createTable('bench_repayments') // the bare route's table
    .addColumn('id', 'bigint', (c) => c.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('loan_id', 'uuid', (c) => c.notNull())
    .addColumn('amount', 'numeric(14, 2)', (c) => c.notNull())
    .addColumn('value_date', 'date', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .execute();
  await db.destroy();
  return targets;
}

interface Figures {
  rps: number;
  p99: number;
  non2xx: number;
  requests: number;
  firstRefusal?: string;
}

let sent = 0; // across every run, so that no Idempotency-Key is ever sent twice

/** One autocannon run; request n goes to loan n mod LOANS with a key of its own. */
async function load(
  base: string,
  pathOf: (loanId: string) => string,
  targets: Target[],
  withKey: boolean,
): Promise<Figures> {
  let firstRefusal: string | undefined;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const n = sent++;
          const target = targets[n % targets.length]!;
          const headers = {
            ...(withKey ? { authorization: target.authorization } : {}),
            'content-type': 'application/json',
            'idempotency-key': `bench-${process.pid}-${n}`,
          };
          return { ...request, path: pathOf(target.loanId), headers, body: BODY };
        },
        onResponse: (status, body) => {
          if (status >= 300 && firstRefusal === undefined)
            firstRefusal = `${status} ${body.slice(0, 300)}`;
        },
      },
    ],
  });
  if (result.errors > 0) throw new Error(`${base}: ${result.errors} connection errors`);
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    requests: result['2xx'],
    firstRefusal,
  };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  await withDatabase('loans_bench_repayments', async (databaseUrl) => {
    const seedStarted = performance.now();
    const targets = await seedLoans(databaseUrl);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const child = fork(path.join(__dirname, 'repayments-servers.js'), {
      env: { ...process.env, BENCH_DATABASE_URL: databaseUrl },
    });
    const ports = await new Promise<{ api: number; bare: number }>((resolve) =>
      child.once('message', (m) => resolve(m as { api: number; bare: number })),
    );
    const runApi = () =>
      load(`http://127.0.0.1:${ports.api}`, (id) => `/v1/loans/${id}/repayments`, targets, true);
    const runBare = () =>
      load(
        `http://127.0.0.1:${ports.bare}`,
        (id) => `/bare/loans/${id}/repayments`,
        targets,
        false,
      );
    const tell = async (message: {
      kind: 'mark' | 'report' | 'stop';
      requests?: number;
      name?: string;
    }) => {
      const answered = once(child, message.kind === 'stop' ? 'exit' : 'message');
      child.send(message);
      await answered;
    };

    if (process.env.BENCH_SQL_PROFILE) {
      console.log(
        `${LOANS} loans of ${FUNDS} fund(s), ${CONNECTIONS} connections, ${SECONDS} s after a warm-up of as long`,
      );
      for (const [name, run] of [
        ['api', runApi],
        ['bare', runBare],
      ] as const) {
        await run(); // every pooled connection open, every code path compiled
        await tell({ kind: 'mark' });
        const measured = await run();
        console.log(
          `${name}: ${measured.rps.toFixed(0)} req/s, p99 ${measured.p99} ms, ${measured.non2xx} non-2xx`,
        );
        await tell({ kind: 'report', requests: measured.requests, name });
      }
      await tell({ kind: 'stop' });
      return;
    }
    const api: Figures[] = [await runApi()]; // the warm-ups: counted in non-2xx, not in the figures
    const bare: Figures[] = [await runBare()];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        api.push(await runApi());
        bare.push(await runBare());
      } else {
        bare.push(await runBare());
        api.push(await runApi());
      }
    }
    await tell({ kind: 'stop' });
    const client = new pg.Client(databaseUrl);
    await client.connect();
    const {
      rows: [loans],
    } = await client.query<{
      least: number;
      most: number;
      repaid: number;
    }>(`SELECT min(n)::int AS least, max(n)::int AS most,
      (SELECT count(*)::int FROM loans WHERE status = 'repaid') AS repaid FROM (SELECT count(*) AS n FROM repayments GROUP BY loan_id) AS per_loan`);
    await client.end();

    const [apiRounds, bareRounds] = [api.slice(1), bare.slice(1)];
    const apiRps = median(apiRounds.map((r) => r.rps));
    const bareRps = median(bareRounds.map((r) => r.rps));
    const refused = (runs: Figures[]) => runs.reduce((sum, r) => sum + r.non2xx, 0);
    const line = (runs: Figures[]) =>
      `${median(runs.map((r) => r.rps)).toFixed(0)} req/s, p99 ${median(runs.map((r) => r.p99))} ms, ` +
      `${refused(runs)} non-2xx  (rounds: ${runs.map((r) => r.rps.toFixed(0)).join(', ')}; p99s: ${runs.map((r) => r.p99).join(', ')})`;
    console.log(
      `POST /v1/loans/{id}/repayments, 10.00 each over ${LOANS} loans of ${FUNDS} fund(s); ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s after a warm-up; node ${process.version}`,
    );
    console.log(
      `API (key lookup, validation, idempotency, lock, replay, ledger, audit): ${line(apiRounds)}`,
    );
    console.log(
      `bare route (BEGIN; INSERT one row; COMMIT):                            ${line(bareRounds)}`,
    );
    console.log(
      `ratio API / bare: ${(apiRps / bareRps).toFixed(2)}  (target ≥ 0.4; < 0.25 is a defect)`,
    );
    console.log(
      `repayments per loan at the end: ${loans!.least} to ${loans!.most}, ${loans!.repaid} loans repaid; seeding took ${seedSeconds.toFixed(1)} s`,
    );
    const firstRefusal = [...api, ...bare].find((r) => r.firstRefusal)?.firstRefusal;
    if (firstRefusal !== undefined) {
      console.error(
        `non-2xx answers (warm-ups included: API ${refused(api)}, bare ${refused(bare)}); the first: ${firstRefusal}`,
      );
      process.exitCode = 1;
    }
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
