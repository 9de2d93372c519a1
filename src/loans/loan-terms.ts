import type { CalendarDate } from '../domain/dates';
import type { FieldError } from '../domain/errors';
import { checkTermsAgainstProduct, type ProductRanges } from '../domain/product-ranges';
import { buildSchedule, type ScheduleTerms } from '../domain/schedule';
import { checkScheduleAmounts, checkScheduleTerms } from '../domain/schedule-terms';
import type { Product } from '../products/find-product';
import { termsFromBody, type ScheduleTermsBody } from '../schedules/schedule-terms.input';
import type { Loan } from './loan-rows';

/** A stored loan's schedule terms; `disbursedOn` replaces the expected disbursement date. */
export function termsOfLoan(loan: Loan, disbursedOn?: CalendarDate): ScheduleTerms {
  return {
    principal: loan.principal,
    annualRate: loan.annual_rate_percent,
    periodicity: loan.periodicity,
    termPeriods: loan.term_periods,
    deferralPeriods: loan.deferral_periods,
    deferralType: loan.deferral_type,
    method: loan.method,
    dayCount: loan.day_count,
    rounding: loan.rounding,
    instalmentMultiple: loan.instalment_multiple,
    disbursementDate: disbursedOn ?? loan.disbursement_date,
    ...(loan.first_due_date ? { firstDueDate: loan.first_due_date } : {}),
  };
}

/** The loan's members of schedule terms: termsOfLoan's inverse (POST /v1/loans and the CSV import). */
export function termsColumns(terms: ScheduleTerms) {
  return {
    principal: terms.principal,
    annual_rate_percent: terms.annualRate,
    periodicity: terms.periodicity,
    term_periods: terms.termPeriods,
    deferral_periods: terms.deferralPeriods,
    deferral_type: terms.deferralType,
    method: terms.method,
    day_count: terms.dayCount,
    rounding: terms.rounding,
    instalment_multiple: terms.instalmentMultiple,
    disbursement_date: terms.disbursementDate,
    first_due_date: terms.firstDueDate ?? null,
  };
}

export function rangesOfProduct(product: Product): ProductRanges {
  return {
    principalMin: product.principal_min,
    principalMax: product.principal_max,
    rateMin: product.annual_rate_percent_min,
    rateMax: product.annual_rate_percent_max,
    termMin: product.term_periods_min,
    termMax: product.term_periods_max,
    deferralMax: product.deferral_periods_max,
    methods: product.methods,
    periodicities: product.periodicities,
  };
}

/**
 * A loan request's terms (the product's rounding unless it names one) and every rule they break:
 * the schedule's, the product's ranges, then the amounts of the schedule they make. One definition
 * for POST /v1/loans and the import's dry run.
 */
export function checkLoanTerms(
  body: ScheduleTermsBody & { product_id: string; structure_id: string },
  product: Product,
): { terms: ScheduleTerms; broken: FieldError[] } {
  const { product_id: _product, structure_id: _structure, ...termsBody } = body;
  const terms = termsFromBody({
    ...termsBody,
    rounding: body.rounding ?? product.rounding,
  });
  const broken = [
    ...checkScheduleTerms(terms),
    ...checkTermsAgainstProduct(terms, rangesOfProduct(product)),
  ];
  if (broken.length === 0) broken.push(...checkScheduleAmounts(buildSchedule(terms), terms));
  return { terms, broken };
}
