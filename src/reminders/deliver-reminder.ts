import type { Transporter } from 'nodemailer';
import type { Db } from '../db/connect';
import { recordReminderChannel } from '../metrics/registry';
import { RetryLater } from '../queues/retry-later';
import type { CalendarDate } from '../domain/dates';
import { publishEvents } from '../events/publish-events';
import type { OutboundPolicy } from '../http/outbound';
import { postWebhook, reminderMessage, sendEmail } from './reminder-channels';
import {
  claimReminder,
  findReminderToDeliver,
  recordAttempt,
  stampChannel,
} from './reminders.repository';

export interface DeliveryDeps {
  readonly db: Db;
  /** Without it, e-mail is not a channel that can take anything. */
  readonly mailer: { transport: Transporter; from: string } | undefined;
  /** How long one channel may take (the webhook's answer; the SMTP server's, through the transport's timeouts). */
  readonly timeoutMs: number;
  /** Where a webhook may go: checked again when connecting (a name may resolve elsewhere since it was registered). */
  readonly outbound: OutboundPolicy;
  readonly now: () => Date;
  readonly today: () => CalendarDate;
}

export type DeliveryOutcome = 'sent' | 'skipped' | 'failed' | 'no channel' | 'done already';

const messageOf = (error: unknown) =>
  (error as { message?: string } | undefined)?.message ?? String(error);

/**
 * One delivery attempt of a reminder (a job of the reminders queue, delivered at least once). The
 * attempt claims the reminder first, so that two runs of its job at once do not both send it (the
 * second is put off until the first's claim ends, RetryLater: not an attempt spent). A
 * reminder no longer owed — paid since the scan, loan closed or rescheduled, due date passed for a
 * before-due one — is `skipped`. Each of the fund's channels that has somewhere to go takes it once
 * (its stamp guards a retry); when all have, it is `sent`. A failed attempt counts and keeps its
 * error; the last one, or a receiver that says 410 Gone, makes it `failed`. With no channel to go
 * to, it stays `pending`, saying why, and the daily scan queues it again (a webhook may be set since).
 * Throws on a failed attempt that is not the last, so that BullMQ retries it with its backoff.
 */
export async function deliverReminder(
  deps: DeliveryDeps,
  reminderId: string,
  isLastAttempt: boolean,
): Promise<DeliveryOutcome> {
  // Held longer than an attempt lasts: the webhook's timeout, then SMTP's (its timeouts are per phase).
  const claim = await claimReminder(deps.db, reminderId, 4 * deps.timeoutMs + 10_000);
  const reminder = await findReminderToDeliver(deps.db, reminderId, deps.today());
  if (!reminder || reminder.status !== 'pending') return 'done already';
  if (!claim.claimed) {
    // That run finishes it, or its claim expires (its worker died): either way, look again then.
    const waitMs = Math.max((claim.heldUntil?.getTime() ?? 0) - deps.now().getTime(), 0) + 1000;
    throw new RetryLater('another delivery attempt holds this reminder', waitMs);
  }
  if (!reminder.still_owed) {
    await recordAttempt(deps.db, reminderId, { status: 'skipped', error: null, counted: false });
    return 'skipped';
  }

  const message = reminderMessage(reminder);
  // Partners' endpoints that subscribe to reminders get it as an event (once, whatever the retries).
  await deps.db.transaction().execute((trx) =>
    publishEvents(trx, null, [
      {
        type: `reminder.${reminder.kind}`,
        fundId: reminder.fund_id,
        structureId: reminder.structure_id,
        loanId: reminder.loan_id,
        data: message,
        dedupKey: `reminder:${reminder.id}`,
      },
    ]),
  );
  const { webhook_url: webhookUrl } = reminder;
  const { mailer } = deps;
  const routes = {
    webhook:
      webhookUrl === null
        ? undefined
        : () =>
            postWebhook(webhookUrl, reminder.webhook_secret, message, {
              timeoutMs: deps.timeoutMs,
              policy: deps.outbound,
              now: deps.now(),
            }),
    email:
      mailer === undefined
        ? undefined
        : () => sendEmail(mailer, reminder.contact_email, reminder.legal_name, message),
  };
  const open = reminder.channels.filter((channel) => routes[channel] !== undefined);
  if (open.length === 0) {
    const error = `no channel can take it: channels ${reminder.channels.join(', ')}; no webhook_url on the structure or the fund${mailer ? '' : ', no SMTP server'}`;
    await recordAttempt(deps.db, reminderId, { status: 'pending', error, counted: true });
    return 'no channel';
  }

  const errors: string[] = [];
  let gone = false;
  for (const channel of open) {
    if (reminder[channel === 'webhook' ? 'webhook_sent_at' : 'email_sent_at'] !== null) continue;
    try {
      await routes[channel]!();
    } catch (error) {
      recordReminderChannel(channel, 'failed');
      errors.push(`${channel}: ${messageOf(error)}`);
      gone ||= (error as { permanent?: boolean }).permanent === true;
      continue;
    }
    await stampChannel(deps.db, reminderId, channel); // a database error here is the job's, not the channel's: BullMQ retries
    recordReminderChannel(channel, 'sent');
  }
  if (errors.length === 0) {
    await recordAttempt(deps.db, reminderId, { status: 'sent', error: null, counted: true });
    return 'sent';
  }
  const error = errors.join('; ');
  const final = isLastAttempt || gone;
  await recordAttempt(deps.db, reminderId, {
    status: final ? 'failed' : 'pending',
    error,
    counted: true,
  });
  if (final) return 'failed';
  throw new Error(error);
}
