import type { Job } from 'bullmq';
import type { Db } from '../db/connect';
import { requeueStalledImports } from './imports.repository';

export const REQUEUE_STALLED_IMPORTS = 'requeue-stalled-imports';

/** Every hour at :35 (a job scheduler of the maintenance queue), after the exports' at :25. */
export const REQUEUE_STALLED_IMPORTS_SCHEDULE = {
  pattern: '35 * * * *',
  tz: 'Europe/Paris',
} as const;

/** The BullMQ processor: imports no worker finished get a new job, or are given up. */
export function requeueStalledImportsJob(db: Db) {
  return async (_job: Job): Promise<{ queued: number; failed: number }> =>
    requeueStalledImports(db);
}
