import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { ACCOUNTS, type Account } from '../domain/ledger';
import { cents, parseMoney, ZERO, type Money } from '../domain/money';
import { accountTotals } from './ledger.repository';

export interface TrialBalanceLine {
  readonly account: Account;
  readonly debits: Money;
  readonly credits: Money;
  /** debits − credits: positive for a debit balance. */
  readonly balance: Money;
}

/** Every account of the fund with its totals up to and including `asOf`; Σ debits = Σ credits. */
export async function getTrialBalance(db: Db, fundId: string, asOf: CalendarDate): Promise<TrialBalanceLine[]> {
  const totals = new Map((await accountTotals(db, fundId, asOf)).map((row) => [row.account, row]));
  return ACCOUNTS.map((account) => {
    const row = totals.get(account);
    const debits = row ? parseMoney(row.debits) : ZERO;
    const credits = row ? parseMoney(row.credits) : ZERO;
    return { account, debits, credits, balance: cents(debits - credits) };
  });
}
