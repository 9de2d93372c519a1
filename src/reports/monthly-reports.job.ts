import type { Job } from 'bullmq';
import type { Db } from '../db/connect';
import { daysInMonth, parseDate, toYmd, type CalendarDate } from '../domain/dates';
import { todayInParis } from '../http/clock';
import { createScheduledReports } from './reports.repository';

export const MONTHLY_REPORTS = 'monthly-reports';

/** On the first day of each month at 06:00, Paris time (a job scheduler of the maintenance queue). */
export const MONTHLY_REPORTS_SCHEDULE = { pattern: '0 6 1 * *', tz: 'Europe/Paris' } as const;

/** The last day of the month before `today`'s: what a month's report is as of. */
export function endOfPreviousMonth(today: CalendarDate): CalendarDate {
  const { year, month } = toYmd(today);
  const [y, m] = month === 1 ? [year - 1, 12] : [year, month - 1];
  return parseDate(`${y}-${String(m).padStart(2, '0')}-${daysInMonth(y, m)}`);
}

/** The BullMQ processor: every fund's report as of the end of last month, once each, whatever the retries. */
export function monthlyReportsJob(db: Db) {
  return async (_job: Job): Promise<{ made: number }> => ({
    made: await createScheduledReports(db, endOfPreviousMonth(todayInParis())),
  });
}
