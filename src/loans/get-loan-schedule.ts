import type { Db } from '../db/connect';
import { NOTHING, type Amounts, type InstalmentState } from '../domain/allocation';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { instalmentStatus, type InstalmentStatus } from '../domain/instalment-status';
import { cents, type Money } from '../domain/money';
import { buildSchedule } from '../domain/schedule';
import { seesStructure, type Actor } from '../http/auth';
import { termsOfLoan } from './loan-terms';
import { instalmentsOf, type Instalment } from './instalments';
import { findLoanWithInstalments } from './loans.repository';
import { type Loan } from './loan-rows';

export interface LoanSchedule {
  loan: Loan;
  version: number;
  projected: boolean;
  instalments: Instalment[];
  /** What was paid towards each instalment as of the date and its status then, in the same order. */
  paid: Amounts[];
  statuses: InstalmentStatus[];
  /** The outstanding principal as of the date (the loan's loans-receivable balance), when asked for. */
  outstanding: Money | undefined;
}

/**
 * A schedule version (the current one by default) with each instalment's payments and status as of
 * a date. A loan not yet disbursed has only a projection, computed from its expected disbursement date.
 */
export async function getLoanSchedule(
  db: Db,
  actor: Actor,
  loanId: string,
  asOf: CalendarDate,
  version?: number,
  withOutstanding = false,
): Promise<LoanSchedule> {
  const found = await findLoanWithInstalments(db, loanId, asOf, version, withOutstanding);
  if (!found || !seesStructure(actor, found.loan.fund_id, found.loan.structure_id))
    throw new DomainError('not_found', 'No such loan.');
  const { loan } = found;
  const projected = loan.schedule_version === 0;
  const wanted = version ?? loan.schedule_version;
  if (wanted > loan.schedule_version || (version !== undefined && projected))
    throw new DomainError('not_found', 'No such schedule version.');
  // A cancelled loan was never paid out: it has no schedule, not even a projected one.
  const cancelled = loan.status === 'cancelled';
  let rows = found.instalments;
  if (cancelled) rows = [];
  else if (projected) rows = instalmentsOf(loan.id, 0, buildSchedule(termsOfLoan(loan)).rows);
  const paidBy = new Map(
    found.paid.map((p) => [p.number, { ...NOTHING, interest: p.interest, principal: p.principal }]),
  );
  const paid = rows.map((row) => paidBy.get(row.number) ?? NOTHING);
  const statuses = statusesOf(rows, paid, asOf);
  return {
    loan,
    version: wanted,
    projected: projected && !cancelled,
    instalments: rows,
    paid,
    statuses,
    outstanding: found.outstanding,
  };
}

/** What the schedule's status and arrears read of an instalment. */
type StoredInstalment = Pick<
  Instalment,
  'number' | 'due_date' | 'principal' | 'interest' | 'total'
>;

/** Each instalment's status as of a date, from what it owes and what was paid towards it (the schedule's and the export's). */
export function statusesOf(
  rows: readonly StoredInstalment[],
  paid: readonly Amounts[],
  asOf: CalendarDate,
): InstalmentStatus[] {
  return rows.map((row, k) =>
    instalmentStatus(row.due_date, row.total, cents(paid[k]!.interest + paid[k]!.principal), asOf),
  );
}

/** The instalments as the allocation sees them: what each owes and what was paid towards it. */
export function instalmentStates(schedule: {
  readonly projected: boolean;
  readonly instalments: readonly StoredInstalment[];
  readonly paid: readonly Amounts[];
}): InstalmentState[] {
  if (schedule.projected) return [];
  return schedule.instalments.map((row, k) => ({
    number: row.number,
    dueDate: row.due_date,
    due: { ...NOTHING, interest: row.interest, principal: row.principal },
    paid: schedule.paid[k] ?? NOTHING,
  }));
}
