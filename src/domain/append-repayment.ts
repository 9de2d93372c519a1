import { allocatePayment, total, unpaidOf, type Amounts, type Component } from './allocation';
import type { CalendarDate } from './dates';
import { ZERO, type Money } from './money';
import {
  repaymentPosting,
  type DesiredPosting,
  type PrepaymentChoice,
  type RepaymentOutcome,
} from './servicing';

/** An instalment of the current schedule version: its due amounts and what has been paid towards it. */
export interface StandingRow {
  readonly number: number;
  readonly dueDate: CalendarDate;
  readonly interest: Money;
  readonly principal: Money;
  readonly capitalisedInterest: Money;
  readonly paid: Amounts;
}

export interface AppendedRepayment {
  readonly id: string;
  readonly date: CalendarDate;
  readonly amount: Money;
  readonly prepayment: PrepaymentChoice;
}

/**
 * A repayment recorded after every other fact of an active loan that was never restructured or
 * written off, worked out from where the loan stands rather than by replaying its history: what
 * serviceLoan would make of it, when it changes nothing but itself. That is when no row of the
 * schedule capitalises interest or is of 0.00 (so no capitalisation moves), and the payment neither
 * leaves a remainder (a prepayment, a new schedule version, an excess) nor repays the loan. In any
 * other case: undefined, and the history is replayed. `rows` are the current version's, in order.
 */
export function appendRepayment(
  rows: readonly StandingRow[],
  event: AppendedRepayment,
): { outcome: RepaymentOutcome; posting: DesiredPosting } | undefined {
  if (rows.some((row) => row.capitalisedInterest !== 0n || row.interest + row.principal === 0n))
    return undefined;
  const states = rows.map((row) => ({
    number: row.number,
    dueDate: row.dueDate,
    due: dueOf(row),
    paid: row.paid,
  }));
  const { allocations, remainder } = allocatePayment(
    states,
    event.amount,
    event.date,
    event.prepayment === 'pay_ahead',
  );
  if (remainder !== 0n) return undefined;
  const allocated = new Map(allocations.map((a) => [a.number, total(a.amounts)]));
  if (states.every((state) => unpaidOf(state) - (allocated.get(state.number) ?? 0n) === 0n))
    return undefined; // it repays the loan
  const outcome: RepaymentOutcome = {
    allocations: allocations.filter((a) => total(a.amounts) > 0n),
    principalPrepaid: ZERO,
    excess: ZERO,
    recovered: ZERO,
  };
  return { outcome, posting: repaymentPosting(event, outcome) };
}

const dueOf = (row: StandingRow): Amounts =>
  ({
    fees: ZERO,
    late_interest: ZERO,
    interest: row.interest,
    principal: row.principal,
  }) satisfies Record<Component, Money>;
