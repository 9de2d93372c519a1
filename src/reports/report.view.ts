import type { Report, ReportSummary } from './reports.repository';

/** A report's state: what a poller reads until `status` is `done` (or `failed`). */
export function reportSummaryView(row: ReportSummary) {
  return {
    id: row.id,
    fund_id: row.fund_id,
    as_of: row.as_of,
    type: row.type,
    trigger: row.trigger,
    status: row.status,
    progress: row.progress,
    attempts: row.attempts,
    error: row.error,
    sha256: row.sha256,
    csv_sha256: row.csv_sha256,
    csv_url: row.status === 'done' ? `/v1/reports/${row.id}.csv` : null,
    created_at: row.created_at.toISOString(),
    started_at: row.started_at?.toISOString() ?? null,
    finished_at: row.finished_at?.toISOString() ?? null,
  };
}

/** The state and, once done, the result as stored (its canonical JSON has the SHA-256 `sha256`). */
export function reportView(row: Report) {
  return { ...reportSummaryView(row), result: row.result ?? null };
}
