/**
 * The two servers bench/repayments.ts compares, in a process of their own so that autocannon does
 * not share their event loop: the full API, and a bare Express route that stores the same request
 * as one row in one transaction (BEGIN; INSERT; COMMIT) — no key, no validation, no idempotency,
 * no replay, no ledger, no audit.
 *
 * With BENCH_SQL_PROFILE set, from a 'mark' message to a 'report' one, every statement is counted
 * and timed (from client.query to its answer, so waits on locks count), with this process's CPU and
 * that of the PostgreSQL backends it talks to; with BENCH_PROFILE=<dir> too, a CPU profile of the span.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import express from 'express';
import type { Generated } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { createApp } from '../src/app';
import { connectDatabase } from '../src/db/connect';

type BenchTables = {
  bench_repayments: {
    id: Generated<string>;
    loan_id: string;
    amount: string;
    value_date: string;
    idempotency_key: string;
  };
};

const statements = new Map<string, { count: number; ms: number }>();
const backends = new Set<number>();
const lockedAt = new WeakMap<pg.Client, number>();
let held = { count: 0, ms: 0 }; // advisory locks, from granted to the transaction's end
let mark = { cpu: process.cpuUsage(), backendsMs: new Map<number, number>() };
const session = new Session();

/** Wraps node-postgres's query, which both servers' pools use, to count and time statements. */
function profileStatements(): void {
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (
    this: pg.Client & { processID: number },
    ...args: unknown[]
  ) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text;
    const started = performance.now();
    backends.add(this.processID);
    const result = query.apply(this, args);
    if (!(result instanceof Promise)) return result;
    return result.finally(() => {
      if (text.includes('pg_advisory_xact_lock')) lockedAt.set(this, performance.now());
      if ((text === 'commit' || text === 'rollback') && lockedAt.has(this)) {
        held.count += 1;
        held.ms += performance.now() - lockedAt.get(this)!;
        lockedAt.delete(this);
      }
      const shape = text.replace(/\s+/g, ' ').slice(0, 100);
      const entry = statements.get(shape) ?? { count: 0, ms: 0 };
      entry.count += 1;
      entry.ms += performance.now() - started;
      statements.set(shape, entry);
    });
  } as typeof pg.Client.prototype.query;
}

/**
 * CPU milliseconds (user + system) each backend still open has used, from Linux's /proc/<pid>/stat.
 * A backend the pool closed went idle first (pg-pool closes clients idle for 10 s), so it is not missed.
 */
function backendsCpuMs(): Map<number, number> {
  const used = new Map<number, number>();
  for (const pid of backends) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      backends.delete(pid);
      continue;
    }
    const fields = stat.split(') ')[1]!.split(' ');
    used.set(pid, (Number(fields[11]) + Number(fields[12])) * 10); // utime + stime, in clock ticks of 10 ms
  }
  return used;
}

function backendsCpuSinceMark(): number {
  let ms = 0;
  for (const [pid, now] of backendsCpuMs()) ms += now - (mark.backendsMs.get(pid) ?? 0);
  return ms;
}

async function markProfile(): Promise<void> {
  statements.clear();
  held = { count: 0, ms: 0 };
  mark = { cpu: process.cpuUsage(), backendsMs: backendsCpuMs() };
  if (process.env.BENCH_PROFILE) await session.post('Profiler.start');
}

/** Per answered request since the mark: statements (count, ms from query to answer), then CPU. */
async function printProfile(requests: number, name: string): Promise<void> {
  const rows = [...statements.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const all = rows.reduce((sum, [, s]) => ({ count: sum.count + s.count, ms: sum.ms + s.ms }), {
    count: 0,
    ms: 0,
  });
  console.log(
    `per request (${requests} answered): statements sent, ms from query to answer (summed over connections)`,
  );
  for (const [shape, { count, ms }] of [...rows, ['all', all] as const]) {
    console.log(
      `${(count / requests).toFixed(2).padStart(7)} ${(ms / requests).toFixed(2).padStart(8)} ms  ${shape}`,
    );
  }
  if (held.count > 0)
    console.log(
      `advisory lock held from granted to commit answered: mean ${(held.ms / held.count).toFixed(2)} ms`,
    );
  const cpu = process.cpuUsage(mark.cpu);
  const perRequest = (ms: number) => `${(ms / requests).toFixed(2)} ms`;
  console.log(
    `CPU per request: servers' Node process ${perRequest((cpu.user + cpu.system) / 1000)} (user ${perRequest(cpu.user / 1000)}, system ${perRequest(cpu.system / 1000)}), PostgreSQL backends ${perRequest(backendsCpuSinceMark())}`,
  );
  if (process.env.BENCH_PROFILE) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(
      path.join(process.env.BENCH_PROFILE, `${name}.cpuprofile`),
      JSON.stringify(profile),
    );
  }
}

async function serve() {
  if (process.env.BENCH_SQL_PROFILE) profileStatements();
  if (process.env.BENCH_PROFILE) {
    session.connect();
    await session.post('Profiler.enable');
  }
  const databaseUrl = process.env.BENCH_DATABASE_URL!;
  const db = await connectDatabase({ databaseUrl, dataDir: '', poolSize: 10 });
  const api = createApp({ logger: pino({ level: 'silent' }), db, adminKeyHash: undefined }).listen(
    0,
  );

  const bareDb = (
    await connectDatabase({ databaseUrl, dataDir: '', poolSize: 10 })
  ).withTables<BenchTables>();
  const bare = express();
  bare.use(express.json());
  bare.post('/bare/loans/:loan_id/repayments', async (req, res) => {
    const body = req.body as { amount: string; value_date: string };
    const row = await bareDb.transaction().execute((trx) =>
      trx
        .insertInto('bench_repayments')
        .values({
          loan_id: req.params.loan_id,
          amount: body.amount,
          value_date: body.value_date,
          idempotency_key: String(req.get('Idempotency-Key')),
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    res.status(201).json(row);
  });
  const bareServer = bare.listen(0);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const port = (server: typeof api) => (server.address() as { port: number }).port;
  process.send!({ api: port(api), bare: port(bareServer) });
  process.on(
    'message',
    async (message: { kind: 'mark' | 'report' | 'stop'; requests?: number; name?: string }) => {
      if (message.kind !== 'stop') {
        await (message.kind === 'mark'
          ? markProfile()
          : printProfile(message.requests!, message.name!));
        process.send!('done');
        return;
      }
      api.close();
      bareServer.close();
      await db.destroy();
      await bareDb.destroy();
      process.exit(0);
    },
  );
}

void serve();
