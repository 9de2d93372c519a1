import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, OutboxTable } from '../db/schema';
import type { Write } from '../db/writes';

export type QueueName = OutboxTable['queue'];

export interface OutboxJob {
  readonly queue: QueueName;
  readonly name: string;
  /** Deterministic, from what the job is about (`report-<id>`): no colon, not digits only. */
  readonly jobId: string;
  /** Ids, not state: the processor reloads what it needs. */
  readonly payload: Record<string, string | number | null>;
}

/** The job, as a write of the change's own statement: both land or neither; asked twice, kept once. */
export function outboxWrite(job: OutboxJob): Write {
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
  payload: Record<string, string | number | null>;
}

/** The oldest unsent rows, locked; another relay skips them rather than wait. */
export function lockUnsent(trx: Transaction<Database>, limit: number): Promise<UnsentRow[]> {
  return trx.selectFrom('outbox').select(['id', 'queue', 'job_name', 'job_id', 'payload'])
    .where('sent_at', 'is', null).orderBy('id').limit(limit).forUpdate().skipLocked()
    .execute() as Promise<UnsentRow[]>;
}

export async function markSent(trx: Transaction<Database>, ids: string[]): Promise<void> {
  if (ids.length > 0) await trx.updateTable('outbox').set({ sent_at: sql`now()` }).where('id', 'in', ids).execute();
}

/** How many rows wait, and since when (for /readyz and the worker's logs). */
export async function unsentSummary(db: Db): Promise<{ waiting: number; oldest: Date | null }> {
  const row = await db.selectFrom('outbox').select([sql<number>`count(*)::int`.as('waiting'), sql<Date | null>`min(created_at)`.as('oldest')])
    .where('sent_at', 'is', null).executeTakeFirstOrThrow();
  return row;
}
