/**
 * A worker process killed in the middle of a batch (issue 5): `npm run worker`'s entry point
 * (workers/main.ts, run here through tsx) delivers a fund's reminders to a webhook that answers
 * slowly; SIGKILL stops it with jobs under way; a second one started after it finishes the batch.
 * Every reminder is then sent, and delivered under its one `webhook-id`: a job killed between the
 * receiver's answer and the stamp is posted again with the same id and signature scheme, which a
 * Standard Webhooks receiver drops. The second worker then stops cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Express } from 'express';
import { sql } from 'kysely';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { createApp } from '../../src/app';
import { hashSecret } from '../../src/http/auth';
import { ADMIN_KEY, LOCAL_RECEIVERS } from '../support/app';
import { isolatedDatabase } from '../support/db';
import { until } from '../support/until';
import { webhookReceiver } from '../support/receivers';
import { disbursedLoan, servicingDesk } from '../support/servicing';

const CONCURRENCY = 8; // the reminders queue's, in workers/start.ts
let iso: Awaited<ReturnType<typeof isolatedDatabase>>;
let app: Express;
const children: ChildProcess[] = [];

beforeAll(async () => {
  iso = await isolatedDatabase('killed');
  app = createApp({
    logger: pino({ level: 'silent' }),
    db: iso.db,
    adminKeyHash: hashSecret(ADMIN_KEY),
    outbound: LOCAL_RECEIVERS,
  });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await iso.drop();
});

function startWorkerProcess(prefix: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: `${__dirname}/../..`,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: iso.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      WEBHOOK_ALLOW_INSECURE: 'true',
      // A dead worker's jobs come back after about 5 s; its claims on reminders (4 × timeout + 10 s) within 14 s.
      JOB_LOCK_MS: '5000',
      REMINDER_BACKOFF_MS: '200',
      WEBHOOK_TIMEOUT_MS: '1000',
    },
  });
  children.push(child);
  return child;
}

const statuses = async () =>
  (
    await sql<{
      status: string;
      n: number;
    }>`SELECT status, count(*)::int AS n FROM reminders GROUP BY status`.execute(iso.db)
  ).rows;

it('a worker killed mid-batch and started again: every due reminder sent, each under one webhook-id', async () => {
  const hooks = await webhookReceiver(() => ({ status: 200, delayMs: 150 }));
  try {
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    for (let k = 0; k < 10; k++) await disbursedLoan(desk);
    // As of 2025-04-20, each loan has instalments 1 to 3 unpaid: 3 + 3 + 1 after-due reminders.
    const scan = await desk.api.post('/v1/reminders/scan', { as_of: '2025-04-20' });
    expect(scan.body.created).toBe(70);

    const prefix = `test-kill-${randomUUID()}`;
    const first = startWorkerProcess(prefix);
    let firstStderr = '';
    first.stderr!.on('data', (chunk: Buffer) => (firstStderr += chunk.toString()));
    await until(
      () => hooks.calls.length >= 12 || first.exitCode !== null,
      'the first worker to deliver a dozen',
      30_000,
    );
    expect({ exitCode: first.exitCode, firstStderr }).toEqual({ exitCode: null, firstStderr: '' });
    const exited = once(first, 'exit');
    first.kill('SIGKILL');
    await exited;
    const atKill = hooks.calls.length;
    expect(atKill).toBeLessThan(70); // killed in the middle, not after the batch

    const second = startWorkerProcess(prefix);
    let stderr = '';
    second.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await until(
      async () => (await statuses()).some((s) => s.status === 'sent' && s.n === 70),
      'every reminder sent',
      60_000,
    );
    second.kill('SIGTERM');
    const [code] = await once(second, 'exit');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });

    expect(await statuses()).toEqual([{ status: 'sent', n: 70 }]);
    const { rows: unsent } = await sql`SELECT 1 FROM outbox WHERE sent_at IS NULL`.execute(iso.db);
    expect(unsent).toHaveLength(0);

    const secret = (await desk.api.get(`/v1/funds/${desk.fund.id}/webhook-secret`)).body
      .secret as string;
    const bodies = new Map<string, string>();
    for (const call of hooks.calls) {
      const payload = new Webhook(secret).verify(
        call.body,
        call.headers as Record<string, string>,
      ) as { data: unknown };
      const id = call.headers['webhook-id'] as string;
      const data = JSON.stringify(payload.data);
      expect(bodies.get(id) ?? data).toBe(data); // a repeat says the same thing
      bodies.set(id, data);
    }
    const { rows: ids } = await sql<{ id: string }>`SELECT id FROM reminders`.execute(iso.db);
    expect(new Set(bodies.keys())).toEqual(new Set(ids.map((r) => r.id)));
    // Posted again: the jobs under way when the worker died (the last POST it made was still waiting
    // for its answer), and no more than them.
    expect(hooks.calls.length - bodies.size).toBeGreaterThanOrEqual(1);
    expect(hooks.calls.length - bodies.size).toBeLessThanOrEqual(CONCURRENCY);
  } finally {
    await hooks.close();
  }
}, 120_000);
