import type { EventRow } from './events.repository';

/** An event as GET /v1/events shows it and as webhooks deliver it: the same body both ways. */
export function eventView(row: Pick<EventRow, 'id' | 'type' | 'created_at' | 'fund_id' | 'structure_id' | 'loan_id' | 'request_id' | 'data'>) {
  return {
    id: row.id,
    type: row.type,
    created_at: row.created_at.toISOString(),
    fund_id: row.fund_id,
    structure_id: row.structure_id,
    loan_id: row.loan_id,
    request_id: row.request_id,
    data: row.data,
  };
}
