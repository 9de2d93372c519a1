import { sql, type Selectable, type Transaction } from 'kysely';
import { withinTransaction, type Db } from '../db/connect';
import type { Database, RemindersTable } from '../db/schema';
import { paidParts, paidSql, paidTowardsSql, unpaidSql } from '../db/unpaid-sql';
import { parseDate, type CalendarDate } from '../domain/dates';
import { parseDecimalAmount, parseMoney, type Money } from '../domain/money';
import { oneOf } from '../domain/one-of';
import { enqueueSelected } from '../outbox/outbox';

/** The job that delivers a reminder: `reminder-<id>` on the reminders queue (the scan makes it). */
export const DELIVER_REMINDER = 'deliver';

/**
 * Makes, with its outbox job, each missing reminder of the unpaid instalments of active loans (one
 * fund, or all) whose send date came since the fund's last scan, and returns how many. The window
 * starts a day before the scan mark, so a change after a morning scan is caught the next day.
 */
export async function createDueReminders(
  db: Db,
  asOf: CalendarDate,
  fundId: string | undefined,
): Promise<number> {
  const d = sql`${asOf}::date`;
  const funds = fundId === undefined ? sql`` : sql`WHERE f.id = ${fundId}::uuid`;
  return withinTransaction(db, async (trx) => {
    // JIT compiling these plans takes longer than running them (docs/benchmarks.md, bench:workers).
    await sql`SET LOCAL jit = off`.execute(trx);
    // NO KEY UPDATE: scans take turns without blocking the fund's foreign-key checks (no deadlock).
    await sql`SELECT f.id FROM funds f ${funds} ORDER BY f.id FOR NO KEY UPDATE`.execute(trx);
    // Candidates in a temporary table with statistics: a day's worth and a first scan's history plan differently.
    await sql`
      CREATE TEMPORARY TABLE reminder_candidates ON COMMIT DROP AS
      WITH fund AS MATERIALIZED ( -- send dates in (since, asOf]
        SELECT f.id, f.reminder_days_before, f.reminder_days_after,
          CASE WHEN f.reminders_scanned_through IS NULL THEN '-infinity'::date ELSE least(f.reminders_scanned_through, ${d}) - 1 END AS since
        FROM funds f ${funds}
      ), offsets AS ( -- each offset, and the due dates whose send date it puts in the window
        SELECT f.id AS fund_id, 'before_due'::text AS kind, x AS offset_days, f.since + x AS due_after, ${d} + x AS due_until, -x AS shift
        FROM fund f, unnest(f.reminder_days_before) x
        UNION ALL
        SELECT f.id, 'after_due', x, f.since - x, ${d} - x, x FROM fund f, unnest(f.reminder_days_after) x
      ), due AS MATERIALIZED ( -- the instalments falling due on those dates: one index range of due dates per offset
        SELECT o.fund_id, o.kind, o.offset_days, i.due_date + o.shift AS send_on, i.loan_id, i.version, i.number, i.due_date, i.total
        FROM offsets o
        CROSS JOIN LATERAL (SELECT * FROM instalments i WHERE i.due_date > o.due_after AND i.due_date <= o.due_until OFFSET 0) i -- a lookup, not a join to plan
        WHERE i.total > 0 AND (o.kind = 'after_due' OR i.due_date >= ${d})
      ) -- of the current schedule of the fund's active loans, (instalment, kind, offset) not made yet
      SELECT l.id AS loan_id, l.fund_id, l.structure_id, i.number, i.due_date, i.total, i.kind, i.offset_days, i.send_on
      FROM due i JOIN loans l ON l.id = i.loan_id
      WHERE l.schedule_version = i.version AND l.fund_id = i.fund_id AND l.status = 'active'
        AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.loan_id = l.id AND r.instalment_number = i.number AND r.due_date = i.due_date
          AND r.kind = i.kind AND r.offset_days = i.offset_days)`.execute(trx);
    await sql`ANALYZE reminder_candidates`.execute(trx);
    // Two joins, not one of their union: a day's candidates are few, and the union cost ~20 % (bench:workers).
    const candidatesPaid = paidParts(
      {
        loan: (id) => sql`${id} IN (SELECT loan_id FROM reminder_candidates)`,
        asOf: d,
        valuedByAsOf: false,
      },
      'instalment',
    );
    const { rows } = await sql<{ made: number }>`
      WITH paid AS (${candidatesPaid.allocated}), settled AS (${candidatesPaid.settled}), made AS (
        INSERT INTO reminders (id, fund_id, loan_id, structure_id, instalment_number, due_date, kind, offset_days, send_on)
        SELECT gen_random_uuid(), c.fund_id, c.loan_id, c.structure_id, c.number, c.due_date, c.kind, c.offset_days, c.send_on
        FROM reminder_candidates c
        LEFT JOIN paid p ON p.loan_id = c.loan_id AND p.number = c.number
        LEFT JOIN settled s ON s.loan_id = c.loan_id AND s.number = c.number
        WHERE ${unpaidSql(sql`c.total`, sql`coalesce(p.interest + p.principal, 0) + coalesce(s.interest + s.principal, 0)`)} > 0
        ORDER BY c.loan_id, c.number, c.due_date, c.kind, c.offset_days -- one order for every scan: two at once do not deadlock
        ON CONFLICT (loan_id, instalment_number, due_date, kind, offset_days) DO NOTHING
        RETURNING id
      ), jobs AS (
        ${enqueueSelected(sql`SELECT 'reminders', ${DELIVER_REMINDER}, 'reminder-' || id, jsonb_build_object('reminder_id', id) FROM made`)}
      )
      SELECT count(*)::int AS made FROM made`.execute(trx);
    await sql`UPDATE funds f SET reminders_scanned_through = greatest(f.reminders_scanned_through, ${d}) ${funds}`.execute(
      trx,
    );
    return rows[0]!.made;
  });
}

type ReminderRow = Selectable<RemindersTable>;
export type Reminder = ReminderRow;

const KINDS = ['before_due', 'after_due'] as const;
const STATUSES = ['pending', 'sent', 'failed', 'skipped'] as const;
const CHANNELS = ['webhook', 'email'] as const;

function rowToReminder(row: ReminderRow): Reminder {
  return {
    ...row,
    due_date: parseDate(row.due_date),
    send_on: parseDate(row.send_on),
    kind: oneOf(KINDS, row.kind, 'reminders.kind'),
    status: oneOf(STATUSES, row.status, 'reminders.status'),
  };
}

/** One page (plus one row) of reminders in the scope given, oldest first. */
export async function findReminders(
  db: Db,
  filter: {
    fundId?: string;
    structureId?: string;
    loanId?: string;
    status?: Reminder['status'];
    afterSeq?: string;
    limit: number;
  },
): Promise<Reminder[]> {
  let query = db.selectFrom('reminders').selectAll().orderBy('seq').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.structureId) query = query.where('structure_id', '=', filter.structureId);
  if (filter.loanId) query = query.where('loan_id', '=', filter.loanId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.afterSeq) query = query.where('seq', '>', filter.afterSeq);
  return (await query.execute()).map(rowToReminder);
}

/** A reminder with what its delivery needs: where to, signed how, and whether it is still owed today. */
export interface ReminderToDeliver extends Reminder {
  readonly still_owed: boolean;
  readonly total: Money | null;
  readonly unpaid: Money | null;
  readonly channels: ('webhook' | 'email')[];
  readonly webhook_url: string | null;
  readonly webhook_secret: string;
  readonly contact_email: string;
  readonly legal_name: string;
}

/**
 * Claims a pending reminder for one delivery attempt, for `ms`: another run of its job meanwhile
 * finds it claimed. A claim left by a worker that died expires. Not claimed when the reminder is not
 * pending, or claimed by a run still under way (until `heldUntil`).
 */
export async function claimReminder(
  db: Db,
  reminderId: string,
  ms: number,
): Promise<{ claimed: true } | { claimed: false; heldUntil: Date | null }> {
  const claimed = await db
    .updateTable('reminders')
    .set({ claimed_until: sql<Date>`now() + make_interval(secs => ${ms / 1000})` })
    .where('id', '=', reminderId)
    .where('status', '=', 'pending')
    .where((eb) =>
      eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', sql<Date>`now()`)]),
    )
    .returning('id')
    .executeTakeFirst();
  if (claimed) return { claimed: true };
  const held = await db
    .selectFrom('reminders')
    .select('claimed_until')
    .where('id', '=', reminderId)
    .executeTakeFirst();
  return { claimed: false, heldUntil: held?.claimed_until ?? null };
}

/**
 * The reminder and its instalment in today's current schedule: still owed while the loan is active,
 * the instalment (same number and due date) is unpaid as the scan counts it and, for a before-due
 * reminder, not due yet. The webhook is the structure's, or the fund's.
 */
export async function findReminderToDeliver(
  db: Db,
  reminderId: string,
  today: CalendarDate,
): Promise<ReminderToDeliver | undefined> {
  const { rows } = await sql<
    ReminderRow &
      Omit<ReminderToDeliver, 'total' | 'unpaid'> & { total: string | null; unpaid: string | null }
  >`
    SELECT r.*, f.reminder_channels AS channels, coalesce(s.webhook_url, f.webhook_url) AS webhook_url, f.webhook_secret,
      s.contact_email, s.legal_name, i.total, ${unpaidSql(sql`i.total`, sql`p.paid`)}::text AS unpaid,
      (l.status = 'active' AND i.total IS NOT NULL AND ${unpaidSql(sql`i.total`, sql`p.paid`)} > 0 AND (r.kind = 'after_due' OR r.due_date >= ${today}::date)) AS still_owed
    FROM reminders r
    JOIN loans l ON l.id = r.loan_id
    JOIN funds f ON f.id = r.fund_id
    JOIN structures s ON s.id = r.structure_id
    LEFT JOIN instalments i ON i.loan_id = r.loan_id AND i.version = l.schedule_version AND i.number = r.instalment_number AND i.due_date = r.due_date
    CROSS JOIN LATERAL (SELECT coalesce(sum(t.interest + t.principal), 0) AS paid
      FROM (${paidSql({ loan: (id) => sql`${id} = r.loan_id`, asOf: sql`${today}::date`, valuedByAsOf: false }, 'instalment')}) t
      WHERE t.number = r.instalment_number) p
    WHERE r.id = ${reminderId}::uuid`.execute(db);
  const row = rows[0];
  return (
    row && {
      ...row,
      ...rowToReminder(row),
      channels: row.channels.map((channel) => oneOf(CHANNELS, channel, 'funds.reminder_channels')),
      total: row.total === null ? null : parseMoney(row.total),
      unpaid: row.unpaid === null ? null : parseDecimalAmount(row.unpaid),
    }
  );
}

/** A channel took the reminder: stamped once, whatever retries follow. */
export async function stampChannel(
  db: Db,
  reminderId: string,
  channel: 'webhook' | 'email',
): Promise<void> {
  const column = channel === 'webhook' ? 'webhook_sent_at' : 'email_sent_at';
  await db
    .updateTable('reminders')
    .set({ [column]: sql`now()` })
    .where('id', '=', reminderId)
    .where(column, 'is', null)
    .execute();
}

/** The outcome of one delivery attempt (`pending`: to be tried again), releasing the claim. */
export async function recordAttempt(
  db: Db,
  reminderId: string,
  outcome: { status: Reminder['status']; error: string | null; counted: boolean },
): Promise<void> {
  await db
    .updateTable('reminders')
    .set((eb) => ({
      status: outcome.status,
      last_error: outcome.error,
      attempts: outcome.counted ? eb('attempts', '+', 1) : eb.ref('attempts'),
      sent_at: outcome.status === 'sent' ? sql<Date>`now()` : null,
      claimed_until: null,
    }))
    .where('id', '=', reminderId)
    .where('status', '=', 'pending')
    .execute();
}

/**
 * A new delivery job for every reminder still pending a day after it was made and not claimed — its
 * job lost (Redis restarted without its file, a job failed without its processor), or no channel
 * could take it yet — one per reminder and day (`reminder-<id>-<yyyymmdd>`). Returns how many.
 */
export async function requeuePendingReminders(db: Db, fundId: string | undefined): Promise<number> {
  const { rows } = await sql<{ queued: number }>`
    WITH queued AS (
      ${enqueueSelected(sql`SELECT 'reminders', ${DELIVER_REMINDER}, 'reminder-' || id || '-' || to_char(now(), 'YYYYMMDD'), jsonb_build_object('reminder_id', id)
      FROM reminders
      WHERE status = 'pending' AND created_at < now() - interval '1 day' AND (claimed_until IS NULL OR claimed_until < now())
        ${fundId === undefined ? sql`` : sql`AND fund_id = ${fundId}::uuid`}
      ORDER BY created_at`)}
      RETURNING 1
    )
    SELECT count(*)::int AS queued FROM queued`.execute(db);
  return rows[0]!.queued;
}

export interface NewlyOverdue {
  readonly loan_id: string;
  readonly fund_id: string;
  readonly structure_id: string;
  readonly number: number;
  readonly due_date: CalendarDate;
  readonly overdue_since: CalendarDate;
  readonly total: Money;
  readonly unpaid: Money;
}

/**
 * The instalments of the current schedule of active loans (of one fund, or of all) that fell due in
 * the month before `asOf`, are unpaid as of it (src/db/unpaid-sql.ts) and were not announced overdue
 * yet: a month of downtime is caught up, older arrears are not news.
 */
export async function findNewlyOverdue(
  trx: Transaction<Database>,
  asOf: CalendarDate,
  fundId: string | undefined,
): Promise<NewlyOverdue[]> {
  const d = sql`${asOf}::date`;
  const { rows } = await sql<Record<keyof NewlyOverdue, string> & { number: number }>`
    WITH due AS MATERIALIZED (
      SELECT l.id AS loan_id, l.fund_id, l.structure_id, i.number, i.due_date, i.total
      FROM instalments i JOIN loans l ON l.id = i.loan_id AND l.schedule_version = i.version
      WHERE i.due_date < ${d} AND i.due_date >= ${d} - 31 AND i.total > 0 AND l.status = 'active'
        ${fundId === undefined ? sql`` : sql`AND l.fund_id = ${fundId}::uuid`}
        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.dedup_key = 'loan.overdue:' || l.id || ':' || i.number || ':' || i.due_date)
    ), paid AS (${paidTowardsSql({ loan: (id) => sql`${id} IN (SELECT loan_id FROM due)`, asOf: d, valuedByAsOf: false })})
    SELECT c.loan_id, c.fund_id, c.structure_id, c.number, c.due_date::text AS due_date, (c.due_date + 1)::text AS overdue_since, c.total::text AS total,
      ${unpaidSql(sql`c.total`, sql`p.amount`)}::text AS unpaid
    FROM due c
    LEFT JOIN paid p ON p.loan_id = c.loan_id AND p.number = c.number
    WHERE ${unpaidSql(sql`c.total`, sql`p.amount`)} > 0
    ORDER BY c.loan_id, c.due_date, c.number`.execute(trx);
  return rows.map((row) => ({
    ...row,
    due_date: parseDate(row.due_date),
    overdue_since: parseDate(row.overdue_since),
    total: parseMoney(row.total),
    unpaid: parseDecimalAmount(row.unpaid),
  }));
}
