import { buildSchedule, type Schedule } from '../domain/schedule';
import { parseScheduleTerms, type ScheduleTermsBody } from './schedule-terms.input';

/** The loan simulator: terms in, schedule out; stateless, so no transaction. */
export function previewSchedule(body: ScheduleTermsBody): Schedule {
  return buildSchedule(parseScheduleTerms(body));
}
