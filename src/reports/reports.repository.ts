import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, ReportsTable } from '../db/schema';
import type { Write } from '../db/writes';
import { parseDate, type CalendarDate } from '../domain/dates';
import { oneOf } from '../domain/one-of';
import { enqueueSelected } from '../outbox/outbox';
import { JOB_STATUSES, requeueStalled, type JobStatus } from '../outbox/requeue-stalled';

const REPORT_TYPES = ['resilience', 'evaluation'] as const;
const TRIGGERS = ['request', 'schedule'] as const;
export type ReportType = (typeof REPORT_TYPES)[number];
export type ReportStatus = JobStatus;

type ReportColumns = Selectable<ReportsTable>;
/** A report as the domain reads it: its date a CalendarDate, its type, trigger and status checked. */
export type Report = Omit<ReportColumns, 'as_of' | 'type' | 'trigger' | 'status'> & {
  readonly as_of: CalendarDate;
  readonly type: ReportType;
  readonly trigger: (typeof TRIGGERS)[number];
  readonly status: ReportStatus;
};

/** Any selection of a report's columns that has the checked ones, checked (the summary's as the whole row's). */
export function rowToReport<R extends Pick<ReportColumns, 'as_of' | 'type' | 'trigger' | 'status'>>(
  row: R,
): Omit<R, 'as_of' | 'type' | 'trigger' | 'status'> &
  Pick<Report, 'as_of' | 'type' | 'trigger' | 'status'> {
  return {
    ...row,
    as_of: parseDate(row.as_of),
    type: oneOf(REPORT_TYPES, row.type, 'reports.type'),
    trigger: oneOf(TRIGGERS, row.trigger, 'reports.trigger'),
    status: oneOf(JOB_STATUSES, row.status, 'reports.status'),
  };
}

/** The job that computes a report: `report-<id>` on the reports queue. */
export const COMPUTE_REPORT = 'compute';
export const reportJobId = (reportId: string) => `report-${reportId}`;

export function insertReportWrite(report: {
  id: string;
  fundId: string;
  asOf: CalendarDate;
  requestedBy: string;
  type?: ReportType;
}): Write {
  return {
    query: sql`INSERT INTO reports (id, fund_id, as_of, trigger, requested_by, type)
      VALUES (${report.id}::uuid, ${report.fundId}::uuid, ${report.asOf}::date, 'request', ${report.requestedBy}, ${report.type ?? 'resilience'})`,
  };
}

/**
 * The month's scheduled report of every fund, as of `asOf`, with its job, in one statement: a fund
 * that has it already is left alone (the job may run twice). Returns how many were made.
 */
export async function createScheduledReports(db: Db, asOf: CalendarDate): Promise<number> {
  const { rows } = await sql<{ made: number }>`
    WITH made AS (
      INSERT INTO reports (id, fund_id, as_of, trigger)
      SELECT gen_random_uuid(), id, ${asOf}::date, 'schedule' FROM funds ORDER BY id
      ON CONFLICT (fund_id, as_of) WHERE trigger = 'schedule' DO NOTHING
      RETURNING id
    ), jobs AS (
      ${enqueueSelected(sql`SELECT 'reports', ${COMPUTE_REPORT}, 'report-' || id, jsonb_build_object('report_id', id) FROM made`)}
    )
    SELECT count(*)::int AS made FROM made`.execute(db);
  return rows[0]!.made;
}

export async function findReportById(db: Db, id: string): Promise<Report | undefined> {
  const row = await db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
  return row && rowToReport(row);
}

const SUMMARY_COLUMNS = [
  'id',
  'seq',
  'fund_id',
  'as_of',
  'type',
  'trigger',
  'requested_by',
  'status',
  'progress',
  'attempts',
  'error',
  'sha256',
  'csv_sha256',
  'created_at',
  'started_at',
  'finished_at',
] as const;

export type ReportSummary = Pick<Report, (typeof SUMMARY_COLUMNS)[number]>;

/** One page (plus one row) of a fund's reports, oldest first, without their results. */
export async function findReports(
  db: Db,
  filter: {
    fundId?: string;
    status?: ReportStatus;
    asOf?: CalendarDate;
    afterSeq?: string;
    limit: number;
  },
): Promise<ReportSummary[]> {
  let query = db.selectFrom('reports').select(SUMMARY_COLUMNS).orderBy('seq').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.asOf) query = query.where('as_of', '=', filter.asOf);
  if (filter.afterSeq) query = query.where('seq', '>', filter.afterSeq);
  return (await query.execute()).map(rowToReport);
}

/** Claims a report for an attempt: `running`, counted. Undefined when it is done (or unknown). */
export async function startReport(db: Db, id: string): Promise<Report | undefined> {
  const row = await db
    .updateTable('reports')
    .set((eb) => ({
      status: 'running',
      progress: 10,
      attempts: eb('attempts', '+', 1),
      started_at: sql<Date>`now()`,
      error: null,
    }))
    .where('id', '=', id)
    .where('status', '<>', 'done')
    .returningAll()
    .executeTakeFirst();
  return row && rowToReport(row);
}

export async function setReportProgress(db: Db, id: string, progress: number): Promise<void> {
  await db
    .updateTable('reports')
    .set({ progress })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .execute();
}

/** Stores the result, once; returns the report as done (undefined if it was done already). */
export async function finishReport(
  trx: Transaction<Database>,
  id: string,
  done: { result: unknown; csv: string; sha256: string; csvSha256: string },
): Promise<ReportSummary | undefined> {
  const row = await trx
    .updateTable('reports')
    .set({
      status: 'done',
      progress: 100,
      result: JSON.stringify(done.result),
      csv: done.csv,
      sha256: done.sha256,
      csv_sha256: done.csvSha256,
      finished_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('status', '<>', 'done')
    .returning(SUMMARY_COLUMNS)
    .executeTakeFirst();
  return row && rowToReport(row);
}

/** A failed attempt: `queued` again while BullMQ retries, `failed` after the last. */
export async function failReport(db: Db, id: string, error: string, last: boolean): Promise<void> {
  await db
    .updateTable('reports')
    .set({ status: last ? 'failed' : 'queued', error, progress: 0 })
    .where('id', '=', id)
    .where('status', '<>', 'done')
    .execute();
}

/** Reports no worker finished: a new job an hour, or given up (src/outbox/requeue-stalled.ts). */
export function requeueStalledReports(db: Db): Promise<{ queued: number; failed: number }> {
  return requeueStalled(db, { table: 'reports', jobName: COMPUTE_REPORT, prefix: 'report' });
}
