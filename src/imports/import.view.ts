import type { ImportRow } from './imports.repository';

/** An import committed, as GET /v1/imports/{id} shows it. */
export function importView(row: ImportRow) {
  return {
    id: row.id,
    fund_id: row.fund_id,
    status: row.status,
    files: row.files,
    rows_total: row.rows_total,
    rows_done: row.rows_done,
    created: row.created ?? null,
    errors: row.errors,
    errors_not_shown: row.errors_not_shown,
    attempts: row.attempts,
    error: row.error,
    created_at: row.created_at.toISOString(),
    started_at: row.started_at?.toISOString() ?? null,
    finished_at: row.finished_at?.toISOString() ?? null,
  };
}
