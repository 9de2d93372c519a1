import { cents, ZERO, type Money } from './money';

/** The accounts of a fund's ledger (DOMAIN.md "Ledger"). */
export const ACCOUNTS = ['cash', 'loans_receivable', 'interest_income', 'loan_losses', 'recoveries', 'owed_to_borrowers'] as const;
export type Account = (typeof ACCOUNTS)[number];

export interface JournalLine {
  readonly account: Account;
  readonly debit: Money;
  readonly credit: Money;
}

const debit = (account: Account, amount: Money): JournalLine => ({ account, debit: amount, credit: ZERO });
const credit = (account: Account, amount: Money): JournalLine => ({ account, debit: ZERO, credit: amount });

/** Disbursement: the fund's cash becomes a receivable on the borrower. */
export function disbursementLines(amount: Money): JournalLine[] {
  return [debit('loans_receivable', amount), credit('cash', amount)];
}

/** Debits − credits of a set of lines: zero for every balanced entry. */
export function imbalance(lines: readonly JournalLine[]): Money {
  return cents(lines.reduce((sum, line) => sum + line.debit - line.credit, 0n));
}
