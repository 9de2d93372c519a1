/**
 * npm run bench:hostile — what a request built to cost the server costs it: for each kind of hostile
 * body or query (each under the 100 kB body limit), the CPU time the API process spends per request,
 * against a valid preview of a 12-month loan measured in the same run. Requests go one at a time, so
 * that the server's CPU between two readings is that of the requests alone. Target: no request above
 * 50 ms of CPU, whatever it holds.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { connectDatabase } from '../src/db/connect';
import { migrate } from '../src/db/migrate';
import { withDatabase } from './database';

const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40);
const CEILING_MS = 50;

const preview = {
  principal: '10000.00',
  annual_rate_percent: '12',
  periodicity: 'monthly',
  term_periods: 12,
  method: 'annuity',
  disbursement_date: '2025-01-31',
};
const members = (count: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, k) => [k.toString(36), 0]));
const fund = (codes: unknown[]) =>
  JSON.stringify({ name: 'Fonds', region_code: '84', department_codes: codes });

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly key?: string;
}

const CASES: Case[] = [
  {
    name: 'a valid preview, 12 months (the baseline)',
    method: 'POST',
    path: '/v1/schedules/preview',
    body: JSON.stringify(preview),
  },
  {
    name: 'a valid preview, 600 months',
    method: 'POST',
    path: '/v1/schedules/preview',
    body: JSON.stringify({ ...preview, term_periods: 600 }),
  },
  {
    name: '10,000 unknown members (80 kB), no key',
    method: 'POST',
    path: '/v1/schedules/preview',
    body: JSON.stringify({ ...preview, ...members(10_000) }),
  },
  {
    name: '94 unknown members (the most an object may have)',
    method: 'POST',
    path: '/v1/schedules/preview',
    body: JSON.stringify({ ...preview, ...members(94) }),
  },
  {
    name: '990 integers where strings are expected',
    method: 'POST',
    path: '/v1/funds',
    body: fund(Array.from({ length: 990 }, (_, k) => k)),
    key: ADMIN_KEY,
  },
  {
    name: '990 strings with a lone surrogate',
    method: 'POST',
    path: '/v1/funds',
    body: fund(Array.from({ length: 990 }, () => '\ud800')),
    key: ADMIN_KEY,
  },
  {
    name: '16,500 integers in a list (past 1,000 values)',
    method: 'POST',
    path: '/v1/funds',
    body: fund(Array.from({ length: 16_500 }, (_, k) => k % 10)),
    key: ADMIN_KEY,
  },
  {
    name: 'arrays nested 50,000 deep (100 kB), no key',
    method: 'POST',
    path: '/v1/schedules/preview',
    body: `${'['.repeat(49_990)}${']'.repeat(49_990)}`,
  },
  {
    name: 'objects nested 31 deep (within the limit)',
    method: 'POST',
    path: '/v1/schedules/preview',
    body: `${'{"a":'.repeat(31)}1${'}'.repeat(31)}`,
  },
  {
    name: 'a 99 kB string in an amount',
    method: 'POST',
    path: '/v1/schedules/preview',
    body: JSON.stringify({ ...preview, principal: '1'.repeat(99_000) }),
  },
  {
    name: 'a 99 kB name',
    method: 'POST',
    path: '/v1/funds',
    body: JSON.stringify({ name: 'é'.repeat(49_000), region_code: '84', department_codes: ['69'] }),
    key: ADMIN_KEY,
  },
  {
    name: 'malformed JSON, 99 kB',
    method: 'POST',
    path: '/v1/funds',
    body: `{"name": "${'x'.repeat(99_000)}`,
    key: ADMIN_KEY,
  },
  {
    name: 'a wrong API key (401)',
    method: 'GET',
    path: '/v1/funds',
    key: 'sk_not-a-key-0123456789abcdefghijklmnopqrstuvwxyz',
  },
  {
    name: 'a query with 1,000 unknown parameters',
    method: 'GET',
    path: `/v1/funds?${Array.from({ length: 1000 }, (_, k) => `p${k}=${k}`).join('&')}`,
    key: ADMIN_KEY,
  },
];

async function main() {
  await withDatabase('loans_bench_hostile', async (databaseUrl) => {
    const db = await connectDatabase({ databaseUrl, dataDir: '' });
    await migrate(db);
    await db.destroy();
    const child = fork(path.join(__dirname, 'hostile-server.js'), {
      env: { ...process.env, BENCH_DATABASE_URL: databaseUrl, BENCH_ADMIN_KEY: ADMIN_KEY },
    });
    const { port } = await new Promise<{ port: number }>((resolve) =>
      child.once('message', (m) => resolve(m as { port: number })),
    );
    const cpu = () =>
      new Promise<number>((resolve) => {
        child.once('message', (m) => resolve((m as { cpuMicros: number }).cpuMicros));
        child.send('cpu');
      });
    const send = async (c: Case) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (c.key) headers.Authorization = `Bearer ${c.key}`;
      const res = await fetch(`http://127.0.0.1:${port}${c.path}`, {
        method: c.method,
        headers,
        body: c.body,
      });
      const text = await res.text();
      return { status: res.status, bytes: text.length };
    };
    const measure = async (c: Case) => {
      for (let k = 0; k < 5; k++) await send(c); // warm-up
      const before = await cpu();
      let answer = { status: 0, bytes: 0 };
      for (let k = 0; k < REQUESTS; k++) answer = await send(c);
      return { ...answer, msPerRequest: ((await cpu()) - before) / 1000 / REQUESTS };
    };
    console.log(
      `CPU of the API process per request, ${REQUESTS} requests of each kind one at a time after 5 of warm-up; node ${process.version}`,
    );
    const baseline = await measure(CASES[0]!);
    let worst = baseline.msPerRequest;
    for (const c of CASES) {
      const result = c === CASES[0] ? baseline : await measure(c);
      worst = Math.max(worst, result.msPerRequest);
      const size = c.body ? `${(Buffer.byteLength(c.body) / 1024).toFixed(1)} kB` : 'no body';
      console.log(
        `${c.name.padEnd(52)} ${size.padStart(9)} → ${result.status} (${result.bytes} B)  ${result.msPerRequest.toFixed(2).padStart(6)} ms  ×${(result.msPerRequest / baseline.msPerRequest).toFixed(2)} the baseline`,
      );
    }
    console.log(
      `worst: ${worst.toFixed(2)} ms of CPU per request (target: none above ${CEILING_MS} ms)`,
    );
    child.send('stop');
    if (worst > CEILING_MS) process.exitCode = 1;
  });
}

void main();
