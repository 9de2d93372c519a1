import { sql } from 'kysely';
import type { Db } from '../db/connect';
import type { QueueName } from '../queues/redis';
import type { OutboxJob } from './outbox';

export interface UnsentRow {
  id: string;
  queue: QueueName;
  job_name: string;
  job_id: string;
  payload: OutboxJob['payload'];
}

/** The oldest unsent rows (no lock: two relays may both add a row, which BullMQ keeps once by its job id). */
export function findUnsent(db: Db, limit: number): Promise<UnsentRow[]> {
  return db
    .selectFrom('outbox')
    .select(['id', 'queue', 'job_name', 'job_id', 'payload'])
    .where('sent_at', 'is', null)
    .orderBy('id')
    .limit(limit)
    .execute() as Promise<UnsentRow[]>;
}

export async function markSent(db: Db, ids: string[]): Promise<void> {
  if (ids.length > 0)
    await db
      .updateTable('outbox')
      .set({ sent_at: sql`now()` })
      .where('id', 'in', ids)
      .where('sent_at', 'is', null)
      .execute();
}
