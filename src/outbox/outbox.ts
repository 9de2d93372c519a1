import { sql, type RawBuilder } from 'kysely';
import type { Write } from '../db/writes';
import type { QueueName } from '../queues/redis';

export interface OutboxJob {
  readonly queue: QueueName;
  readonly name: string;
  /** Deterministic, from what the job is about (`report-<id>`): a letter, then letters, digits, '-' and '_'. */
  readonly jobId: string;
  /** Ids, not state: the processor reloads what it needs. */
  readonly payload: Record<string, string | number | null>;
}

const JOB_ID = /^[A-Za-z][A-Za-z0-9_-]{0,199}$/;

/**
 * The one home of an outbox row: the job, as a write of the change's own statement: both land or
 * neither; asked twice, kept once.
 */
export function enqueue(job: OutboxJob): Write {
  if (!JOB_ID.test(job.jobId)) throw new Error(`Not a job id BullMQ takes: ${job.jobId}`);
  return {
    query: enqueueSelected(
      sql`VALUES (${job.queue}, ${job.name}, ${job.jobId}, ${JSON.stringify(job.payload)}::jsonb)`,
    ),
  };
}

/**
 * A job per row of `rows`, a query giving (queue, job_name, job_id, payload) in that order: for
 * the set-based writes that make many jobs in one statement. A job id already queued is kept once.
 */
export function enqueueSelected(rows: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`INSERT INTO outbox (queue, job_name, job_id, payload) ${rows} ON CONFLICT (job_id) DO NOTHING`;
}
