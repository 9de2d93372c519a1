import type { FieldError } from './errors';
import { formatMoney, MAX_AMOUNT } from './money';
import { MAX_ANNUAL_RATE } from './rate';
import type { Schedule, ScheduleTerms } from './schedule';

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
  if (terms.deferralPeriods >= terms.termPeriods)
    fail('deferral_periods', 'must be less than term_periods');
  if (terms.instalmentMultiple <= 0n) fail('instalment_multiple', 'must be greater than 0');
  for (const [field, date] of [
    ['disbursement_date', terms.disbursementDate],
    ['first_due_date', terms.firstDueDate],
  ] as const) {
    if (date !== undefined && (date < EARLIEST || date > LATEST))
      fail(field, `must be between ${EARLIEST} and ${LATEST}`);
  }
  if (terms.firstDueDate !== undefined && terms.firstDueDate <= terms.disbursementDate) {
    fail('first_due_date', 'must be after disbursement_date');
  }
  return errors;
}

/**
 * Amounts a schedule can hold: every amount of it is at most its total payable, which must fit
 * numeric(14,2). Only a long total deferral at a high rate gets near (interest compounds). And an
 * instalment_multiple so large that the level instalment (or the linear principal part) rounds to
 * 0.00 would repay nothing until the last row, capitalising the interest meanwhile: refused.
 */
export function checkScheduleAmounts(
  schedule: Schedule,
  terms: Pick<ScheduleTerms, 'method' | 'deferralPeriods'>,
): FieldError[] {
  const errors: FieldError[] = [];
  const roundedToNothing =
    terms.method === 'annuity'
      ? schedule.instalmentAmount === 0n
      : terms.method === 'linear' && schedule.rows[terms.deferralPeriods]?.principal === 0n; // linear parts are all alike
  if (roundedToNothing && schedule.rows.length > terms.deferralPeriods + 1) {
    errors.push({
      field: 'instalment_multiple',
      message: `is too large for this loan: the ${terms.method === 'annuity' ? 'level instalment' : 'principal part'} rounds to 0.00 and would repay nothing before the last instalment`,
    });
  }
  if (schedule.totalPayable > MAX_AMOUNT) {
    errors.push({
      field: 'principal',
      message: `with these terms the total payable would be ${formatMoney(schedule.totalPayable)}, above the largest amount (${formatMoney(MAX_AMOUNT)}): lend less, or shorten the term or the total deferral`,
    });
  }
  return errors;
}
