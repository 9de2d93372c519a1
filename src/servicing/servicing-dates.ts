import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { CalendarDate } from '../domain/dates';
import type { FieldError } from '../domain/errors';
import { restructuringsOfLoan, standingRepayments, type LoanRow } from './servicing.repository';

/**
 * A restructuring or a write-off takes effect from a date: not before the disbursement, not in the
 * future, and not before anything already recorded on the loan (history is replayed, not rewritten).
 */
export async function checkEffectiveDate(trx: Transaction<Database>, loan: LoanRow, date: CalendarDate, today: CalendarDate, field: string): Promise<FieldError[]> {
  const broken: FieldError[] = [];
  if (date > today) broken.push({ field, message: 'must not be in the future' });
  if (date < loan.disbursed_on!) broken.push({ field, message: `must not be before the disbursement, ${loan.disbursed_on}` });
  const latest = [...(await standingRepayments(trx, loan.id)).map((r) => r.value_date), ...(await restructuringsOfLoan(trx, loan.id)).map((r) => r.effective_date)]
    .reduce<string | undefined>((max, d) => (max === undefined || d > max ? d : max), undefined);
  if (latest !== undefined && date < latest) broken.push({ field, message: `must not be before the last repayment or restructuring recorded, ${latest}` });
  return broken;
}
