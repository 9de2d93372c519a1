/**
 * npm run bench:events — the webhook dispatcher's fan-out (workers/webhooks.ts) against a bare posting
 * loop to the same endpoints (bench/event-receivers.ts). Method and figures: docs/benchmarks.md,
 * "Webhook fan-out vs a bare posting loop".
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import pino from 'pino';
import { connectDatabase, type Db } from '../src/db/connect';
import { migrate } from '../src/db/migrate';
import { executeWrites } from '../src/db/writes';
import { eventWrites } from '../src/events/publish-events';
import { ADMIN, type RequestContext } from '../src/http/auth';
import { createWebhookEndpoint } from '../src/webhooks/create-webhook-endpoint';
import type { WebhookDelivery } from '../src/webhooks/deliver-webhook';
import { postJson } from '../src/http/outbound';
import { startWebhookDispatcher } from '../workers/webhooks';
import { benchFund, withDatabase } from './database';

const EVENTS = 10_000;
const LOANS = 1_000;
const BATCH = 200;
const PER_ENDPOINT = 4;
const SETTINGS: WebhookDelivery = {
  policy: { allowInsecure: true },
  timeoutMs: 10_000,
  backoffMs: 100,
  maxBackoffMs: 1000,
  disableAfterMs: 3_600_000,
  concurrency: 5 * PER_ENDPOINT,
  perEndpoint: PER_ENDPOINT,
};

interface Taken {
  event: string;
  loan: string | null;
  at: number;
}
type Receivers = ReturnType<typeof startReceivers>;

function startReceivers() {
  const child = fork(path.join(__dirname, 'event-receivers.js'));
  const ask = <T>(message: string, key: string) =>
    new Promise<T>((resolve) => {
      const listen = (reply: Record<string, unknown>) => {
        if (!(key in reply)) return;
        child.off('message', listen);
        resolve(reply[key] as T);
      };
      child.on('message', listen);
      if (message) child.send(message);
    });
  return { ports: ask<Record<string, number>>('', 'ports'), ask, close: () => child.send('exit') };
}

/** When each endpoint had taken its last delivery, in ms after `started`. */
const doneAfter = (report: Record<string, Taken[]>, started: number) =>
  Object.fromEntries(
    Object.entries(report).map(([name, list]) => [
      name,
      Math.max(...list.map((item) => item.at)) - started,
    ]),
  );

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

/** A repayment event as the API writes one (the body is about 1.3 kB, like a real one). */
function repaymentData(loanId: string, n: number) {
  return {
    id: randomUUID(),
    loan_id: loanId,
    amount: '250.00',
    value_date: '2025-02-15',
    reference: `VIR-${n}`,
    prepayment: 'reduce_instalment',
    kind: 'repayment',
    status: 'standing',
    allocations: [
      {
        number: 1,
        due_date: '2025-02-15',
        fees: '0.00',
        late_interest: '0.00',
        interest: '41.67',
        principal: '208.33',
      },
    ],
    principal_allocated: '208.33',
    interest_allocated: '41.67',
    principal_prepaid: '0.00',
    excess: '0.00',
    recovered: '0.00',
    reversed_at: null,
    reversal_reason: null,
    created_at: new Date().toISOString(),
    loan: {
      id: loanId,
      status: 'active',
      outstanding_principal: '9791.67',
      schedule_version: 1,
      restructured: false,
    },
  };
}

function plannedEvents(count: number, loans: string[]) {
  return Array.from({ length: count }, (_, n) => {
    const loanId = loans[Math.floor(Math.random() * loans.length)]!;
    return {
      type: 'repayment.recorded' as const,
      fundId: '',
      structureId: randomUUID(),
      loanId,
      data: repaymentData(loanId, n),
    };
  });
}

async function waitForCount(receivers: Receivers, expected: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await receivers.ask<number>('count', 'count');
    if (count >= expected) return;
    if (Date.now() > deadline)
      throw new Error(`only ${count} of ${expected} deliveries after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The bare loop: per endpoint, PER_ENDPOINT loops posting the bodies in turn, retrying a failure at once. */
async function bareLoop(bodies: string[], ports: Record<string, number>): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Object.values(ports).map(async (port) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: PER_ENDPOINT }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++]!;
            for (;;) {
              const outcome = await postJson(
                `http://127.0.0.1:${port}/hook`,
                body,
                { 'webhook-id': 'bare' },
                { policy: SETTINGS.policy, timeoutMs: SETTINGS.timeoutMs },
              );
              if (outcome.error === null) break;
            }
          }
        }),
      );
    }),
  );
  return performance.now() - started;
}

/** Commits the events in transactions of BATCH, `perSecond` at most (undefined: as fast as it can); returns each event's commit time. */
async function commitEvents(
  db: Db,
  events: ReturnType<typeof plannedEvents>,
  perSecond?: number,
): Promise<Map<string, number>> {
  const committed = new Map<string, number>();
  const batch = perSecond === undefined ? BATCH : Math.max(1, Math.round(perSecond / 20));
  const started = Date.now();
  for (let i = 0; i < events.length; i += batch) {
    if (perSecond !== undefined) {
      const due = started + (i / perSecond) * 1000;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    }
    const slice = events.slice(i, i + batch);
    await db
      .transaction()
      .execute((trx) => executeWrites(trx, eventWrites('bench-request', slice)));
    const at = Date.now();
    for (const event of slice) committed.set(event.data.id, at);
  }
  return committed;
}

/** Checks nothing was lost and each endpoint took each loan's events in commit order; returns commit→delivery times. */
async function check(
  db: Db,
  receivers: Receivers,
  endpoints: number,
  events: number,
  committedByData: Map<string, number>,
) {
  const report = await receivers.ask<Record<string, Taken[]>>('report', 'taken');
  const rows = await db.selectFrom('events').select(['id', 'seq', 'data']).execute();
  const seqOf = new Map(rows.map((row) => [row.id, Number(row.seq)]));
  const dataIdOf = new Map(rows.map((row) => [row.id, (row.data as { id: string }).id]));
  const latencies: number[] = [];
  let outOfOrder = 0;
  let missing = 0;
  let duplicates = 0;
  for (const list of Object.values(report)) {
    const seen = new Set<string>();
    const lastSeq = new Map<string, number>();
    for (const item of list) {
      if (seen.has(item.event)) duplicates += 1;
      seen.add(item.event);
      const seq = seqOf.get(item.event)!;
      if (item.loan && (lastSeq.get(item.loan) ?? -1) > seq) outOfOrder += 1;
      if (item.loan) lastSeq.set(item.loan, seq);
      const committed = committedByData.get(dataIdOf.get(item.event)!);
      if (committed !== undefined) latencies.push(item.at - committed);
    }
    missing += events - seen.size;
  }
  if (Object.keys(report).length !== endpoints) throw new Error('not every endpoint reported');
  return { latencies, outOfOrder, missing, duplicates };
}

async function main() {
  await withDatabase('bench_events', async (url) => {
    const db = await connectDatabase({ databaseUrl: url, dataDir: '' });
    const receivers = startReceivers();
    try {
      await migrate(db);
      const admin: RequestContext = { actor: ADMIN, requestId: 'bench' };
      const { fund } = await benchFund(db, admin, 'Bench events fund');
      const ports = await receivers.ports;
      for (const [name, port] of Object.entries(ports)) {
        await createWebhookEndpoint(
          db,
          admin,
          {
            url: `http://127.0.0.1:${port}/hook`,
            event_types: ['repayment.recorded'],
            description: name,
            fund_id: fund.id,
          },
          SETTINGS.policy,
        );
      }
      const loans = Array.from({ length: LOANS }, () => randomUUID());
      const burst = plannedEvents(EVENTS, loans).map((event) => ({ ...event, fundId: fund.id }));
      const endpoints = Object.keys(ports).length;

      // The bare loop, on the same bodies (as the dispatcher will send them, but for their ids).
      const bodies = burst.map((event, n) =>
        JSON.stringify({
          id: randomUUID(),
          type: event.type,
          created_at: new Date().toISOString(),
          fund_id: fund.id,
          structure_id: event.structureId,
          loan_id: event.loanId,
          request_id: 'bench-request',
          data: event.data,
          n,
        }),
      );
      const bareStarted = Date.now();
      const bareMs = await bareLoop(bodies, ports);
      await waitForCount(receivers, EVENTS * endpoints, 10_000);
      const bareDone = doneAfter(
        await receivers.ask<Record<string, Taken[]>>('report', 'taken'),
        bareStarted,
      );
      const bareRate = (EVENTS * endpoints) / (bareMs / 1000);
      await receivers.ask('reset', 'reset');

      // The dispatcher, the events committed while it runs.
      const dispatcher = startWebhookDispatcher({
        db,
        settings: SETTINGS,
        logger: pino({ level: 'silent' }),
        intervalMs: 20,
      });
      const started = Date.now();
      const committed = await commitEvents(db, burst);
      const commitMs = Date.now() - started;
      await waitForCount(receivers, EVENTS * endpoints, 600_000);
      const burstChecks = await check(db, receivers, endpoints, EVENTS, committed);
      const report = await receivers.ask<Record<string, Taken[]>>('report', 'taken');
      const finished = Math.max(
        ...Object.values(report)
          .flat()
          .map((item) => item.at),
      );
      const ourDone = doneAfter(report, started);
      const seconds = (done: Record<string, number>) =>
        Object.entries(done)
          .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`)
          .join(', ');
      // The four endpoints that answer (all but the flaky one): how long until they had everything.
      const steady = (done: Record<string, number>) =>
        Math.max(
          ...Object.entries(done)
            .filter(([name]) => name !== 'flaky')
            .map(([, ms]) => ms),
        );
      const ourMs = finished - started;
      const ourRate = (EVENTS * endpoints) / (ourMs / 1000);
      const attempts = Number(
        (
          await db
            .selectFrom('webhook_attempts')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

      // Paced: well under capacity.
      await receivers.ask('reset', 'reset');
      const paced = plannedEvents(2_000, loans).map((event) => ({ ...event, fundId: fund.id }));
      const pacedCommitted = await commitEvents(db, paced, 100);
      await waitForCount(receivers, paced.length * endpoints, 120_000);
      const pacedChecks = await check(db, receivers, endpoints, paced.length, pacedCommitted);
      await dispatcher.stop();

      const lat = (values: number[]) =>
        `p50 ${percentile(values, 0.5)} ms, p99 ${percentile(values, 0.99)} ms`;
      console.log(
        `bench:events — ${EVENTS} events × ${endpoints} endpoints (3 fast, 1 answering after 5 ms, 1 failing half the time), ${LOANS} loans, ${PER_ENDPOINT} requests under way per endpoint`,
      );
      console.log(
        `  bare loop (HTTP only, from memory):   ${EVENTS * endpoints} deliveries in ${(bareMs / 1000).toFixed(1)} s = ${bareRate.toFixed(0)} deliveries/s`,
      );
      console.log(
        `  dispatcher (PostgreSQL, signed, logged): ${EVENTS * endpoints} deliveries in ${(ourMs / 1000).toFixed(1)} s = ${ourRate.toFixed(0)} deliveries/s (events committed in ${(commitMs / 1000).toFixed(1)} s; ${attempts} attempts)`,
      );
      console.log(
        `  each endpoint had all its deliveries after — bare loop: ${seconds(bareDone)}; dispatcher: ${seconds(ourDone)}`,
      );
      console.log(
        `  ratio dispatcher / bare loop: ${(ourRate / bareRate).toFixed(2)} (target ≥ 0.5); over the four endpoints that answer: ${(steady(bareDone) / steady(ourDone)).toFixed(2)}`,
      );
      console.log(
        `  burst, commit → delivery: ${lat(burstChecks.latencies)}; lost ${burstChecks.missing}, out of order per loan ${burstChecks.outOfOrder}, delivered twice ${burstChecks.duplicates}`,
      );
      console.log(
        `  paced (2,000 events at 100/s), commit → delivery: ${lat(pacedChecks.latencies)}; lost ${pacedChecks.missing}, out of order per loan ${pacedChecks.outOfOrder}, delivered twice ${pacedChecks.duplicates}`,
      );
      if (burstChecks.missing > 0 || burstChecks.outOfOrder > 0 || pacedChecks.outOfOrder > 0)
        process.exitCode = 1;
    } finally {
      receivers.close();
      await db.destroy();
    }
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
