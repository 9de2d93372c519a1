import type { AttemptRow } from './webhook-deliveries.repository';

/** One line of an endpoint's delivery log. */
export function attemptView(row: AttemptRow) {
  return {
    id: row.id,
    delivery_id: row.delivery_id,
    event_id: row.event_id,
    event_type: row.event_type,
    attempt: row.attempt,
    started_at: row.started_at.toISOString(),
    duration_ms: row.duration_ms,
    status_code: row.status_code,
    succeeded: row.error === null,
    error: row.error,
  };
}
