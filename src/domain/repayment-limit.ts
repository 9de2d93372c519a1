import { cents, type Money } from './money';

/**
 * The largest repayment a loan accepts: everything its current schedule asks for (every
 * instalment's total, paid or not: principal, capitalised and ordinary interest) plus that much
 * again, twice the total. A larger amount cannot be a payment of this loan, only a mistake (a
 * misplaced decimal point, the wrong loan): 422. Below it, what exceeds what is still owed closes
 * the loan and is recorded as excess owed back to the borrower.
 */
export const REPAYMENT_MARGIN_PERCENT = 100n;

export function largestRepayment(totalPayable: Money): Money {
  return cents(totalPayable + (totalPayable * REPAYMENT_MARGIN_PERCENT) / 100n);
}
