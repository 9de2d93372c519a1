import type { FieldError } from './errors';
import { MAX_ANNUAL_RATE } from './rate';
import type { ScheduleTerms } from './schedule';

const EARLIEST = '1900-01-01';
const LATEST = '2999-12-31';

/**
 * The business rules on schedule terms that a schema cannot express. Field names are the API's,
 * and every broken rule is reported, not only the first.
 */
export function checkScheduleTerms(terms: ScheduleTerms): FieldError[] {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });

  if (terms.principal <= 0n) fail('principal', 'must be greater than 0');
  if (terms.annualRate > MAX_ANNUAL_RATE) fail('annual_rate_percent', 'must be at most 100');
  if (terms.deferralPeriods >= terms.termPeriods) fail('deferral_periods', 'must be less than term_periods');
  if (terms.instalmentMultiple <= 0n) fail('instalment_multiple', 'must be greater than 0');
  for (const [field, date] of [['disbursement_date', terms.disbursementDate], ['first_due_date', terms.firstDueDate]] as const) {
    if (date !== undefined && (date < EARLIEST || date > LATEST)) fail(field, `must be between ${EARLIEST} and ${LATEST}`);
  }
  if (terms.firstDueDate !== undefined && terms.firstDueDate <= terms.disbursementDate) {
    fail('first_due_date', 'must be after disbursement_date');
  }
  return errors;
}
