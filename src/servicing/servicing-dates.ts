import type { CalendarDate } from '../domain/dates';
import type { FieldError } from '../domain/errors';
import type { Loan } from './servicing.repository';
import type { LoanHistory } from './loan-history';

/**
 * A restructuring or a write-off takes effect from a date: not before the disbursement, not in the
 * future, and not before anything already recorded on the loan (history is replayed, not rewritten).
 */
export function checkEffectiveDate(
  loan: Loan,
  history: LoanHistory,
  date: CalendarDate,
  today: CalendarDate,
  field: string,
): FieldError[] {
  const broken: FieldError[] = [];
  if (date > today) broken.push({ field, message: 'must not be in the future' });
  if (date < loan.disbursed_on!)
    broken.push({ field, message: `must not be before the disbursement, ${loan.disbursed_on}` });
  const latest = [
    ...history.repayments.map((r) => r.value_date),
    ...history.restructurings.map((r) => r.effective_date),
  ].reduce<string | undefined>((max, d) => (max === undefined || d > max ? d : max), undefined);
  if (latest !== undefined && date < latest)
    broken.push({
      field,
      message: `must not be before the last repayment or restructuring recorded, ${latest}`,
    });
  return broken;
}
