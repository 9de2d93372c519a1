import {
  addMonths,
  actualDays,
  days30E360,
  monthDate,
  monthIndex,
  toYmd,
  type CalendarDate,
} from './dates';
import { rateForDays, ratePerPeriod, type Fraction, type Rate } from './rate';

export const PERIODICITIES = ['monthly', 'quarterly', 'semiannual', 'annual'] as const;
export type Periodicity = (typeof PERIODICITIES)[number];
export const DAY_COUNTS = ['30E/360', 'ACT/365', 'ACT/360'] as const;
export type DayCount = (typeof DAY_COUNTS)[number];

export const MONTHS_PER_PERIOD: Record<Periodicity, number> = {
  monthly: 1,
  quarterly: 3,
  semiannual: 6,
  annual: 12,
};

/** Rule 1: due date k is the first due date moved by k−1 periods, on the anchor day, clamped. */
export function dueDates(terms: {
  readonly periodicity: Periodicity;
  readonly termPeriods: number;
  readonly disbursementDate: CalendarDate;
  readonly firstDueDate?: CalendarDate;
}): CalendarDate[] {
  const months = MONTHS_PER_PERIOD[terms.periodicity];
  const anchor = terms.firstDueDate ?? terms.disbursementDate;
  const offset = terms.firstDueDate ? 0 : months;
  const anchorDay = toYmd(anchor).day;
  const first = monthIndex(anchor) + offset;
  const dates: CalendarDate[] = new Array(terms.termPeriods);
  for (let k = 0; k < terms.termPeriods; k++) dates[k] = monthDate(first + k * months, anchorDay);
  return dates;
}

export interface Accrual {
  readonly annualRate: Rate;
  readonly dayCount: DayCount;
  readonly periodicity: Periodicity;
}

/**
 * Rule 3: the interest fraction of each period, from `start` to the first due date, then from due
 * date to due date. Under 30E/360 a whole period's fraction is exactly r (month ends included);
 * a first period that is not whole uses rate × days(30E/360) / 360. Under ACT/365 and ACT/360 every
 * period counts its actual days.
 */
export function periodFractions(
  accrual: Accrual,
  start: CalendarDate,
  dates: readonly CalendarDate[],
  firstPeriodWhole: boolean,
): Fraction[] {
  const { annualRate, dayCount } = accrual;
  if (dayCount !== '30E/360') {
    const daysInYear = dayCount === 'ACT/365' ? 365 : 360;
    return dates.map((due, k) =>
      rateForDays(annualRate, actualDays(k === 0 ? start : dates[k - 1]!, due), daysInYear),
    );
  }
  // Whole periods share one Fraction object: the row loop and the level instalment rely on it being cheap.
  const fractions: Fraction[] = new Array(dates.length).fill(
    ratePerPeriod(annualRate, 12 / MONTHS_PER_PERIOD[accrual.periodicity]),
  );
  if (!firstPeriodWhole && dates.length > 0)
    fractions[0] = rateForDays(annualRate, days30E360(start, dates[0]!), 360);
  return fractions;
}

/** Whether the first period, from disbursement to the first due date, is exactly one period long. */
export const firstPeriodIsWhole = (
  periodicity: Periodicity,
  disbursementDate: CalendarDate,
  firstDueDate: CalendarDate,
): boolean => firstDueDate === addMonths(disbursementDate, MONTHS_PER_PERIOD[periodicity]);
