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
import { sql } from 'kysely';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { createApp } from '../../src/app';
import type { Db } from '../../src/db/connect';
import { addMonths, type CalendarDate } from '../../src/domain/dates';
import { hashSecret } from '../../src/http/auth';
import { deliverReminder, type DeliveryDeps } from '../../src/reminders/deliver-reminder';
import { RetryLater } from '../../src/queues/retry-later';
import { requeuePendingReminders } from '../../src/reminders/reminders.repository';
import { createTransport } from 'nodemailer';
import { startWorkers } from '../../workers/start';
import { ADMIN_KEY, LOCAL_RECEIVERS } from '../support/app';
import { expectContract } from '../support/contract';
import { isolatedDatabase } from '../support/db';
import { until } from '../support/until';
import { smtpReceiver, webhookReceiver } from '../support/receivers';
import { disbursedLoan, repay, servicingDesk, type Desk } from '../support/servicing';

let iso: Awaited<ReturnType<typeof isolatedDatabase>>;
let db: Db;
let app: Express;
let smtp: Awaited<ReturnType<typeof smtpReceiver>>;
const receivers: { close(): Promise<void> }[] = [];
/** The API's "today" (the day of the scans); the workers deliver on the real date, later. */
const SCANNED_ON = '2026-03-16' as CalendarDate;

beforeAll(async () => {
  iso = await isolatedDatabase('delivery');
  db = iso.db;
  app = createApp({
    logger: pino({ level: 'silent' }),
    db,
    adminKeyHash: hashSecret(ADMIN_KEY),
    outbound: LOCAL_RECEIVERS,
    today: () => SCANNED_ON,
  });
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

interface ReminderView {
  id: string;
  loan_id: string;
  instalment_number: number;
  due_date: string;
  kind: string;
  offset_days: number;
  status: string;
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
  webhook_sent_at: string | null;
  email_sent_at: string | null;
}

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
  expect(reminders.map((r) => `${r.kind} ${r.offset_days}`).sort()).toEqual([
    'before_due 15',
    'before_due 3',
  ]);
  return { loan, reminders };
}

async function secretOf(desk: Desk): Promise<string> {
  const res = await desk.api.get(`/v1/funds/${desk.fund.id}/webhook-secret`);
  expectContract(res, 'get', '/v1/funds/{fund_id}/webhook-secret');
  expect(res.status).toBe(200);
  expect(res.headers['cache-control']).toBe('no-store');
  return res.body.secret as string;
}

const deps = (overrides: Partial<DeliveryDeps> = {}): DeliveryDeps => ({
  db,
  mailer: undefined,
  timeoutMs: 2_000,
  outbound: LOCAL_RECEIVERS,
  now: () => new Date(),
  today: () => '2025-02-13' as CalendarDate,
  ...overrides,
});

describe('reminder delivery through the workers (BullMQ on real Redis)', () => {
  it('posts each reminder, signed, to the fund’s webhook and e-mails it once; a failed attempt is retried, and the e-mail not sent again', async () => {
    const hooks = await receiver((n) => ({ status: n === 1 ? 503 : 204 }));
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    // A loan disbursed two months and five days before the scan, never repaid, has after-due
    // reminders of its first two instalments to send, still owed when the workers deliver them.
    const disbursed = new Date(`${addMonths(SCANNED_ON, -2)}T00:00:00Z`);
    disbursed.setUTCDate(disbursed.getUTCDate() - 5);
    const loan = await disbursedLoan(desk, {
      disbursement_date: disbursed.toISOString().slice(0, 10),
    });
    expect((await desk.api.post('/v1/reminders/scan', {})).status).toBe(200);
    const reminders = await remindersOf(desk, loan.id);
    expect(reminders.length).toBeGreaterThanOrEqual(3);
    expect(reminders.every((r) => r.kind === 'after_due' && r.status === 'pending')).toBe(true);

    const workers = await startWorkers({
      db,
      redisUrl: 'redis://127.0.0.1:6379',
      logger: pino({ level: 'silent' }),
      queuePrefix: `test-delivery-${randomUUID()}`,
      relayIntervalMs: 50,
      outbound: LOCAL_RECEIVERS,
      reminders: {
        smtpUrl: smtp.url,
        mailFrom: 'fonds@example.org',
        webhookTimeoutMs: 5_000,
        attempts: 3,
        backoffMs: 100,
      },
    });
    try {
      await until(
        async () => (await remindersOf(desk, loan.id)).every((r) => r.status === 'sent'),
        'every reminder sent',
      );
    } finally {
      await workers.close();
    }

    const delivered = await remindersOf(desk, loan.id);
    // One of them met the 503 first: two attempts for it, one for each other; no error once sent.
    expect(delivered.map((r) => r.attempts).sort()).toEqual([
      ...reminders.slice(1).map(() => 1),
      2,
    ]);
    expect(
      delivered.every(
        (r) =>
          r.last_error === null &&
          r.sent_at !== null &&
          r.webhook_sent_at !== null &&
          r.email_sent_at !== null,
      ),
    ).toBe(true);

    expect(hooks.calls).toHaveLength(reminders.length + 1);
    const verifier = new Webhook(await secretOf(desk));
    const schedule = await desk.api.get(`/v1/loans/${loan.id}/schedule`);
    const instalments = schedule.body.instalments as {
      number: number;
      due_date: string;
      total: string;
    }[];
    for (const call of hooks.calls) {
      const payload = verifier.verify(call.body, call.headers as Record<string, string>) as {
        type: string;
        data: Record<string, unknown>;
      };
      const reminder = reminders.find((r) => r.id === call.headers['webhook-id'])!;
      const instalment = instalments.find((i) => i.number === reminder.instalment_number)!;
      expect(payload).toMatchObject({
        type: 'reminder.after_due',
        data: {
          reminder_id: reminder.id,
          loan_id: loan.id,
          fund_id: desk.fund.id,
          structure_id: desk.structure.id,
          instalment_number: instalment.number,
          due_date: instalment.due_date,
          kind: 'after_due',
          offset_days: reminder.offset_days,
          amount_due: instalment.total,
          amount_unpaid: instalment.total,
          currency: 'EUR',
        },
      });
    }
    // The retried message is the same message: same id, same body.
    const first = hooks.calls[0]!;
    expect(
      hooks.calls
        .filter((c) => c.headers['webhook-id'] === first.headers['webhook-id'])
        .map((c) => c.body),
    ).toEqual([first.body, first.body]);
    expect(new Set(hooks.calls.map((c) => c.headers['webhook-id']))).toEqual(
      new Set(reminders.map((r) => r.id)),
    );
    // A signature under another fund's secret does not verify.
    const other = await servicingDesk(app);
    const otherSecret = await secretOf(other);
    expect(otherSecret).not.toBe(await secretOf(desk));
    expect(() =>
      new Webhook(otherSecret).verify(first.body, first.headers as Record<string, string>),
    ).toThrow();

    const mails = smtp.mails.filter((m) => reminders.some((r) => m.messageId.includes(r.id)));
    expect(mails).toHaveLength(reminders.length);
    expect(
      mails.every(
        (m) =>
          m.to.join() === 'tresorerie@example.org' &&
          /^Repayment reminder: instalment \d+ was due on \d{4}-\d{2}-\d{2} and is unpaid$/.test(
            m.subject,
          ),
      ),
    ).toBe(true);
  });
});

describe('one delivery attempt (src/reminders/deliver-reminder.ts)', () => {
  it('retries a webhook that fails, then gives up as `failed` with the last error; a delivered or failed reminder is never sent again', async () => {
    const hooks = await receiver(() => ({ status: 500 }));
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    const {
      reminders: [reminder],
    } = await loanWithTwoReminders(desk);
    await expect(deliverReminder(deps(), reminder!.id, false)).rejects.toThrow(
      'webhook: webhook answered HTTP 500',
    );
    const loanId = reminder!.loan_id;
    expect((await remindersOf(desk, loanId)).find((r) => r.id === reminder!.id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_error: 'webhook: webhook answered HTTP 500',
    });
    expect(await deliverReminder(deps(), reminder!.id, true)).toBe('failed');
    expect((await remindersOf(desk, loanId)).find((r) => r.id === reminder!.id)).toMatchObject({
      status: 'failed',
      attempts: 2,
      last_error: 'webhook: webhook answered HTTP 500',
      sent_at: null,
    });
    expect(await deliverReminder(deps(), reminder!.id, true)).toBe('done already');
    expect(hooks.calls).toHaveLength(2);
  });

  it('skips a reminder whose instalment was paid between the scan and the delivery', async () => {
    const hooks = await receiver();
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    const { loan, reminders } = await loanWithTwoReminders(desk);
    const schedule = await desk.api.get(`/v1/loans/${loan.id}/schedule`);
    expect(
      (
        await repay(desk, loan.id, {
          amount: schedule.body.instalments[0].total,
          value_date: '2025-02-13',
        })
      ).status,
    ).toBe(201);
    expect(await deliverReminder(deps(), reminders[0]!.id, false)).toBe('skipped');
    expect((await remindersOf(desk, loan.id)).find((r) => r.id === reminders[0]!.id)).toMatchObject(
      { status: 'skipped', attempts: 0, sent_at: null },
    );
    expect(hooks.calls).toHaveLength(0);
  });

  it('two runs of one job at once send it once: the second finds it claimed and is put off until the claim ends, not failed', async () => {
    const hooks = await receiver(() => ({ status: 200, delayMs: 200 }));
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    const {
      reminders: [reminder],
    } = await loanWithTwoReminders(desk);
    const outcomes = await Promise.allSettled([
      deliverReminder(deps(), reminder!.id, true),
      deliverReminder(deps(), reminder!.id, true),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value)).toEqual(['sent']);
    const putOff = outcomes.find((o) => o.status === 'rejected')!.reason as RetryLater;
    expect(putOff).toBeInstanceOf(RetryLater);
    expect(putOff.delayMs).toBeGreaterThan(1000); // the claim outlasts an attempt (4 × timeout + 10 s)
    expect(hooks.calls).toHaveLength(1);
    await expect(deliverReminder(deps(), reminder!.id, false)).resolves.toBe('done already');
  });

  it('a before-due reminder delivered after the due date (a backlog) is skipped, not sent late', async () => {
    const hooks = await receiver();
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    const {
      reminders: [reminder],
    } = await loanWithTwoReminders(desk);
    expect(
      await deliverReminder(
        deps({ today: () => '2025-02-16' as CalendarDate }),
        reminder!.id,
        false,
      ),
    ).toBe('skipped');
    expect(hooks.calls).toHaveLength(0);
  });

  it('a receiver that answers 410 Gone gets no retry: failed at once', async () => {
    const hooks = await receiver(() => ({ status: 410 }));
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    const {
      loan,
      reminders: [reminder],
    } = await loanWithTwoReminders(desk);
    expect(await deliverReminder(deps(), reminder!.id, false)).toBe('failed');
    expect((await remindersOf(desk, loan.id)).find((r) => r.id === reminder!.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: 'webhook: webhook answered HTTP 410 Gone: no more retries',
    });
  });

  it('a webhook that does not answer in time is a failed attempt', async () => {
    const hooks = await receiver(() => ({ status: 200, delayMs: 1_500 }));
    const desk = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    const {
      reminders: [reminder],
    } = await loanWithTwoReminders(desk);
    await expect(deliverReminder(deps({ timeoutMs: 200 }), reminder!.id, false)).rejects.toThrow(
      'webhook: webhook did not answer within 200 ms',
    );
  });

  it('the structure’s webhook, when it has one, takes the structure’s reminders rather than the fund’s', async () => {
    const fundHooks = await receiver();
    const structureHooks = await receiver();
    const desk = await servicingDesk(app, 'common_law', {
      fund: { webhook_url: fundHooks.url },
      structure: { webhook_url: structureHooks.url },
    });
    const {
      reminders: [reminder],
    } = await loanWithTwoReminders(desk);
    expect(await deliverReminder(deps(), reminder!.id, false)).toBe('sent');
    expect(fundHooks.calls).toHaveLength(0);
    expect(structureHooks.calls.map((c) => c.headers['webhook-id'])).toEqual([reminder!.id]);
  });

  it('a fund that reminds by e-mail only sends no webhook; one whose channels have nowhere to go stays pending, saying why, until they have', async () => {
    const hooks = await receiver();
    const mailer = { transport: createTransport(smtp.url), from: 'fonds@example.org' };
    try {
      const byMail = await servicingDesk(app, 'common_law', {
        fund: { webhook_url: hooks.url, reminder_channels: ['email'] },
        structure: { contact_email: 'gestion@example.net' },
      });
      expect(byMail.fund).toMatchObject({ reminder_channels: ['email'] });
      const {
        reminders: [reminder],
      } = await loanWithTwoReminders(byMail);
      expect(await deliverReminder(deps({ mailer }), reminder!.id, false)).toBe('sent');
      expect(hooks.calls).toHaveLength(0);
      expect(smtp.mails.filter((m) => m.messageId.includes(reminder!.id)).map((m) => m.to)).toEqual(
        [['gestion@example.net']],
      );

      const nowhere = await servicingDesk(app);
      const {
        loan,
        reminders: [lost],
      } = await loanWithTwoReminders(nowhere);
      expect(await deliverReminder(deps(), lost!.id, false)).toBe('no channel');
      expect((await remindersOf(nowhere, loan.id)).find((r) => r.id === lost!.id)).toMatchObject({
        status: 'pending',
        attempts: 1,
        last_error:
          'no channel can take it: channels webhook, email; no webhook_url on the structure or the fund, no SMTP server',
      });
      // Still pending a day later, it gets a new job (once a day); a webhook set since takes it.
      await sql`UPDATE reminders SET created_at = now() - interval '2 days' WHERE id = ${lost!.id}::uuid`.execute(
        db,
      );
      expect(await requeuePendingReminders(db, nowhere.fund.id)).toBe(1);
      expect(await requeuePendingReminders(db, nowhere.fund.id)).toBe(0);
      expect(
        (await nowhere.api.patch(`/v1/funds/${nowhere.fund.id}`, { webhook_url: hooks.url }))
          .status,
      ).toBe(200);
      expect(await deliverReminder(deps(), lost!.id, false)).toBe('sent');
      expect(hooks.calls.map((c) => c.headers['webhook-id'])).toEqual([lost!.id]);
    } finally {
      mailer.transport.close();
    }
  });
});
