/**
 * npm run bench:api — GET /v1/loans/{id}/schedule of a 120-instalment loan through the whole API
 * (a structure key looked up in the database, validation against openapi.yaml, two queries, statuses,
 * JSON) against a bare
 * Express route running the single equivalent SQL query, both on the same PostgreSQL. autocannon
 * drives each in turn, interleaved, from this process; the servers run in a child process.
 * Prints req/s and p99 latency of each and the ratio API / bare (target ≥ 0.7; below 0.5 is a defect).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import autocannon from 'autocannon';
import { connectDatabase } from '../src/db/connect';
import { benchFund, withDatabase } from './database';
import { parseDate } from '../src/domain/dates';
import { migrate } from '../src/db/migrate';
import { ADMIN, type RequestContext } from '../src/http/auth';
import { createApiKey } from '../src/access/create-api-key';
import { createLoan } from '../src/loans/create-loan';
import { disburseLoan } from '../src/servicing/disburse-loan';

const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const SECONDS = 5;
const ROUNDS = 5;
const CONNECTIONS = 20;

/** A fund, a product, a structure, one 120-instalment loan, disbursed, and the structure's key (a partner portal). */
async function seedLoan(databaseUrl: string): Promise<{ loanId: string; key: string }> {
  const db = await connectDatabase({ databaseUrl, dataDir: '' });
  await migrate(db);
  const admin: RequestContext = { actor: ADMIN, requestId: 'bench' };
  const { product, structure } = await benchFund(db, admin, 'Bench fund');
  const loan = (
    await createLoan(db, admin, {
      product_id: product.id,
      structure_id: structure.id,
      principal: '120000.00',
      annual_rate_percent: '3.5',
      periodicity: 'monthly',
      term_periods: 120,
      method: 'annuity',
      disbursement_date: '2024-01-15',
    })
  ).body;
  await disburseLoan(
    db,
    admin,
    loan.id,
    { date: '2024-01-15', amount: '120000.00' },
    parseDate('2024-01-15'),
  );
  const { secret } = await createApiKey(db, admin, {
    role: 'structure',
    structure_id: structure.id,
    label: 'bench portal',
  });
  await db.destroy();
  return { loanId: loan.id, key: secret };
}

async function load(url: string, headers: Record<string, string>) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  await withDatabase('loans_bench', async (databaseUrl) => {
    const { loanId, key } = await seedLoan(databaseUrl);
    const child = fork(path.join(__dirname, 'api-servers.js'), {
      env: { ...process.env, BENCH_DATABASE_URL: databaseUrl, BENCH_ADMIN_KEY: ADMIN_KEY },
      execArgv: process.env.BENCH_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
        : [],
    });
    const ports = await new Promise<{ api: number; bare: number }>((resolve) =>
      child.once('message', (m) => resolve(m as { api: number; bare: number })),
    );
    const apiUrl = `http://127.0.0.1:${ports.api}/v1/loans/${loanId}/schedule?as_of=2026-01-15`;
    const bareUrl = `http://127.0.0.1:${ports.bare}/bare/loans/${loanId}/schedule`;
    const auth = { Authorization: `Bearer ${key}` }; // a structure's key, looked up in the database like any key but the admin's
    if (process.env.BENCH_SIZES) {
      for (const [url, headers] of [
        [apiUrl, auth],
        [bareUrl, {}],
      ] as const) {
        const res = await fetch(url, { headers });
        console.log(url, res.status, (await res.text()).length, [...res.headers.keys()].join(','));
      }
    }
    await load(apiUrl, auth); // warm-up, both
    await load(bareUrl, {});
    const api: { rps: number; p99: number }[] = [];
    const bare: { rps: number; p99: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        api.push(await load(apiUrl, auth));
        bare.push(await load(bareUrl, {}));
      } else {
        bare.push(await load(bareUrl, {}));
        api.push(await load(apiUrl, auth));
      }
    }
    const exited = once(child, 'exit');
    child.send('stop');
    await exited;
    const apiRps = median(api.map((r) => r.rps));
    const bareRps = median(bare.map((r) => r.rps));
    console.log(
      `GET /v1/loans/{id}/schedule, 120 instalments; ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s; node ${process.version}`,
    );
    console.log(
      `API (key lookup, validation, loan + schedule query, statuses): ${apiRps.toFixed(0)} req/s, p99 ${median(api.map((r) => r.p99))} ms  (rounds: ${api.map((r) => r.rps.toFixed(0)).join(', ')})`,
    );
    console.log(
      `bare route (the schedule query alone):                         ${bareRps.toFixed(0)} req/s, p99 ${median(bare.map((r) => r.p99))} ms  (rounds: ${bare.map((r) => r.rps.toFixed(0)).join(', ')})`,
    );
    console.log(
      `ratio API / bare: ${(apiRps / bareRps).toFixed(2)}  (target ≥ 0.7; < 0.5 is a defect)`,
    );
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
