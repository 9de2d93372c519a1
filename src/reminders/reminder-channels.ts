import { standardWebhookHeaders } from '../webhooks/signature';
import type { Transporter } from 'nodemailer';
import { formatMoney } from '../domain/money';
import { postJson, type OutboundPolicy } from '../http/outbound';
import type { ReminderToDeliver } from './reminders.repository';

/** What a reminder says, the same through every channel (the webhook's `data`). */
export function reminderMessage(reminder: ReminderToDeliver) {
  return {
    reminder_id: reminder.id,
    fund_id: reminder.fund_id,
    loan_id: reminder.loan_id,
    structure_id: reminder.structure_id,
    instalment_number: reminder.instalment_number,
    due_date: reminder.due_date,
    kind: reminder.kind,
    offset_days: reminder.offset_days,
    send_on: reminder.send_on,
    created_at: reminder.created_at.toISOString(),
    amount_due: formatMoney(reminder.total!),
    amount_unpaid: formatMoney(reminder.unpaid!),
    currency: 'EUR',
  };
}

export type ReminderMessage = ReturnType<typeof reminderMessage>;

/**
 * A POST signed per the Standard Webhooks specification: `webhook-id` is the reminder's id, the same
 * on every retry, so that a receiver can drop a message it already has (a worker killed between the
 * receiver's answer and the stamp sends it again); the timestamp is the attempt's. Anything but a
 * 2xx within `timeoutMs` is a failed attempt. Errors name no URL (it may carry a token).
 */
export async function postWebhook(
  url: string,
  secret: string,
  message: ReminderMessage,
  options: { timeoutMs: number; policy: OutboundPolicy; now: Date },
): Promise<void> {
  // The event's time is the reminder's: the same body on every retry. The header's is the attempt's.
  const body = JSON.stringify({
    type: `reminder.${message.kind}`,
    timestamp: message.created_at,
    data: message,
  });
  const outcome = await postJson(
    url,
    body,
    standardWebhookHeaders(message.reminder_id, [secret], options.now, body),
    { policy: options.policy, timeoutMs: options.timeoutMs },
  );
  if (outcome.error === null) return;
  // 410 Gone: the receiver asks for no more messages (Standard Webhooks): no retry.
  if (outcome.statusCode === 410)
    throw Object.assign(new Error(`webhook ${outcome.error}: no more retries`), {
      permanent: true,
    });
  throw new Error(`webhook ${outcome.error}`);
}

/** An e-mail to the structure's contact address; its Message-ID is the reminder's, for the same reason. */
export async function sendEmail(
  mailer: { transport: Transporter; from: string },
  to: string,
  legalName: string,
  message: ReminderMessage,
): Promise<void> {
  const when =
    message.kind === 'before_due'
      ? `is due on ${message.due_date}`
      : `was due on ${message.due_date} and is unpaid`;
  await mailer.transport.sendMail({
    from: mailer.from,
    to,
    subject: `Repayment reminder: instalment ${message.instalment_number} ${when}`,
    messageId: `<${message.reminder_id}@reminders.solidarity-loans>`,
    text: [
      `Hello ${legalName},`,
      '',
      `Instalment ${message.instalment_number} of your loan ${message.loan_id} ${when}.`,
      `Amount due: ${message.amount_due} ${message.currency}; still to pay: ${message.amount_unpaid} ${message.currency}.`,
      '',
      `Reminder ${message.reminder_id}.`,
    ].join('\n'),
  });
}
