import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import type { Account, JournalLine } from '../domain/ledger';
import { cents, type Money } from '../domain/money';
import type { Actor } from '../http/auth';
import { findVisibleLoan } from '../loans/find-visible-loan';
import { loanEntries } from './ledger.repository';

export interface StatementLine {
  readonly entryId: string;
  readonly valueDate: string;
  readonly type: string;
  readonly reverses: string | null;
  readonly repaymentId: string | null;
  readonly reference: string | null;
  /** Money the borrower paid (+) or received (−): cash on the fund's side. */
  readonly cash: Money;
  /** The change in principal owed: + disbursed or capitalised, − repaid or written off. */
  readonly principal: Money;
  /** Interest paid (+) or capitalised (+), as interest income. */
  readonly interest: Money;
  readonly excess: Money;
  readonly recovered: Money;
  readonly writtenOff: Money;
  /** The outstanding principal after this movement. */
  readonly balance: Money;
}

const net = (lines: readonly JournalLine[], account: Account, sign: 1n | -1n): Money =>
  cents(
    lines
      .filter((l) => l.account === account)
      .reduce((sum, l) => sum + sign * (l.debit - l.credit), 0n),
  );

/**
 * The movements a borrower sees: the entries that stand, and each cancelled movement (a reversed
 * repayment, say) as its last posting followed by its reversal. Postings superseded by a replay (a
 * repayment re-allocated after a back-dated change) and their technical reversals stay in the
 * ledger but are left out here: shown in value-date order they would give balances the loan never had.
 */
function movements<
  E extends { id: string; source: string | null; event: string; reverses: string | null },
>(entries: readonly E[]): E[] {
  const reversed = new Map(entries.filter((e) => e.reverses !== null).map((e) => [e.reverses!, e]));
  const sourceOf = (e: E) => e.source ?? e.event;
  const standingSources = new Set(
    entries.filter((e) => e.reverses === null && !reversed.has(e.id)).map(sourceOf),
  );
  const lastCancelled = new Map<string, E>();
  for (const e of entries)
    if (e.reverses === null && reversed.has(e.id) && !standingSources.has(sourceOf(e)))
      lastCancelled.set(sourceOf(e), e);
  const shown: E[] = [];
  for (const e of entries) {
    if (e.reverses !== null) continue;
    if (!reversed.has(e.id)) shown.push(e);
    else if (lastCancelled.get(sourceOf(e)) === e) shown.push(e, reversed.get(e.id)!);
  }
  return shown;
}

/**
 * What a borrower sees in a partner portal: every movement of the loan up to `asOf`, from its journal
 * entries, with the outstanding principal after each one (the loan's loans-receivable balance).
 */
export async function getLoanStatement(db: Db, actor: Actor, loanId: string, asOf: CalendarDate) {
  const loan = await findVisibleLoan(db, actor, loanId);
  let balance = 0n;
  const lines: StatementLine[] = movements(await loanEntries(db, loan.id, asOf)).map((entry) => {
    const principal = net(entry.lines, 'loans_receivable', 1n);
    balance += principal;
    return {
      entryId: entry.id,
      valueDate: entry.value_date,
      type: entry.event,
      reverses: entry.reverses,
      repaymentId: entry.repayment_id,
      reference: entry.reference,
      cash: net(entry.lines, 'cash', 1n),
      principal,
      interest: net(entry.lines, 'interest_income', -1n),
      excess: net(entry.lines, 'owed_to_borrowers', -1n),
      recovered: net(entry.lines, 'recoveries', -1n),
      writtenOff: net(entry.lines, 'loan_losses', 1n),
      balance: cents(balance),
    };
  });
  return { loan, asOf, lines, outstanding: cents(balance) };
}
