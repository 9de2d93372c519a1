import type { Job } from 'bullmq';
import type { Db } from '../db/connect';
import { requeueStalledReports } from './reports.repository';

export const REQUEUE_STALLED_REPORTS = 'requeue-stalled-reports';

/** Every hour at :20 (a job scheduler of the maintenance queue). */
export const REQUEUE_STALLED_REPORTS_SCHEDULE = {
  pattern: '20 * * * *',
  tz: 'Europe/Paris',
} as const;

/** The BullMQ processor: reports no worker finished get a new job, or are given up. */
export function requeueStalledReportsJob(db: Db) {
  return async (_job: Job): Promise<{ queued: number; failed: number }> =>
    requeueStalledReports(db);
}
