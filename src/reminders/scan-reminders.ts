import { withinTransaction, type Db } from '../db/connect';
import { publishEvents } from '../events/publish-events';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { formatMoney } from '../domain/money';
import { findVisibleFund } from '../funds/find-visible-fund';
import { assertCanWrite, type Actor } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import {
  createDueReminders,
  findNewlyOverdue,
  requeuePendingReminders,
} from './reminders.repository';

/**
 * Makes every reminder due by `asOf` that was not made yet (of one fund, or of all), each with its
 * delivery job in the outbox; skips instalments paid since. Run daily and on demand: running it
 * again, or after days of downtime, makes exactly what is missing. Also gives a new job, once a day,
 * to each reminder still pending a day after it was made. Returns how many reminders were made.
 */
export async function scanReminders(db: Db, asOf: CalendarDate, fundId?: string): Promise<number> {
  const made = await createDueReminders(db, asOf, fundId);
  await requeuePendingReminders(db, fundId); // and a new job for those whose job was lost
  await announceOverdueInstalments(db, asOf, fundId);
  return made;
}

/** A `loan.overdue` event for each instalment that became overdue since the last scans (once each). */
async function announceOverdueInstalments(
  db: Db,
  asOf: CalendarDate,
  fundId: string | undefined,
): Promise<void> {
  await withinTransaction(db, async (trx) => {
    const overdue = await findNewlyOverdue(trx, asOf, fundId);
    await publishEvents(
      trx,
      null,
      overdue.map((row) => ({
        type: 'loan.overdue',
        fundId: row.fund_id,
        structureId: row.structure_id,
        loanId: row.loan_id,
        dedupKey: `loan.overdue:${row.loan_id}:${row.number}:${row.due_date}`,
        data: {
          loan_id: row.loan_id,
          structure_id: row.structure_id,
          instalment_number: row.number,
          due_date: row.due_date,
          overdue_since: row.overdue_since,
          amount_due: formatMoney(row.total),
          amount_unpaid: formatMoney(row.unpaid),
          currency: 'EUR',
        },
      })),
    );
  });
}

/**
 * POST /v1/reminders/scan: a manager scans its fund; the admin one fund or all. Not as of a day to
 * come: its reminders would go out before their send dates. Under an Idempotency-Key, the scan runs in
 * the key's transaction and a replay answers how many the first one made.
 */
export async function requestReminderScan(
  db: Db,
  actor: Actor,
  body: { as_of?: string; fund_id?: string },
  today: CalendarDate,
  idempotency?: IdempotentRequest,
) {
  if (actor.role === 'structure') throw new DomainError('not_found', 'No such fund.');
  if (body.fund_id !== undefined) await findVisibleFund(db, actor, body.fund_id, 'fund_id'); // 404 if unknown or not the key's
  assertCanWrite(actor);
  const asOf = (body.as_of ?? today) as CalendarDate;
  if (asOf > today)
    throw new DomainError('rule_violation', 'A scan cannot be as of a day to come.', [
      { field: 'as_of', message: `must not be after today, ${today}` },
    ]);
  const fundId = body.fund_id ?? actor.fundId ?? undefined;
  return transactOnce(
    db,
    idempotency,
    (trx) => scanReminders(trx, asOf, fundId),
    (created) => ({ status: 200, body: { as_of: asOf, fund_id: fundId ?? null, created } }),
  );
}
