import type { FieldError } from './errors';
import { formatMoney, type Money } from './money';
import { formatRate, type Rate } from './rate';
import type { Method, Periodicity, ScheduleTerms } from './schedule';

/** A product's kind, which its loans take (DOMAIN.md "Loan kinds and products"). */
export const LOAN_KINDS = ['recovery', 'common_law'] as const;
export type LoanKind = (typeof LOAN_KINDS)[number];
/** Where a loan is in its life (loans.status): a replay's outcome (LoanStatus) or before and beside it. */
export const LOAN_STATUSES = ['pending', 'active', 'repaid', 'written_off', 'cancelled'] as const;
export type LoanRecordStatus = (typeof LOAN_STATUSES)[number];

/** What a loan product allows (DOMAIN.md "Loan kinds and products"). */
export interface ProductRanges {
  readonly principalMin: Money;
  readonly principalMax: Money;
  readonly rateMin: Rate;
  readonly rateMax: Rate;
  readonly termMin: number;
  readonly termMax: number;
  readonly deferralMax: number;
  readonly methods: readonly Method[];
  readonly periodicities: readonly Periodicity[];
}

/** Every term of a loan outside its product's ranges, named by its API field. */
export function checkTermsAgainstProduct(
  terms: ScheduleTerms,
  product: ProductRanges,
): FieldError[] {
  const errors: FieldError[] = [];
  const outside = (field: string, low: string, high: string) =>
    errors.push({ field, message: `must be between ${low} and ${high} for this product` });
  if (terms.principal < product.principalMin || terms.principal > product.principalMax) {
    outside('principal', formatMoney(product.principalMin), formatMoney(product.principalMax));
  }
  if (terms.annualRate < product.rateMin || terms.annualRate > product.rateMax) {
    outside('annual_rate_percent', formatRate(product.rateMin), formatRate(product.rateMax));
  }
  if (terms.termPeriods < product.termMin || terms.termPeriods > product.termMax)
    outside('term_periods', String(product.termMin), String(product.termMax));
  if (terms.deferralPeriods > product.deferralMax)
    outside('deferral_periods', '0', String(product.deferralMax));
  if (!product.methods.includes(terms.method))
    errors.push({
      field: 'method',
      message: `must be one of ${product.methods.join(', ')} for this product`,
    });
  if (!product.periodicities.includes(terms.periodicity)) {
    errors.push({
      field: 'periodicity',
      message: `must be one of ${product.periodicities.join(', ')} for this product`,
    });
  }
  return errors;
}
