import type { Reminder } from './reminders.repository';

export function reminderView(row: Reminder) {
  return {
    id: row.id,
    fund_id: row.fund_id,
    loan_id: row.loan_id,
    structure_id: row.structure_id,
    instalment_number: row.instalment_number,
    due_date: row.due_date,
    kind: row.kind,
    offset_days: row.offset_days,
    send_on: row.send_on,
    status: row.status,
    attempts: row.attempts,
    last_error: row.last_error,
    sent_at: row.sent_at?.toISOString() ?? null,
    webhook_sent_at: row.webhook_sent_at?.toISOString() ?? null,
    email_sent_at: row.email_sent_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}
