import { sql, type Selectable } from 'kysely';
import type { Db } from '../db/connect';
import type { RemindersTable } from '../db/schema';
import type { CalendarDate } from '../domain/dates';

/**
 * In one statement: every reminder whose send date has come by `asOf` and that does not exist yet,
 * for the unpaid instalments of the current schedule of active loans (of one fund, or all), with
 * its outbox job (`reminder-<id>` on the reminders queue). An instalment is unpaid while what
 * standing repayments allocated to it, with the arrears a restructuring capitalised (settled from
 * its effective date), falls short of its total — as the schedule counts it. A
 * before-due reminder is made only while the due date is today or ahead (a late scan does not warn
 * of what is already due); after-due ones are made for every offset passed, so that a scan after
 * downtime catches up. Returns how many were made.
 */
export async function createDueReminders(db: Db, asOf: CalendarDate, fundId: string | undefined): Promise<number> {
  const { rows } = await sql<{ made: number }>`
    WITH current_rows AS (
      SELECT l.id AS loan_id, l.fund_id, l.structure_id, i.number, i.due_date, i.total, f.reminder_days_before, f.reminder_days_after
      FROM loans l
      JOIN funds f ON f.id = l.fund_id
      JOIN instalments i ON i.loan_id = l.id AND i.version = l.schedule_version
      WHERE l.status = 'active' AND i.total > 0 AND i.due_date - 366 <= ${asOf}::date
        ${fundId === undefined ? sql`` : sql`AND l.fund_id = ${fundId}::uuid`}
    ), paid AS ( -- as the schedule counts it: standing repayments, and arrears a restructuring capitalised
      SELECT loan_id, number, sum(amount) AS paid FROM (
        SELECT r.loan_id, a.number, a.fees + a.late_interest + a.interest + a.principal AS amount
        FROM allocations a JOIN repayments r ON r.id = a.repayment_id
        WHERE r.reversed_at IS NULL AND r.loan_id IN (SELECT loan_id FROM current_rows)
        UNION ALL
        SELECT x.loan_id, s.number, s.interest + s.principal
        FROM arrears_settlements s JOIN restructurings x ON x.id = s.restructuring_id
        WHERE x.effective_date <= ${asOf}::date AND x.loan_id IN (SELECT loan_id FROM current_rows)) settled
      GROUP BY loan_id, number
    ), unpaid AS (
      SELECT c.* FROM current_rows c LEFT JOIN paid p ON p.loan_id = c.loan_id AND p.number = c.number
      WHERE coalesce(p.paid, 0) < c.total
    ), due AS (
      SELECT u.loan_id, u.fund_id, u.structure_id, u.number, u.due_date, 'before_due' AS kind, d AS offset_days, u.due_date - d AS send_on
      FROM unpaid u, unnest(u.reminder_days_before) AS d
      WHERE u.due_date - d <= ${asOf}::date AND u.due_date >= ${asOf}::date
      UNION ALL
      SELECT u.loan_id, u.fund_id, u.structure_id, u.number, u.due_date, 'after_due', d, u.due_date + d
      FROM unpaid u, unnest(u.reminder_days_after) AS d
      WHERE u.due_date + d <= ${asOf}::date
    ), made AS (
      INSERT INTO reminders (id, fund_id, loan_id, structure_id, instalment_number, due_date, kind, offset_days, send_on)
      SELECT gen_random_uuid(), fund_id, loan_id, structure_id, number, due_date, kind, offset_days, send_on FROM due
      ORDER BY loan_id, number, due_date, kind, offset_days -- one order for every scan: two at once do not deadlock
      ON CONFLICT (loan_id, instalment_number, due_date, kind, offset_days) DO NOTHING
      RETURNING id
    ), jobs AS (
      INSERT INTO outbox (queue, job_name, job_id, payload)
      SELECT 'reminders', 'deliver', 'reminder-' || id, jsonb_build_object('reminder_id', id) FROM made
    )
    SELECT count(*)::int AS made FROM made`.execute(db);
  return rows[0]!.made;
}

export type ReminderRow = Selectable<RemindersTable>;

/** One page (plus one row) of reminders in the scope given, oldest first. */
export function findReminders(db: Db, filter: { fundId?: string; structureId?: string; loanId?: string; status?: string; afterSeq?: string; limit: number }): Promise<ReminderRow[]> {
  let query = db.selectFrom('reminders').selectAll().orderBy('seq').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.structureId) query = query.where('structure_id', '=', filter.structureId);
  if (filter.loanId) query = query.where('loan_id', '=', filter.loanId);
  if (filter.status) query = query.where('status', '=', filter.status as ReminderRow['status']);
  if (filter.afterSeq) query = query.where('seq', '>', filter.afterSeq);
  return query.execute();
}

/** A reminder with what its delivery needs: where to, signed how, and whether it is still owed now. */
export interface ReminderToDeliver extends ReminderRow {
  readonly still_owed: boolean;
  readonly total: string | null;
  readonly unpaid: string | null;
  readonly channels: ('webhook' | 'email')[];
  readonly webhook_url: string | null;
  readonly webhook_secret: string;
  readonly contact_email: string;
  readonly legal_name: string;
}

/**
 * The reminder, with its instalment as the current schedule has it now: it is still owed while the
 * loan is active, the current version still has this instalment (same number and due date) and what
 * standing repayments and capitalised arrears settled falls short of its total. The webhook is the
 * structure's, or the fund's when the structure has none.
 */
export async function findReminderToDeliver(db: Db, reminderId: string): Promise<ReminderToDeliver | undefined> {
  const { rows } = await sql<ReminderToDeliver>`
    SELECT r.*, f.reminder_channels AS channels, coalesce(s.webhook_url, f.webhook_url) AS webhook_url, f.webhook_secret,
      s.contact_email, s.legal_name, i.total, (i.total - p.paid)::text AS unpaid,
      (l.status = 'active' AND i.total IS NOT NULL AND p.paid < i.total) AS still_owed
    FROM reminders r
    JOIN loans l ON l.id = r.loan_id
    JOIN funds f ON f.id = r.fund_id
    JOIN structures s ON s.id = r.structure_id
    LEFT JOIN instalments i ON i.loan_id = r.loan_id AND i.version = l.schedule_version AND i.number = r.instalment_number AND i.due_date = r.due_date
    CROSS JOIN LATERAL (SELECT
      coalesce((SELECT sum(a.fees + a.late_interest + a.interest + a.principal) FROM allocations a JOIN repayments p ON p.id = a.repayment_id
        WHERE p.loan_id = r.loan_id AND p.reversed_at IS NULL AND a.number = r.instalment_number), 0)
      + coalesce((SELECT sum(st.interest + st.principal) FROM arrears_settlements st JOIN restructurings x ON x.id = st.restructuring_id
        WHERE x.loan_id = r.loan_id AND st.number = r.instalment_number), 0) AS paid) p
    WHERE r.id = ${reminderId}::uuid`.execute(db);
  return rows[0];
}

/** A channel took the reminder: stamped once, whatever retries follow. */
export async function stampChannel(db: Db, reminderId: string, channel: 'webhook' | 'email'): Promise<void> {
  const column = channel === 'webhook' ? 'webhook_sent_at' : 'email_sent_at';
  await db.updateTable('reminders').set({ [column]: sql`now()` }).where('id', '=', reminderId).where(column, 'is', null).execute();
}

/** The outcome of one delivery attempt: `pending` (to be retried), `sent`, `failed` or `skipped`. */
export async function recordAttempt(db: Db, reminderId: string, outcome: { status: ReminderRow['status']; error: string | null; counted: boolean }): Promise<void> {
  await db.updateTable('reminders')
    .set((eb) => ({
      status: outcome.status,
      last_error: outcome.error,
      attempts: outcome.counted ? eb('attempts', '+', 1) : eb.ref('attempts'),
      sent_at: outcome.status === 'sent' ? sql<Date>`now()` : null,
    }))
    .where('id', '=', reminderId).where('status', '=', 'pending')
    .execute();
}
