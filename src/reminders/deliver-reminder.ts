import type { Transporter } from 'nodemailer';
import type { Db } from '../db/connect';
import { postWebhook, reminderMessage, sendEmail } from './reminder-channels';
import { findReminderToDeliver, recordAttempt, stampChannel } from './reminders.repository';

export interface DeliveryDeps {
  readonly db: Db;
  /** Without it, e-mail is not a channel that can take anything. */
  readonly mailer: { transport: Transporter; from: string } | undefined;
  readonly webhookTimeoutMs: number;
  readonly now: () => Date;
}

export type DeliveryOutcome = 'sent' | 'skipped' | 'retry' | 'failed' | 'done already';

/**
 * One delivery attempt of a reminder (a job of the reminders queue, delivered at least once). A
 * reminder no longer owed — paid since the scan, loan closed or rescheduled — is `skipped`. Each of
 * the fund's channels that has somewhere to go takes it once (its stamp guards a retry); when all
 * have, it is `sent`. A failed attempt counts and keeps its error; the last one makes it `failed`.
 * Throws on a failed attempt that is not the last, so that BullMQ retries it with its backoff.
 */
export async function deliverReminder(deps: DeliveryDeps, reminderId: string, isLastAttempt: boolean): Promise<DeliveryOutcome> {
  const reminder = await findReminderToDeliver(deps.db, reminderId);
  if (!reminder || reminder.status !== 'pending') return 'done already';
  if (!reminder.still_owed) {
    await recordAttempt(deps.db, reminderId, { status: 'skipped', error: null, counted: false });
    return 'skipped';
  }

  const message = reminderMessage(reminder);
  const webhookUrl = reminder.webhook_url;
  const mailer = deps.mailer;
  const routes = {
    webhook: webhookUrl === null ? undefined : () => postWebhook(webhookUrl, reminder.webhook_secret, message, { timeoutMs: deps.webhookTimeoutMs, now: deps.now() }),
    email: mailer === undefined ? undefined : () => sendEmail(mailer, reminder.contact_email, reminder.legal_name, message),
  };
  const open = reminder.channels.filter((channel) => routes[channel] !== undefined);
  if (open.length === 0) {
    const error = `no channel can take it: channels ${reminder.channels.join(', ')}; no webhook_url on the structure or the fund${mailer ? '' : ', no SMTP server'}`;
    await recordAttempt(deps.db, reminderId, { status: 'failed', error, counted: true });
    return 'failed';
  }

  const errors: string[] = [];
  for (const channel of open) {
    if (reminder[channel === 'webhook' ? 'webhook_sent_at' : 'email_sent_at'] !== null) continue;
    try {
      await routes[channel]!();
      await stampChannel(deps.db, reminderId, channel);
    } catch (error) {
      errors.push(`${channel}: ${(error as { message?: string } | undefined)?.message ?? String(error)}`);
    }
  }
  if (errors.length === 0) {
    await recordAttempt(deps.db, reminderId, { status: 'sent', error: null, counted: true });
    return 'sent';
  }
  const error = errors.join('; ');
  await recordAttempt(deps.db, reminderId, { status: isLastAttempt ? 'failed' : 'pending', error, counted: true });
  if (isLastAttempt) return 'failed';
  throw new Error(error);
}
