import Decimal from 'decimal.js';
import { actualDays, type CalendarDate } from './dates';
import { cents, type Money } from './money';

/**
 * The gross grant equivalent of a loan (DOMAIN.md "State aid"): the Commission's reference-rate
 * method, Communication 2008/C 14/02. Outside integer cents (fractional-year discount factors), so
 * decimal.js through this one clone: 40 significant digits, and the one rounding, half-up to the
 * cent, at the very end.
 */
const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
type Dec = InstanceType<typeof D>;

export const RATING_CLASSES = [
  'strong',
  'good',
  'satisfactory',
  'weak',
  'bad',
  'no_credit_history',
] as const;
export const COLLATERAL_CLASSES = ['high', 'normal', 'low'] as const;
export type RatingClass = (typeof RATING_CLASSES)[number];
export type CollateralClass = (typeof COLLATERAL_CLASSES)[number];
/** The legal basis a loan's aid is granted under (docs/state-aid.md). */
export const LEGAL_BASES = ['de_minimis', 'sgei_de_minimis', 'block_exemption', 'no_aid'] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

/**
 * The Communication's loan margins in basis points, rating × collateralisation (high, normal, low).
 * `no_credit_history`: the Communication raises the base rate by at least 400 bp for an undertaking
 * without a credit history; we take that floor whatever the collateral (docs/state-aid.md).
 */
const MARGINS_BP: Record<RatingClass, readonly [number, number, number]> = {
  strong: [60, 75, 100],
  good: [75, 100, 220],
  satisfactory: [100, 220, 400],
  weak: [220, 400, 650],
  bad: [400, 650, 1000],
  no_credit_history: [400, 400, 400],
};

/** Basis points added to the base rate for the reference rate. */
export function marginBasisPoints(rating: RatingClass, collateral: CollateralClass): number {
  return MARGINS_BP[rating][COLLATERAL_CLASSES.indexOf(collateral)]!;
}

/** The discount rate is the base rate + 100 bp, whatever the borrower. */
export const DISCOUNT_MARGIN_BP = 100;

/** A percent string ("3.5") plus basis points, as a percent string: exact, no rounding. */
export function addBasisPoints(percent: Decimal.Value, basisPoints: number): string {
  return new D(percent).plus(new D(basisPoints).div(100)).toFixed();
}

/** What the GGE reads of one schedule row: its due date and what it charged, in cents. */
export interface AidRow {
  readonly dueDate: CalendarDate;
  readonly interest: Money;
  readonly capitalisedInterest: Money;
  readonly balanceAfter: Money;
}

export interface GgeInput {
  readonly principal: Money;
  /** The grant date: the disbursement date. Periods and discounting start there. */
  readonly grantDate: CalendarDate;
  /** The loan's actual schedule, in due-date order. */
  readonly rows: readonly AidRow[];
  /** Annual rates in percent (any decimal: a loan keeps them as stored, numeric(9,6) that may be negative). */
  readonly referenceRatePercent: Decimal.Value;
  readonly discountRatePercent: Decimal.Value;
}

/**
 * GGE = Σ_k (B_k × ref × d_k / 365 − charged_k) × (1 + disc)^(−t_k), floored at 0, rounded half-up
 * to the cent once. B_k is the balance at the period's start (the principal, then the previous
 * row's balance, capitalised interest included), d_k the period's actual days, charged_k the row's
 * interest plus its capitalised interest, t_k = days from the grant date to its due date / 365.
 *
 * (1 + disc)^(−t_k) = v^(days_k) with v = (1 + disc)^(−1/365): one fractional power per loan, then
 * v^(days of the period) per row (integer powers, cached by period length) carried as a running
 * product — the same number (to far below a cent at 40 digits) for a fraction of the cost of a
 * fractional power per row.
 */
export function grossGrantEquivalent(input: GgeInput): Money {
  const ref = new D(input.referenceRatePercent).div(100);
  const perDay = new D(1).plus(new D(input.discountRatePercent).div(100)).pow(new D(-1).div(365));
  const refPerDay = ref.div(365);
  // v^days for the few period lengths a schedule has (28 to 31 days, 89 to 92, …), each raised once.
  const powers = new Map<number, Dec>();
  const power = (days: number) => powers.get(days) ?? powers.set(days, perDay.pow(days)).get(days)!;
  let sum: Dec = new D(0);
  let factor: Dec = new D(1); // v^(days from the grant date to the row's due date), carried row to row
  let balance: bigint = input.principal;
  let start = input.grantDate;
  for (const row of input.rows) {
    const days = actualDays(start, row.dueDate);
    factor = factor.times(power(days));
    const reference = refPerDay.times(balance.toString()).times(days);
    const charged = (row.interest + row.capitalisedInterest).toString();
    sum = sum.plus(reference.minus(charged).times(factor));
    balance = row.balanceAfter;
    start = row.dueDate;
  }
  // Cents all along: the one rounding turns Σ cents into whole cents.
  const rounded = sum.isNegative() ? new D(0) : sum.toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
  return cents(BigInt(rounded.toFixed(0)));
}

/** numeric(9,6) text ("-0.310000") in its shortest form ("-0.31"). */
export const normalisePercent = (stored: Decimal.Value): string => new D(stored).toFixed();
