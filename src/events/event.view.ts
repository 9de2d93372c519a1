import type { EventRow } from './events.repository';

/** An event as GET /v1/events shows it and as webhooks deliver it: the same fields both ways. */
export function eventView(
  row: Pick<
    EventRow,
    'id' | 'type' | 'created_at' | 'fund_id' | 'structure_id' | 'loan_id' | 'request_id' | 'data'
  >,
) {
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

/** The JSON a webhook delivers: the event's fields, with its data's JSON text as stored (not parsed and written again). */
export function eventBody(
  row: Omit<Parameters<typeof eventView>[0], 'data'>,
  dataJson: string,
): string {
  const fields = JSON.stringify(eventView({ ...row, data: null }));
  return `${fields.slice(0, -'"data":null}'.length)}"data":${dataJson}}`;
}
