import { appendRepayment } from '../domain/append-repayment';
import type { CalendarDate } from '../domain/dates';
import { cents } from '../domain/money';
import { outstandingPrincipal } from '../domain/servicing';
import { entryWrites } from '../ledger/post-journal-entry';
import { loanEntry } from './journal-changes';
import type { Rebooked } from './rebook-loan';
import { outcomeRows, unstoredRepayment, type NewRepayment } from './repayment-outcomes';
import {
  newRepaymentWrites,
  outstandingWrite,
  type Loan,
  type Repayment,
} from './servicing.repository';
import { type LoanStanding } from './loan-history';

/** A repayment recorded, what is left to store, and the loan after it. */
export type RecordedRepayment = Pick<
  Rebooked,
  'loan' | 'writes' | 'allocations' | 'newVersion' | 'journal'
> & { readonly repayment: Repayment };

/**
 * Records a repayment without replaying the loan's history, from where the loan stands (read under
 * its lock): when the loan is active, was never restructured nor written off, no standing repayment
 * is dated after this one, and appendRepayment finds that the repayment changes nothing but itself
 * (it pays what is due and the next instalment, no more, and does not repay the loan). That is the
 * common case, and it costs the same whatever the loan's history. Otherwise undefined: rebookLoan.
 */
export function appendToHistory(
  loan: Loan,
  standing: LoanStanding | undefined,
  newRepayment: NewRepayment,
  today: CalendarDate,
): RecordedRepayment | undefined {
  if (
    !standing ||
    loan.status !== 'active' ||
    loan.written_off_on !== null ||
    standing.restructurings > 0 ||
    standing.paidOutsideVersion // an allocation to an instalment the current version does not have
  )
    return undefined;
  if (standing.lastRepaidOn !== null && standing.lastRepaidOn > newRepayment.value_date)
    return undefined;
  const { rows } = standing;
  const appended = appendRepayment(rows, {
    id: newRepayment.id,
    date: newRepayment.value_date,
    amount: newRepayment.amount,
    prepayment: newRepayment.prepayment,
  });
  if (!appended) return undefined;

  const { split, rows: allocations } = outcomeRows(appended.outcome);
  const repayment = unstoredRepayment(newRepayment, split);
  const { seq: _seq, ...row } = repayment;
  // Never restructured, nothing capitalised: the standing repayments left the principal less what they repaid of it.
  const principalRepaid = rows.reduce((sum, row) => sum + row.paid.principal, 0n);
  const owedBefore = cents(loan.principal - principalRepaid - standing.principalPrepaid);
  const outstanding = outstandingPrincipal(owedBefore, [appended.posting], today);
  const entry = loanEntry(loan, appended.posting);
  return {
    loan: { ...loan, outstanding_principal: outstanding },
    writes: [
      ...newRepaymentWrites(row, allocations),
      ...entryWrites(entry),
      outstandingWrite(loan.id, outstanding),
    ],
    newVersion: false,
    repayment,
    allocations: allocations.map((a) => ({ repayment_id: newRepayment.id, ...a })),
    journal: [entry],
  };
}
