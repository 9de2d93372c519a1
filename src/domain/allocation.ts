import { actualDays, type CalendarDate } from './dates';
import { cents, ZERO, type Money } from './money';

/** What an instalment is made of, in the order a payment settles it (DOMAIN.md "Allocation"). */
export const COMPONENTS = ['fees', 'late_interest', 'interest', 'principal'] as const;
export type Component = (typeof COMPONENTS)[number];
export type Amounts = Readonly<Record<Component, Money>>;

export const NOTHING: Amounts = Object.freeze({
  fees: ZERO,
  late_interest: ZERO,
  interest: ZERO,
  principal: ZERO,
});

/** An instalment of the current schedule version and what has been paid towards it so far. */
export interface InstalmentState {
  readonly number: number;
  readonly dueDate: CalendarDate;
  readonly due: Amounts;
  readonly paid: Amounts;
  /** An instalment of 0.00 (a total deferral period) already settled in advance by an earlier payment. */
  readonly settled?: boolean;
}

export interface Allocation {
  readonly number: number;
  readonly amounts: Amounts;
}

export interface AllocationResult {
  readonly allocations: readonly Allocation[];
  /** What is left once overdue, due and the next instalment are settled: a prepayment, or an excess. */
  readonly remainder: Money;
}

export const total = (amounts: Amounts): Money =>
  cents(COMPONENTS.reduce((sum, c) => sum + amounts[c], 0n));
export const unpaidOf = (instalment: InstalmentState): Money =>
  cents(total(instalment.due) - total(instalment.paid));

/** Settles one instalment's components in order with what `available` allows. */
function settle(instalment: InstalmentState, available: Money): Allocation {
  let left: bigint = available;
  const amounts = { ...NOTHING } as Record<Component, Money>;
  for (const component of COMPONENTS) {
    const owed = instalment.due[component] - instalment.paid[component];
    const take = owed < left ? owed : left;
    if (take > 0n) {
      amounts[component] = cents(take);
      left -= take;
    }
  }
  return { number: instalment.number, amounts };
}

/**
 * Allocates a payment (DOMAIN.md "Allocation"): overdue and due instalments first, oldest first,
 * then the next instalment falling due after the value date, paid in advance with its amounts
 * unchanged; within each instalment fees, late interest, interest, principal. Instalments are those
 * of the current schedule version in number order. Pass `payAhead` to go on paying the following
 * instalments in order with what remains (the `pay_ahead` prepayment).
 */
export function allocatePayment(
  instalments: readonly InstalmentState[],
  amount: Money,
  valueDate: CalendarDate,
  payAhead = false,
): AllocationResult {
  const dueByValueDate = instalments.filter((i) => i.dueDate <= valueDate && unpaidOf(i) > 0n);
  // An instalment of 0.00 ahead (a total deferral period) is still the next one: paying it settles
  // nothing but its period, so a prepayment then reschedules from its due date, never mid-period.
  const ahead = instalments.filter(
    (i) => i.dueDate > valueDate && (unpaidOf(i) > 0n || (total(i.due) === 0n && !i.settled)),
  );
  const targets = [...dueByValueDate, ...(payAhead ? ahead : ahead.slice(0, 1))];
  const allocations: Allocation[] = [];
  let left: bigint = amount;
  for (const instalment of targets) {
    if (left === 0n) break;
    if (total(instalment.due) === 0n) {
      allocations.push({ number: instalment.number, amounts: NOTHING });
      continue;
    }
    const allocation = settle(instalment, cents(left));
    allocations.push(allocation);
    left -= total(allocation.amounts);
  }
  return { allocations, remainder: cents(left) };
}

export interface Arrears {
  /** Unpaid amounts of instalments whose due date is before the as-of date. */
  readonly overdue: Amounts;
  readonly overdueInstalments: number;
  /** As-of date − the oldest unpaid due date; 0 when nothing is overdue. */
  readonly daysPastDue: number;
}

/** DOMAIN.md "Arrears": an instalment is overdue when its due date is before the as-of date and it is not fully paid. */
export function arrearsAsOf(instalments: readonly InstalmentState[], asOf: CalendarDate): Arrears {
  const overdue = instalments.filter((i) => i.dueDate < asOf && unpaidOf(i) > 0n);
  const amounts = { ...NOTHING } as Record<Component, Money>;
  for (const instalment of overdue) {
    for (const c of COMPONENTS)
      amounts[c] = cents(amounts[c] + instalment.due[c] - instalment.paid[c]);
  }
  const oldest = overdue.reduce<CalendarDate | undefined>(
    (min, i) => (min === undefined || i.dueDate < min ? i.dueDate : min),
    undefined,
  );
  return {
    overdue: amounts,
    overdueInstalments: overdue.length,
    daysPastDue: oldest === undefined ? 0 : actualDays(oldest, asOf),
  };
}
