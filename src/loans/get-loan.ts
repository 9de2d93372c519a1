import type { Db } from '../db/connect';
import { arrearsAsOf, type Arrears } from '../domain/allocation';
import type { CalendarDate } from '../domain/dates';
import type { Money } from '../domain/money';
import type { Actor } from '../http/auth';
import { getLoanSchedule, instalmentStates } from './get-loan-schedule';
import type { Loan } from './loan-rows';

/**
 * A loan the key may see, as of a date (DOMAIN.md "Arrears"): its outstanding principal then, what
 * is overdue and its days past due. A loan closed by then (repaid, written off) is not in arrears.
 */
export async function getLoan(
  db: Db,
  actor: Actor,
  loanId: string,
  asOf: CalendarDate,
): Promise<{ loan: Loan; arrears: Arrears; outstanding: Money }> {
  const schedule = await getLoanSchedule(db, actor, loanId, asOf, undefined, true);
  const { loan } = schedule;
  const closedOn = loan.repaid_on ?? loan.written_off_on;
  const closed = closedOn !== null && loan.status !== 'active' && closedOn <= asOf;
  return {
    loan,
    arrears: arrearsAsOf(closed ? [] : instalmentStates(schedule), asOf),
    outstanding: schedule.outstanding!,
  };
}
