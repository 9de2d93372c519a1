import { NOTHING, unpaidOf, type Amounts } from './allocation';
import { cents, type Money } from './money';
import type { DeferralType, ScheduleRow } from './schedule';

/** A schedule row and, for deferral periods, their type. */
export interface ServicedRow extends ScheduleRow {
  readonly deferral: DeferralType | null;
}

/** What a row asks for: its interest and principal. */
export const dueOf = (row: ScheduleRow): Amounts => ({
  ...NOTHING,
  interest: row.interest,
  principal: row.principal,
});

/** What a row still owes after `paid`. */
export const unpaidRow = (row: ServicedRow, paid: Amounts) =>
  unpaidOf({ number: row.number, dueDate: row.dueDate, due: dueOf(row), paid });

/** The types of the deferral periods the rows start with. */
export const leadingDeferrals = (rows: readonly ServicedRow[]): DeferralType[] => {
  const types: DeferralType[] = [];
  for (const row of rows) {
    if (row.deferral === null) break;
    types.push(row.deferral);
  }
  return types;
};

/**
 * The principal the rows from `from` on repay: the balance they open with. Not the balance after the
 * row before them, which a prepayment made since then has already reduced.
 */
export const openingBalance = (rows: readonly ServicedRow[], from: number): Money => {
  const first = rows[from]!;
  return cents(first.balanceAfter + first.principal - first.capitalisedInterest);
};
