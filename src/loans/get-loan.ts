import type { Db } from '../db/connect';
import { arrearsAsOf, NOTHING, type Arrears, type InstalmentState } from '../domain/allocation';
import type { CalendarDate } from '../domain/dates';
import { parseMoney } from '../domain/money';
import type { Actor } from '../http/auth';
import { getLoanSchedule } from './get-loan-schedule';
import type { LoanRow } from './loans.repository';

/** A loan the key may see, with its arrears and days past due as of a date (DOMAIN.md "Arrears"). */
export async function getLoan(db: Db, actor: Actor, loanId: string, asOf: CalendarDate): Promise<{ loan: LoanRow; arrears: Arrears }> {
  const schedule = await getLoanSchedule(db, actor, loanId, asOf);
  // Only a disbursed loan can be in arrears: a projection owes nothing yet.
  const instalments: InstalmentState[] = schedule.projected ? [] : schedule.instalments.map((row) => ({
    number: row.number,
    dueDate: row.due_date as CalendarDate,
    due: { ...NOTHING, interest: parseMoney(row.interest), principal: parseMoney(row.principal) },
    paid: NOTHING, // repayments come with servicing
  }));
  return { loan: schedule.loan, arrears: arrearsAsOf(instalments, asOf) };
}
