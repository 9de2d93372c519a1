import { sql } from 'kysely';
import type { Db } from '../db/connect';
import { enqueueSelected } from './outbox';

/** Where a report, an export or an import is in its life (their tables' status column). */
export const JOB_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Work that a worker builds from a row of its own table (a report, an export), one job per row. */
export interface StalledWork {
  /** Its table, whose name is also its queue's. */
  readonly table: 'reports' | 'exports' | 'imports';
  readonly jobName: string;
  /** `report` → job ids `report-<id>-<yyyymmddhh>`; the job's payload names the row as `<prefix>_id`. */
  readonly prefix: 'report' | 'export' | 'import';
}

/** The column each table shows its progress in, back to 0 when the work is given up. */
const PROGRESS = { reports: 'progress', exports: 'progress', imports: 'rows_done' } as const;

/**
 * Rows no worker finished — their job lost (Redis restarted without its file) or failed without its
 * processor (a worker killed again and again) — an hour after they were asked for or last started:
 * a new job through the outbox, one an hour; `failed`, saying so, after six attempts or a day.
 */
export async function requeueStalled(
  db: Db,
  work: StalledWork,
): Promise<{ queued: number; failed: number }> {
  const table = sql.table(work.table);
  const { rows } = await sql<{ queued: number; failed: number }>`
    WITH stalled AS (
      SELECT id, attempts, created_at FROM ${table}
      WHERE status IN ('queued', 'running') AND coalesce(started_at, created_at) < now() - interval '1 hour'
    ), given_up AS (
      UPDATE ${table} r SET status = 'failed', ${sql.ref(PROGRESS[work.table])} = 0,
        error = 'no worker finished it after ' || r.attempts || ' attempts' || coalesce(' (last error: ' || r.error || ')', '')
      FROM stalled s WHERE r.id = s.id AND (s.attempts >= 6 OR s.created_at < now() - interval '1 day')
      RETURNING r.id
    ), queued AS (
      ${enqueueSelected(sql`SELECT ${work.table}, ${work.jobName}, ${work.prefix} || '-' || id || '-' || to_char(now(), 'YYYYMMDDHH24'),
        jsonb_build_object(${`${work.prefix}_id`}::text, id)
      FROM stalled WHERE id NOT IN (SELECT id FROM given_up)`)}
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM queued)::int AS queued, (SELECT count(*) FROM given_up)::int AS failed`.execute(
    db,
  );
  return rows[0]!;
}
