import type { Job } from 'bullmq';
import type { Db } from '../db/connect';
import { todayInParis } from '../http/clock';
import { scanReminders } from './scan-reminders';

export const SCAN_REMINDERS = 'scan-reminders';

/** Every morning at 07:00, Paris time (a job scheduler of the maintenance queue). */
export const SCAN_REMINDERS_SCHEDULE = { pattern: '0 7 * * *', tz: 'Europe/Paris' } as const;

/** The BullMQ processor: every fund, as of today in Paris; a retried run makes only what is missing. */
export function scanRemindersJob(db: Db) {
  return async (_job: Job): Promise<{ made: number }> => ({
    made: await scanReminders(db, todayInParis()),
  });
}
