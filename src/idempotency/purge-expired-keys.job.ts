import type { Job } from 'bullmq';
import type { Db } from '../db/connect';
import { purgeExpiredKeys } from './purge-expired-keys';

export const PURGE_EXPIRED_KEYS = 'purge-expired-idempotency-keys';

/** Every night at 03:30, Paris time (a job scheduler of the maintenance queue). */
export const PURGE_EXPIRED_KEYS_SCHEDULE = { pattern: '30 3 * * *', tz: 'Europe/Paris' } as const;

/** The BullMQ processor: a retried run deletes what is left, so at-least-once delivery is harmless. */
export function purgeExpiredKeysJob(db: Db) {
  return async (_job: Job): Promise<{ deleted: number }> => ({
    deleted: await purgeExpiredKeys(db),
  });
}
