import type { Db } from '../db/connect';
import type { QueueName } from '../queues/redis';
import { findUnsent, markSent } from './outbox.repository';

/** What the relay needs of a BullMQ queue: `add` with a job id, which BullMQ adds once. */
export interface JobSink {
  add(name: string, data: unknown, options: { jobId: string }): Promise<unknown>;
}

/**
 * Moves up to `limit` unsent outbox rows to their queues, oldest first, then stamps those added as
 * sent. No transaction is open while Redis answers (the embedded PGlite has one connection, which the
 * API needs meanwhile). If Redis refuses a row, the pass stops there: the rows added before it are
 * stamped, then the error is thrown, and the row waits for the next pass. A row added but not
 * stamped (a crash in between) is added again by the next pass under the same job id, which BullMQ
 * keeps once. Returns how many rows were relayed.
 */
export async function relayOutbox(
  db: Db,
  queues: (name: QueueName) => JobSink,
  limit = 100,
): Promise<number> {
  const rows = await findUnsent(db, limit);
  const added: string[] = [];
  let failure: unknown;
  for (const row of rows) {
    try {
      await queues(row.queue).add(row.job_name, row.payload, { jobId: row.job_id });
    } catch (error) {
      failure = error;
      break;
    }
    added.push(row.id);
  }
  await markSent(db, added);
  if (failure !== undefined) throw failure;
  return added.length;
}
