import { formatMoney } from '../../src/domain/money';
import { buildSchedule } from '../../src/domain/schedule';
import {
  parseScheduleTerms,
  type ScheduleTermsBody,
} from '../../src/schedules/schedule-terms.input';

/** Terms written as in the API, with monthly annuity disbursed on 2025-01-15 unless said otherwise. */
export type TermsInput = Omit<ScheduleTermsBody, 'periodicity' | 'method' | 'disbursement_date'> &
  Partial<ScheduleTermsBody>;

/** The schedule with amounts as strings, as the API shows them. */
export function scheduleOf(input: TermsInput) {
  const schedule = buildSchedule(
    parseScheduleTerms({
      periodicity: 'monthly',
      method: 'annuity',
      disbursement_date: '2025-01-15',
      ...input,
    }),
  );
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
