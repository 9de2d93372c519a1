import type { Db } from '../db/connect';
import { deleteExpiredKeys } from './idempotency.repository';

const BATCH = 1000;

/**
 * Forgets the Idempotency-Keys past their retention (seven days: DOMAIN.md asks for 24 hours at
 * least), in batches of a thousand, each its own statement, so that no long transaction holds the
 * table. Returns how many were deleted.
 */
export async function purgeExpiredKeys(db: Db): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteExpiredKeys(db, BATCH);
    total += deleted;
    if (deleted < BATCH) return total;
  }
}
