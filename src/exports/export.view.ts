import type { Export } from './exports.repository';

/** An export's state: what a poller reads until `status` is `done` (or `failed`), then where to download it. */
export function exportView(row: Export) {
  return {
    id: row.id,
    fund_id: row.fund_id,
    as_of: row.as_of,
    status: row.status,
    progress: row.progress,
    attempts: row.attempts,
    error: row.error,
    size: row.size === null ? null : Number(row.size),
    sha256: row.sha256,
    download_url: row.status === 'done' ? `/v1/exports/${row.id}/bundle.zip` : null,
    created_at: row.created_at.toISOString(),
    started_at: row.started_at?.toISOString() ?? null,
    finished_at: row.finished_at?.toISOString() ?? null,
  };
}
