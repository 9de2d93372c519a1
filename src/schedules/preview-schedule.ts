import { DomainError } from '../domain/errors';
import { buildSchedule, type Schedule } from '../domain/schedule';
import { checkScheduleAmounts } from '../domain/schedule-terms';
import { parseScheduleTerms, type ScheduleTermsBody } from './schedule-terms.input';

/** The loan simulator: terms in, schedule out; stateless, so no transaction. */
export function previewSchedule(body: ScheduleTermsBody): Schedule {
  const terms = parseScheduleTerms(body);
  const schedule = buildSchedule(terms);
  const broken = checkScheduleAmounts(schedule, terms);
  if (broken.length > 0)
    throw new DomainError('rule_violation', 'The schedule would hold amounts it cannot.', broken);
  return schedule;
}
