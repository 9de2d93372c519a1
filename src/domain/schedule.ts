import type { CalendarDate } from './dates';
import { levelInstalment } from './level-instalment';
import { cents, multiplyRounded, roundToMultiple, ZERO, type Money, type Rounding } from './money';
import {
  dueDates,
  firstPeriodIsWhole,
  periodFractions,
  type DayCount,
  type Periodicity,
} from './periods';
import type { Fraction, Rate } from './rate';

export { DAY_COUNTS, MONTHS_PER_PERIOD, type DayCount, type Periodicity } from './periods';
export const METHODS = ['annuity', 'linear', 'bullet'] as const;
export type Method = (typeof METHODS)[number];
export const DEFERRAL_TYPES = ['partial', 'total'] as const;
export type DeferralType = (typeof DEFERRAL_TYPES)[number];

/** The schedule inputs of DOMAIN.md "Schedule rules", parsed. */
export interface ScheduleTerms {
  readonly principal: Money;
  readonly annualRate: Rate;
  readonly periodicity: Periodicity;
  readonly termPeriods: number;
  readonly deferralPeriods: number;
  readonly deferralType: DeferralType;
  readonly method: Method;
  readonly dayCount: DayCount;
  readonly rounding: Rounding;
  readonly instalmentMultiple: Money;
  readonly disbursementDate: CalendarDate;
  readonly firstDueDate?: CalendarDate;
}

/** One instalment; `total` = principal + interest is what falls due on `dueDate`. */
export interface ScheduleRow {
  readonly number: number;
  readonly dueDate: CalendarDate;
  readonly principal: Money;
  readonly interest: Money;
  readonly total: Money;
  readonly capitalisedInterest: Money;
  readonly balanceAfter: Money;
}

export interface Schedule {
  /** annuity: the level instalment; linear and bullet: the first instalment after deferral. */
  readonly instalmentAmount: Money;
  /** Every cent of interest the loan costs: interest due on the rows plus interest capitalised. */
  readonly totalInterest: Money;
  readonly totalCapitalisedInterest: Money;
  /** principal + totalInterest: the sum of every row's total. */
  readonly totalPayable: Money;
  readonly rows: readonly ScheduleRow[];
}

/** What amortise needs: the balance to repay and, for each period, its due date and interest fraction. */
export interface Amortisation {
  readonly balance: Money;
  readonly dueDates: readonly CalendarDate[];
  readonly fractions: readonly Fraction[];
  readonly deferralPeriods: number;
  readonly deferralType: DeferralType;
  /** The type of each deferral period when they differ (a moratorium added to a loan's own deferral). */
  readonly deferralTypes?: readonly DeferralType[];
  readonly method: Method;
  readonly rounding: Rounding;
  readonly instalmentMultiple: Money;
  /**
   * A level instalment (annuity) or principal part (linear) to keep rather than compute: the
   * `reduce_term` prepayment. The schedule then ends as soon as the balance is repaid, the last
   * row taking the residue, and the periods no longer needed are dropped.
   */
  readonly keepLevel?: Money;
}

/**
 * Rules 4–7: splits each period into principal and interest. Deferral periods come first; the
 * last period repays exactly what remains, so every rounding residue lands there. A principal
 * part never exceeds the balance, so an instalment multiple coarser than the loan itself cannot
 * drive a balance below zero (the loan is then repaid early and later rows are 0.00).
 */
export function amortise(input: Amortisation): Schedule {
  const { fractions, dueDates: dates, deferralPeriods, rounding, method } = input;
  const n = fractions.length;
  const rows: ScheduleRow[] = new Array(n);
  const start = input.balance;
  let balance: bigint = start;
  let totalInterest = 0n;
  let totalCapitalised = 0n;

  for (let k = 0; k < deferralPeriods; k++) {
    const f = fractions[k]!;
    const interest = multiplyRounded(cents(balance), f, rounding);
    if ((input.deferralTypes?.[k] ?? input.deferralType) === 'total') {
      balance += interest;
      totalCapitalised += interest;
      rows[k] = row(k, dates[k]!, ZERO, ZERO, ZERO, interest, balance);
    } else {
      totalInterest += interest;
      rows[k] = row(k, dates[k]!, ZERO, interest, interest, ZERO, balance);
    }
  }

  const remaining = BigInt(n - deferralPeriods);
  let level: bigint = input.keepLevel ?? 0n;
  if (method === 'annuity' && input.keepLevel === undefined)
    level = levelInstalment(
      cents(balance),
      fractions.slice(deferralPeriods),
      input.instalmentMultiple,
      rounding,
    );
  if (method === 'linear' && input.keepLevel === undefined)
    level = roundToMultiple(balance, remaining, input.instalmentMultiple, rounding);
  let end = n;

  for (let k = deferralPeriods; k < n; k++) {
    const f = fractions[k]!;
    let interest: bigint = multiplyRounded(cents(balance), f, rounding);
    let capitalised = 0n;
    let principal: bigint;
    let total: bigint;
    if (k === n - 1) {
      principal = balance;
      total = principal + interest;
    } else if (method === 'annuity' && interest > level) {
      // The instalment does not cover this period's interest (a long first period, say): it all goes
      // to interest and the shortfall is capitalised, which is what B = Σ A / Π(1 + f_j) assumes.
      capitalised = interest - level;
      interest = level;
      principal = 0n;
      total = level;
      balance += capitalised;
      totalCapitalised += capitalised;
    } else if (method === 'annuity') {
      principal = level - interest;
      total = level; // one bigint fewer per row than principal + interest
      if (principal > balance) {
        principal = balance;
        total = principal + interest;
      }
    } else if (method === 'linear') {
      principal = level < balance ? level : balance;
      total = principal + interest;
    } else {
      principal = 0n;
      total = interest;
    }
    balance -= principal;
    totalInterest += interest;
    rows[k] = row(k, dates[k]!, principal, interest, total, capitalised, balance);
    if (balance === 0n && input.keepLevel !== undefined && method !== 'bullet') {
      end = k + 1; // reduce_term: repaid early, the later periods are no longer needed
      break;
    }
  }
  rows.length = end;

  totalInterest += totalCapitalised;
  return {
    instalmentAmount: method === 'annuity' ? cents(level) : rows[deferralPeriods]!.total,
    totalInterest: cents(totalInterest),
    totalCapitalisedInterest: cents(totalCapitalised),
    totalPayable: cents(start + totalInterest),
    rows,
  };
}

function row(
  k: number,
  dueDate: CalendarDate,
  principal: bigint,
  interest: bigint,
  total: bigint,
  capitalised: bigint,
  balance: bigint,
): ScheduleRow {
  return {
    number: k + 1,
    dueDate,
    principal: cents(principal),
    interest: cents(interest),
    total: cents(total),
    capitalisedInterest: cents(capitalised),
    balanceAfter: cents(balance),
  };
}

/** The whole schedule of a loan from its terms. Terms must have passed checkScheduleTerms. */
export function buildSchedule(terms: ScheduleTerms): Schedule {
  const dates = dueDates(terms);
  return amortise({
    balance: terms.principal,
    dueDates: dates,
    fractions: periodFractions(
      terms,
      terms.disbursementDate,
      dates,
      firstPeriodIsWhole(terms.periodicity, terms.disbursementDate, dates[0]!),
    ),
    deferralPeriods: terms.deferralPeriods,
    deferralType: terms.deferralType,
    method: terms.method,
    rounding: terms.rounding,
    instalmentMultiple: terms.instalmentMultiple,
  });
}
