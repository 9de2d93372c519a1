import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { instalmentStatus, type InstalmentStatus } from '../domain/instalment-status';
import { parseMoney, ZERO, type Money } from '../domain/money';
import { buildSchedule } from '../domain/schedule';
import { seesStructure, type Actor } from '../http/auth';
import { termsOfLoan } from './loan-terms';
import { findLoanWithInstalments, type InstalmentRow, type LoanRow } from './loans.repository';
import { instalmentRows } from './schedule-rows';

export interface LoanSchedule {
  loan: LoanRow;
  version: number;
  projected: boolean;
  instalments: InstalmentRow[];
  /** Paid towards each instalment and its status as of the date, in the same order. */
  paid: Money[];
  statuses: InstalmentStatus[];
}

/**
 * The current schedule version with each instalment's status as of a date. A loan not yet
 * disbursed has only a projection, computed from its expected disbursement date.
 */
export async function getLoanSchedule(db: Db, actor: Actor, loanId: string, asOf: CalendarDate, version?: number): Promise<LoanSchedule> {
  const found = await findLoanWithInstalments(db, loanId, version);
  if (!found || !seesStructure(actor, found.loan.fund_id, found.loan.structure_id)) throw new DomainError('not_found', 'No such loan.');
  const { loan } = found;
  const projected = loan.schedule_version === 0;
  const wanted = version ?? loan.schedule_version;
  if (wanted > loan.schedule_version || (version !== undefined && projected)) throw new DomainError('not_found', 'No such schedule version.');
  // A cancelled loan was never paid out: it has no schedule, not even a projected one.
  const cancelled = loan.status === 'cancelled';
  let rows = found.instalments;
  if (cancelled) rows = [];
  else if (projected) rows = instalmentRows(loan.id, 0, buildSchedule(termsOfLoan(loan)).rows);
  // Repayments come with servicing: until then nothing is paid.
  const paid = rows.map(() => ZERO);
  const statuses = rows.map((row, k) => instalmentStatus(row.due_date as CalendarDate, parseMoney(row.total), paid[k]!, asOf));
  return { loan, version: wanted, projected: projected && !cancelled, instalments: rows, paid, statuses };
}
