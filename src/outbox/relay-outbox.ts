import type { Db } from '../db/connect';
import { lockUnsent, markSent, type QueueName } from './outbox.repository';

/** What the relay needs of a BullMQ queue: `add` with a job id, which BullMQ adds once. */
export interface JobSink {
  add(name: string, data: unknown, options: { jobId: string }): Promise<unknown>;
}

/**
 * Moves up to `limit` unsent outbox rows to their queues, oldest first, and stamps them sent, in one
 * transaction: if Redis refuses one, the error is thrown and no row is stamped (those already added
 * keep their job ids, so relaying them again adds nothing). Returns how many rows were relayed.
 */
export async function relayOutbox(db: Db, queues: (name: QueueName) => JobSink, limit = 100): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const rows = await lockUnsent(trx, limit);
    for (const row of rows) await queues(row.queue).add(row.job_name, row.payload, { jobId: row.job_id });
    await markSent(trx, rows.map((row) => row.id));
    return rows.length;
  });
}
