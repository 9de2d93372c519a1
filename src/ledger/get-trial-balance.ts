import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { ACCOUNTS, type Account } from '../domain/ledger';
import { cents, ZERO, type Money } from '../domain/money';
import { findVisibleFund, type Fund } from '../funds/find-visible-fund';
import type { Actor } from '../http/auth';
import { accountTotals } from './ledger.repository';

export interface TrialBalanceLine {
  readonly account: Account;
  readonly debits: Money;
  readonly credits: Money;
  /** debits − credits: positive for a debit balance. */
  readonly balance: Money;
}

export interface TrialBalance {
  readonly fund: Fund;
  readonly asOf: CalendarDate;
  readonly lines: readonly TrialBalanceLine[];
  readonly totalDebits: Money;
  readonly totalCredits: Money;
}

/**
 * Every account of a fund the key may see, with its totals up to and including `asOf`; Σ debits =
 * Σ credits. The fund is found on the primary (`db`: one made a second ago exists), the sums are
 * made on `reads`, the replica if any, in one statement, so that they balance even there.
 */
export async function getTrialBalance(
  db: Db,
  actor: Actor,
  fundId: string,
  asOf: CalendarDate,
  reads: Db = db,
): Promise<TrialBalance> {
  const fund = await findVisibleFund(db, actor, fundId);
  const totals = new Map(
    (await accountTotals(reads, fund.id, asOf)).map((row) => [row.account, row]),
  );
  const lines = ACCOUNTS.map((account) => {
    const row = totals.get(account);
    const debits = row?.debits ?? ZERO;
    const credits = row?.credits ?? ZERO;
    return { account, debits, credits, balance: cents(debits - credits) };
  });
  const totalDebits = cents(lines.reduce((sum, line) => sum + line.debits, 0n));
  const totalCredits = cents(lines.reduce((sum, line) => sum + line.credits, 0n));
  return { fund, asOf, lines, totalDebits, totalCredits };
}
