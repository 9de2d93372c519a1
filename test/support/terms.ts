import { parseDate } from '../../src/domain/dates';
import { formatMoney, parseMoney } from '../../src/domain/money';
import { parseRate } from '../../src/domain/rate';
import { buildSchedule, type ScheduleTerms } from '../../src/domain/schedule';
import { checkScheduleTerms } from '../../src/domain/schedule-terms';

/** Terms written as in the API (strings for money and rates), with the API's defaults. */
export interface TermsInput {
  principal: string;
  annual_rate_percent: string;
  term_periods: number;
  periodicity?: ScheduleTerms['periodicity'];
  deferral_periods?: number;
  deferral_type?: ScheduleTerms['deferralType'];
  method?: ScheduleTerms['method'];
  day_count?: ScheduleTerms['dayCount'];
  rounding?: ScheduleTerms['rounding'];
  instalment_multiple?: string;
  disbursement_date?: string;
  first_due_date?: string;
}

export function termsOf(input: TermsInput): ScheduleTerms {
  return {
    principal: parseMoney(input.principal),
    annualRate: parseRate(input.annual_rate_percent),
    periodicity: input.periodicity ?? 'monthly',
    termPeriods: input.term_periods,
    deferralPeriods: input.deferral_periods ?? 0,
    deferralType: input.deferral_type ?? 'partial',
    method: input.method ?? 'annuity',
    dayCount: input.day_count ?? '30E/360',
    rounding: input.rounding ?? 'half_up',
    instalmentMultiple: parseMoney(input.instalment_multiple ?? '0.01'),
    disbursementDate: parseDate(input.disbursement_date ?? '2025-01-15'),
    ...(input.first_due_date ? { firstDueDate: parseDate(input.first_due_date) } : {}),
  };
}

/** The schedule with amounts as strings, as the API shows them. */
export function scheduleOf(input: TermsInput) {
  const terms = termsOf(input);
  expect(checkScheduleTerms(terms)).toEqual([]);
  const schedule = buildSchedule(terms);
  return {
    instalment: formatMoney(schedule.instalmentAmount),
    totalInterest: formatMoney(schedule.totalInterest),
    totalCapitalised: formatMoney(schedule.totalCapitalisedInterest),
    totalPayable: formatMoney(schedule.totalPayable),
    rows: schedule.rows.map((row) => ({
      due: row.dueDate,
      principal: formatMoney(row.principal),
      interest: formatMoney(row.interest),
      total: formatMoney(row.total),
      balance: formatMoney(row.balanceAfter),
      capitalised: formatMoney(row.capitalisedInterest),
    })),
  };
}
