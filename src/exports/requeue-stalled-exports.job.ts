import type { Job } from 'bullmq';
import type { Db } from '../db/connect';
import { requeueStalledExports } from './exports.repository';

export const REQUEUE_STALLED_EXPORTS = 'requeue-stalled-exports';

/** Every hour at :25 (a job scheduler of the maintenance queue), after the reports' at :20. */
export const REQUEUE_STALLED_EXPORTS_SCHEDULE = {
  pattern: '25 * * * *',
  tz: 'Europe/Paris',
} as const;

/** The BullMQ processor: exports no worker finished get a new job, or are given up. */
export function requeueStalledExportsJob(db: Db) {
  return async (_job: Job): Promise<{ queued: number; failed: number }> =>
    requeueStalledExports(db);
}
