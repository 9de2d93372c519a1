import { createHash } from 'node:crypto';
import reference from '../fixtures/reference-schedules.json';
import { buildSchedule } from '../../src/domain/schedule';
import { schedulePreviewView } from '../../src/schedules/schedule.view';
import {
  parseScheduleTerms,
  type ScheduleTermsBody,
} from '../../src/schedules/schedule-terms.input';

/**
 * 404 schedules computed by an independent implementation of DOMAIN.md in exact rationals
 * (test/reference/schedule_reference.py): hand-picked cases for every rule, and random ones.
 * Our engine must give the same schedule to the cent, row by row (some random cases compound past
 * what the API accepts; the engine itself has no such limit).
 */
describe('the engine agrees with the independent reference implementation', () => {
  it.each(reference.map((entry, index) => [index, entry] as const))('case %i', (_index, entry) => {
    const view = schedulePreviewView(
      buildSchedule(parseScheduleTerms(entry.terms as ScheduleTermsBody)),
    );
    expect({
      instalment_amount: view.instalment_amount,
      total_interest: view.total_interest,
      total_payable: view.total_payable,
      first_row: view.instalments[0],
      last_row: view.instalments.at(-1),
    }).toEqual({
      instalment_amount: entry.instalment_amount,
      total_interest: entry.total_interest,
      total_payable: entry.total_payable,
      first_row: entry.first_row,
      last_row: entry.last_row,
    });
    expect(createHash('sha256').update(JSON.stringify(view)).digest('hex')).toBe(entry.sha256);
  });
});
