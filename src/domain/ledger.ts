import { cents, parseMoney, ZERO, type Money } from './money';
import { oneOf } from './one-of';

/** The accounts of a fund's ledger (DOMAIN.md "Ledger"). */
export const ACCOUNTS = [
  'cash',
  'loans_receivable',
  'interest_income',
  'loan_losses',
  'recoveries',
  'owed_to_borrowers',
] as const;
export type Account = (typeof ACCOUNTS)[number];

/** What a journal entry records (the journal_event domain of migrations/003 and 004). */
export const LEDGER_EVENTS = [
  'disbursement',
  'repayment',
  'capitalised_interest',
  'write_off',
  'recovery',
  'reversal',
] as const;
export type LedgerEvent = (typeof LEDGER_EVENTS)[number];

export interface JournalLine {
  readonly account: Account;
  readonly debit: Money;
  readonly credit: Money;
}

/** A stored line as SQL prints it, [account, debit, credit], read into a JournalLine. */
export const journalLineOf = ([account, debit, credit]: readonly [
  string,
  string,
  string,
]): JournalLine => ({
  account: oneOf(ACCOUNTS, account, 'journal_lines.account'),
  debit: parseMoney(debit),
  credit: parseMoney(credit),
});

const debit = (account: Account, amount: Money): JournalLine => ({
  account,
  debit: amount,
  credit: ZERO,
});
const credit = (account: Account, amount: Money): JournalLine => ({
  account,
  debit: ZERO,
  credit: amount,
});

/** Disbursement: the fund's cash becomes a receivable on the borrower. */
export function disbursementLines(amount: Money): JournalLine[] {
  return [debit('loans_receivable', amount), credit('cash', amount)];
}

/** Debits − credits of a set of lines: zero for every balanced entry. */
export function imbalance(lines: readonly JournalLine[]): Money {
  return cents(lines.reduce((sum, line) => sum + line.debit - line.credit, 0n));
}

const lines = (...candidates: JournalLine[]): JournalLine[] =>
  candidates.filter((line) => line.debit > 0n || line.credit > 0n);

/** A repayment: cash in; the principal it settles leaves loans receivable, interest is income, any excess is owed back. */
export function repaymentLines(
  amount: Money,
  principal: Money,
  interest: Money,
  excess: Money,
): JournalLine[] {
  return lines(
    debit('cash', amount),
    credit('loans_receivable', principal),
    credit('interest_income', interest),
    credit('owed_to_borrowers', excess),
  );
}

/** Interest added to the principal (a total deferral period, arrears capitalised by a restructuring). */
export function capitalisationLines(interest: Money): JournalLine[] {
  return [debit('loans_receivable', interest), credit('interest_income', interest)];
}

/** A write-off: the outstanding principal becomes a loss. */
export function writeOffLines(principal: Money): JournalLine[] {
  return [debit('loan_losses', principal), credit('loans_receivable', principal)];
}

/** Money received on a written-off loan. */
export function recoveryLines(amount: Money): JournalLine[] {
  return [debit('cash', amount), credit('recoveries', amount)];
}

/** The entry that cancels another: every line on the other side. */
export function oppositeLines(original: readonly JournalLine[]): JournalLine[] {
  return original.map((line) => ({
    account: line.account,
    debit: line.credit,
    credit: line.debit,
  }));
}

/** A journal entry as a loan's history calls for it or as it stands in the ledger, named by its source. */
export interface SourcedEntry {
  readonly source: string;
  readonly event: string;
  readonly valueDate: string;
  readonly lines: readonly JournalLine[];
}

const sameLines = (a: readonly JournalLine[], b: readonly JournalLine[]) =>
  a.length === b.length &&
  a.every(
    (line, k) =>
      line.account === b[k]!.account && line.debit === b[k]!.debit && line.credit === b[k]!.credit,
  );

/**
 * What a history's entries (`wanted`) change in the ledger holding `posted`: each posted entry the
 * history no longer calls for, or calls for otherwise, is `stale` (to reverse on its own value date);
 * each wanted entry not posted as it is, `unposted` (to post).
 */
export function ledgerChanges<P extends SourcedEntry, W extends SourcedEntry>(
  posted: readonly P[],
  wanted: readonly W[],
): { stale: P[]; unposted: W[] } {
  const standing = new Map(posted.map((entry) => [entry.source, entry]));
  const stale: P[] = [];
  const unposted: W[] = [];
  for (const entry of wanted) {
    const before = standing.get(entry.source);
    standing.delete(entry.source);
    if (
      before &&
      before.event === entry.event &&
      before.valueDate === entry.valueDate &&
      sameLines(before.lines, entry.lines)
    )
      continue;
    if (before) stale.push(before);
    unposted.push(entry);
  }
  stale.push(...standing.values());
  return { stale, unposted };
}
