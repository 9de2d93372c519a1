import { formatMoney } from '../domain/money';
import type { ScheduleRow } from '../domain/schedule';
import type { InstalmentRow } from './loans.repository';

/** Engine rows → instalments rows of one schedule version. */
export function instalmentRows(loanId: string, version: number, rows: readonly ScheduleRow[]): InstalmentRow[] {
  return rows.map((row) => ({
    loan_id: loanId,
    version,
    number: row.number,
    due_date: row.dueDate,
    principal: formatMoney(row.principal),
    interest: formatMoney(row.interest),
    total: formatMoney(row.total),
    balance_after: formatMoney(row.balanceAfter),
    capitalised_interest: formatMoney(row.capitalisedInterest),
  }));
}
