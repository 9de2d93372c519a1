import type { Insertable, Selectable } from 'kysely';
import type { InstalmentsTable } from '../db/schema';
import { parseDate, type CalendarDate } from '../domain/dates';
import { formatMoney, parseMoney, type Money } from '../domain/money';
import type { ScheduleRow } from '../domain/schedule';

/** Why a schedule version was made (schedule_versions.reason). */
export const VERSION_REASONS = [
  'disbursement',
  'prepayment',
  'repayment',
  'reversal',
  'restructuring',
  'write_off',
] as const;
export type VersionReason = (typeof VERSION_REASONS)[number];

/** One instalment of a schedule version, as stored: the columns are the API's field names. */
export interface Instalment {
  readonly loan_id: string;
  readonly version: number;
  readonly number: number;
  readonly due_date: CalendarDate;
  readonly principal: Money;
  readonly interest: Money;
  readonly total: Money;
  readonly balance_after: Money;
  readonly capitalised_interest: Money;
}

export function rowToInstalment(row: Selectable<InstalmentsTable>): Instalment {
  return {
    loan_id: row.loan_id,
    version: row.version,
    number: row.number,
    due_date: parseDate(row.due_date),
    principal: parseMoney(row.principal),
    interest: parseMoney(row.interest),
    total: parseMoney(row.total),
    balance_after: parseMoney(row.balance_after),
    capitalised_interest: parseMoney(row.capitalised_interest),
  };
}

/** The columns that store an instalment. */
export function instalmentColumns(i: Instalment): Insertable<InstalmentsTable> {
  return {
    loan_id: i.loan_id,
    version: i.version,
    number: i.number,
    due_date: i.due_date,
    principal: formatMoney(i.principal),
    interest: formatMoney(i.interest),
    total: formatMoney(i.total),
    balance_after: formatMoney(i.balance_after),
    capitalised_interest: formatMoney(i.capitalised_interest),
  };
}

/** The engine's rows as the instalments of one schedule version. */
export function instalmentsOf(
  loanId: string,
  version: number,
  rows: readonly ScheduleRow[],
): Instalment[] {
  return rows.map((row) => ({
    loan_id: loanId,
    version,
    number: row.number,
    due_date: row.dueDate,
    principal: row.principal,
    interest: row.interest,
    total: row.total,
    balance_after: row.balanceAfter,
    capitalised_interest: row.capitalisedInterest,
  }));
}
