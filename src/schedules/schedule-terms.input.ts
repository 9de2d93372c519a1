import { parseDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { parseMoney } from '../domain/money';
import { parseRate } from '../domain/rate';
import type {
  DayCount,
  DeferralType,
  Method,
  Periodicity,
  ScheduleTerms,
} from '../domain/schedule';
import { checkScheduleTerms } from '../domain/schedule-terms';

/** The JSON body of schedule terms, as openapi.yaml's ScheduleTerms has already validated it. */
export interface ScheduleTermsBody {
  principal: string;
  annual_rate_percent: string;
  periodicity: Periodicity;
  term_periods: number;
  deferral_periods?: number;
  deferral_type?: DeferralType;
  method: Method;
  day_count?: DayCount;
  rounding?: 'half_up' | 'half_even';
  instalment_multiple?: string;
  disbursement_date: string;
  first_due_date?: string | null;
}

/** Body → domain terms with DOMAIN.md's defaults, rules not checked yet. */
export function termsFromBody(body: ScheduleTermsBody): ScheduleTerms {
  return {
    principal: parseMoney(body.principal),
    annualRate: parseRate(body.annual_rate_percent),
    periodicity: body.periodicity,
    termPeriods: body.term_periods,
    deferralPeriods: body.deferral_periods ?? 0,
    deferralType: body.deferral_type ?? 'partial',
    method: body.method,
    dayCount: body.day_count ?? '30E/360',
    rounding: body.rounding ?? 'half_up',
    instalmentMultiple: parseMoney(body.instalment_multiple ?? '0.01'),
    disbursementDate: parseDate(body.disbursement_date),
    ...(body.first_due_date == null ? {} : { firstDueDate: parseDate(body.first_due_date) }),
  };
}

/** Body → domain terms with DOMAIN.md's defaults; a 422 naming every field that breaks a rule. */
export function parseScheduleTerms(body: ScheduleTermsBody): ScheduleTerms {
  const terms = termsFromBody(body);
  const broken = checkScheduleTerms(terms);
  if (broken.length > 0)
    throw new DomainError('rule_violation', 'The schedule terms break a business rule.', broken);
  return terms;
}
