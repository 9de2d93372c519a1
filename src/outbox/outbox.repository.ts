import { sql } from 'kysely';
import type { Db } from '../db/connect';
import type { OutboxTable } from '../db/schema';
import type { Write } from '../db/writes';

export type QueueName = OutboxTable['queue'];

export interface OutboxJob {
  readonly queue: QueueName;
  readonly name: string;
  /** Deterministic, from what the job is about (`report-<id>`): a letter, then letters, digits, '-' and '_'. */
  readonly jobId: string;
  /** Ids, not state: the processor reloads what it needs. */
  readonly payload: Record<string, string | number | null>;
}

const JOB_ID = /^[A-Za-z][A-Za-z0-9_-]{0,199}$/;

/** The job, as a write of the change's own statement: both land or neither; asked twice, kept once. */
export function outboxWrite(job: OutboxJob): Write {
  if (!JOB_ID.test(job.jobId)) throw new Error(`Not a job id BullMQ takes: ${job.jobId}`);
  return {
    query: sql`INSERT INTO outbox (queue, job_name, job_id, payload)
      VALUES (${job.queue}, ${job.name}, ${job.jobId}, ${JSON.stringify(job.payload)}::jsonb) ON CONFLICT (job_id) DO NOTHING`,
  };
}

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
