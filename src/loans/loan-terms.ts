import { parseDate, type CalendarDate } from '../domain/dates';
import { parseMoney, type Rounding } from '../domain/money';
import type { ProductRanges } from '../domain/product-ranges';
import { parseRate } from '../domain/rate';
import type { DayCount, DeferralType, Method, Periodicity, ScheduleTerms } from '../domain/schedule';
import type { ProductRow } from '../products/find-product';
import type { LoanRow } from './loans.repository';

/** A stored loan's schedule terms; `disbursedOn` replaces the expected disbursement date. */
export function termsOfLoan(loan: LoanRow, disbursedOn?: CalendarDate): ScheduleTerms {
  return {
    principal: parseMoney(loan.principal),
    annualRate: parseRate(loan.annual_rate_percent),
    periodicity: loan.periodicity as Periodicity,
    termPeriods: loan.term_periods,
    deferralPeriods: loan.deferral_periods,
    deferralType: loan.deferral_type as DeferralType,
    method: loan.method as Method,
    dayCount: loan.day_count as DayCount,
    rounding: loan.rounding as Rounding,
    instalmentMultiple: parseMoney(loan.instalment_multiple),
    disbursementDate: disbursedOn ?? parseDate(loan.disbursement_date),
    ...(loan.first_due_date ? { firstDueDate: parseDate(loan.first_due_date) } : {}),
  };
}

export function rangesOfProduct(product: ProductRow): ProductRanges {
  return {
    principalMin: parseMoney(product.principal_min),
    principalMax: parseMoney(product.principal_max),
    rateMin: parseRate(product.annual_rate_percent_min),
    rateMax: parseRate(product.annual_rate_percent_max),
    termMin: product.term_periods_min,
    termMax: product.term_periods_max,
    deferralMax: product.deferral_periods_max,
    methods: product.methods as Method[],
    periodicities: product.periodicities as Periodicity[],
  };
}
