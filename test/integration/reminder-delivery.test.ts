/**
 * Reminder delivery (DOMAIN.md "Reminders"; issue 5): each reminder goes to the structure's webhook
 * (or the fund's), signed per the Standard Webhooks specification with the fund's secret — checked
 * here with the `standardwebhooks` library a partner portal would use — and by e-mail to the
 * structure's contact, through an SMTP server in this process. Failed attempts are retried with
 * backoff, then `failed` with the last error; an instalment paid since the scan is `skipped`. On a
 * database of this file's own: its workers process every job they find.
 */
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { createApp } from '../../src/app';
import type { Db } from '../../src/db/connect';
import { hashSecret } from '../../src/http/auth';
import { deliverReminder, type DeliveryDeps } from '../../src/reminders/deliver-reminder';
import { createTransport } from 'nodemailer';
import { startWorkers } from '../../workers/start';
import { ADMIN_KEY } from '../support/app';
import { expectContract } from '../support/contract';
import { isolatedDatabase } from '../support/db';
import { smtpReceiver, webhookReceiver } from '../support/receivers';
import { disbursedLoan, repay, servicingDesk, type Desk } from '../support/servicing';

let iso: Awaited<ReturnType<typeof isolatedDatabase>>;
let db: Db;
let app: Express;
let smtp: Awaited<ReturnType<typeof smtpReceiver>>;
const receivers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  iso = await isolatedDatabase('delivery');
  db = iso.db;
  app = createApp({ logger: pino({ level: 'silent' }), db, adminKeyHash: hashSecret(ADMIN_KEY) });
  smtp = await smtpReceiver();
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await smtp.close();
  await iso.drop();
});

async function receiver(answer?: Parameters<typeof webhookReceiver>[0]) {
  const made = await webhookReceiver(answer);
  receivers.push(made);
  return made;
}

interface ReminderView { id: string; loan_id: string; instalment_number: number; due_date: string; kind: string; offset_days: number; status: string; attempts: number; last_error: string | null; sent_at: string | null; webhook_sent_at: string | null; email_sent_at: string | null }

async function remindersOf(desk: Desk, loanId: string): Promise<ReminderView[]> {
  const res = await desk.api.get(`/v1/reminders?loan_id=${loanId}`);
  expectContract(res, 'get', '/v1/reminders');
  return res.body.items as ReminderView[];
}

/** A loan of 10,000.00 at 12 % from 2025-01-15, scanned as of 2025-02-12: instalment 1 (due 2025-02-15), 15 and 3 days before. */
async function loanWithTwoReminders(desk: Desk) {
  const loan = await disbursedLoan(desk);
  const scan = await desk.api.post('/v1/reminders/scan', { as_of: '2025-02-12' });
  expect(scan.status).toBe(200);
  const reminders = await remindersOf(desk, loan.id);
  expect(reminders.map((r) => `${r.kind} ${r.offset_days}`).sort()).toEqual(['before_due 15', 'before_due 3']);
  return { loan, reminders };
}

async function secretOf(desk: Desk): Promise<string> {
  const res = await desk.api.get(`/v1/funds/${desk.fund.id}/webhook-secret`);
  expectContract(res, 'get', '/v1/funds/{fundId}/webhook-secret');
  expect(res.status).toBe(200);
  expect(res.headers['cache-control']).toBe('no-store');
  return res.body.secret as string;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const deps = (overrides: Partial<DeliveryDeps> = {}): DeliveryDeps => ({ db, mailer: undefined, webhookTimeoutMs: 2_000, now: () => new Date(), ...overrides });

describe('reminder delivery through the workers (BullMQ on real Redis)', () => {
  it('posts each reminder, signed, to the fund’s webhook and e-mails it once; a failed attempt is retried, and the e-mail not sent again', async () => {
    const hooks = await receiver((n) => ({ status: n === 1 ? 503 : 204 }));
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    const { loan, reminders } = await loanWithTwoReminders(desk);
    const workers = await startWorkers({
      db, redisUrl: 'redis://127.0.0.1:6379', logger: pino({ level: 'silent' }), queuePrefix: `test-delivery-${randomUUID()}`, relayIntervalMs: 50,
      reminders: { smtpUrl: smtp.url, mailFrom: 'fonds@example.org', webhookTimeoutMs: 2_000, attempts: 3, backoffMs: 100 },
    });
    try {
      await until(async () => (await remindersOf(desk, loan.id)).every((r) => r.status === 'sent'), 'both reminders sent');
    } finally {
      await workers.close();
    }

    const delivered = await remindersOf(desk, loan.id);
    // One of them met the 503 first: two attempts for it, one for the other; no error once sent.
    expect(delivered.map((r) => r.attempts).sort()).toEqual([1, 2]);
    expect(delivered.every((r) => r.last_error === null && r.sent_at !== null && r.webhook_sent_at !== null && r.email_sent_at !== null)).toBe(true);

    expect(hooks.calls).toHaveLength(3);
    const verifier = new Webhook(await secretOf(desk));
    const schedule = await desk.api.get(`/v1/loans/${loan.id}/schedule`);
    for (const call of hooks.calls) {
      const payload = verifier.verify(call.body, call.headers as Record<string, string>) as { type: string; data: Record<string, unknown> };
      const reminder = reminders.find((r) => r.id === call.headers['webhook-id'])!;
      expect(payload).toMatchObject({
        type: 'reminder.before_due',
        data: {
          reminder_id: reminder.id, loan_id: loan.id, fund_id: desk.fund.id, structure_id: desk.structure.id, instalment_number: 1,
          due_date: '2025-02-15', kind: 'before_due', offset_days: reminder.offset_days, amount_due: schedule.body.instalments[0].total,
          amount_unpaid: schedule.body.instalments[0].total, currency: 'EUR',
        },
      });
    }
    expect(new Set(hooks.calls.map((c) => c.headers['webhook-id']))).toEqual(new Set(reminders.map((r) => r.id)));
    // A signature under another fund's secret does not verify.
    const other = await servicingDesk(app);
    expect(() => new Webhook(`whsec_${Buffer.from(randomUUID()).toString('base64')}`).verify(hooks.calls[0]!.body, hooks.calls[0]!.headers as Record<string, string>)).toThrow();
    expect(await secretOf(other)).not.toBe(await secretOf(desk));

    const mails = smtp.mails.filter((m) => reminders.some((r) => m.messageId.includes(r.id)));
    expect(mails).toHaveLength(2);
    expect(mails.every((m) => m.to.join() === 'tresorerie@example.org' && m.subject === 'Repayment reminder: instalment 1 is due on 2025-02-15')).toBe(true);
  });
});

describe('one delivery attempt (src/reminders/deliver-reminder.ts)', () => {
  it('retries a webhook that fails, then gives up as `failed` with the last error; a delivered or failed reminder is never sent again', async () => {
    const hooks = await receiver(() => ({ status: 500 }));
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    const { reminders: [reminder] } = await loanWithTwoReminders(desk);
    await expect(deliverReminder(deps(), reminder!.id, false)).rejects.toThrow('webhook: webhook answered HTTP 500');
    const loanId = reminder!.loan_id;
    expect((await remindersOf(desk, loanId)).find((r) => r.id === reminder!.id)).toMatchObject({ status: 'pending', attempts: 1, last_error: 'webhook: webhook answered HTTP 500' });
    expect(await deliverReminder(deps(), reminder!.id, true)).toBe('failed');
    expect((await remindersOf(desk, loanId)).find((r) => r.id === reminder!.id)).toMatchObject({ status: 'failed', attempts: 2, last_error: 'webhook: webhook answered HTTP 500', sent_at: null });
    expect(await deliverReminder(deps(), reminder!.id, true)).toBe('done already');
    expect(hooks.calls).toHaveLength(2);
  });

  it('skips a reminder whose instalment was paid between the scan and the delivery', async () => {
    const hooks = await receiver();
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    const { loan, reminders } = await loanWithTwoReminders(desk);
    const schedule = await desk.api.get(`/v1/loans/${loan.id}/schedule`);
    expect((await repay(desk, loan.id, { amount: schedule.body.instalments[0].total, value_date: '2025-02-13' })).status).toBe(201);
    expect(await deliverReminder(deps(), reminders[0]!.id, false)).toBe('skipped');
    expect((await remindersOf(desk, loan.id)).find((r) => r.id === reminders[0]!.id)).toMatchObject({ status: 'skipped', attempts: 0, sent_at: null });
    expect(hooks.calls).toHaveLength(0);
  });

  it('a webhook that does not answer in time is a failed attempt', async () => {
    const hooks = await receiver(() => ({ status: 200, delayMs: 1_500 }));
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    const { reminders: [reminder] } = await loanWithTwoReminders(desk);
    await expect(deliverReminder(deps({ webhookTimeoutMs: 200 }), reminder!.id, false)).rejects.toThrow('webhook: webhook did not answer within 200 ms');
  });

  it('the structure’s webhook, when it has one, takes the structure’s reminders rather than the fund’s', async () => {
    const fundHooks = await receiver();
    const structureHooks = await receiver();
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: fundHooks.url }, structure: { webhook_url: structureHooks.url } });
    const { reminders: [reminder] } = await loanWithTwoReminders(desk);
    expect(await deliverReminder(deps(), reminder!.id, false)).toBe('sent');
    expect(fundHooks.calls).toHaveLength(0);
    expect(structureHooks.calls.map((c) => c.headers['webhook-id'])).toEqual([reminder!.id]);
  });

  it('a fund that reminds by e-mail only sends no webhook; one whose channels have nowhere to go fails at once, saying why', async () => {
    const hooks = await receiver();
    const mailer = { transport: createTransport(smtp.url), from: 'fonds@example.org' };
    try {
      const byMail = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url, reminder_channels: ['email'] }, structure: { contact_email: 'gestion@example.net' } });
      expect(byMail.fund).toMatchObject({ reminder_channels: ['email'] });
      const { reminders: [reminder] } = await loanWithTwoReminders(byMail);
      expect(await deliverReminder(deps({ mailer }), reminder!.id, false)).toBe('sent');
      expect(hooks.calls).toHaveLength(0);
      expect(smtp.mails.filter((m) => m.messageId.includes(reminder!.id)).map((m) => m.to)).toEqual([['gestion@example.net']]);

      const nowhere = await servicingDesk(app);
      const { loan, reminders: [lost] } = await loanWithTwoReminders(nowhere);
      expect(await deliverReminder(deps(), lost!.id, false)).toBe('failed');
      expect((await remindersOf(nowhere, loan.id)).find((r) => r.id === lost!.id)).toMatchObject({
        status: 'failed', attempts: 1, last_error: 'no channel can take it: channels webhook, email; no webhook_url on the structure or the fund, no SMTP server',
      });
    } finally {
      mailer.transport.close();
    }
  });
});
