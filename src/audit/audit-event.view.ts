import type { AuditEventRow } from './audit.repository';

/** `created_at` is the event's `occurred_at`: every resource of the API has one. */
export function auditEventView(row: AuditEventRow) {
  return {
    id: row.id,
    fund_id: row.fund_id,
    stream: row.stream,
    seq: row.seq,
    occurred_at: row.occurred_at.toISOString(),
    actor_key_id: row.actor_key_id,
    action: row.action,
    entity_type: row.entity_type,
    entity_id: row.entity_id,
    request_id: row.request_id,
    state: row.state,
    prev_hash: row.prev_hash,
    hash: row.hash,
    created_at: row.occurred_at.toISOString(),
  };
}
