import { sql, type Transaction } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../db/schema';
import { executeWrites, type Write } from '../db/writes';
import type { EventType } from './event-types';

export interface NewEvent {
  readonly type: EventType;
  readonly fundId: string;
  readonly structureId: string | null;
  readonly loanId: string | null;
  /** The resource as the API shows it (decimal strings). */
  readonly data: unknown;
  /** For an event a scan or a job may make twice: the second is dropped. */
  readonly dedupKey?: string;
}

/**
 * The one way to publish events: the writes that store them and owe each to every endpoint that
 * subscribed to its type (the fund's, and the structure's own), to send with the change's other
 * writes so that both land or neither. The request id of the change follows the event to the partner.
 */
export function eventWrites(requestId: string | null, events: readonly NewEvent[]): Write[] {
  if (events.length === 0) return [];
  const rows = events.map(
    (
      event,
    ) => sql`(${uuidv7()}::uuid, ${event.type}, ${event.fundId}::uuid, ${event.structureId}::uuid, ${event.loanId}::uuid,
    ${JSON.stringify(event.data)}::jsonb, ${requestId || null}, ${event.dedupKey ?? null})`,
  );
  return [
    {
      name: 'published_events',
      query: sql`INSERT INTO events (id, type, fund_id, structure_id, loan_id, data, request_id, dedup_key)
        VALUES ${sql.join(rows)} ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING
        RETURNING id, seq, type, fund_id, structure_id, loan_id`,
    },
    {
      // In the events' order, so that the deliveries of one loan queue in the order of its changes;
      // each waits behind the one before it (of this statement, or still owed from an earlier change).
      query: sql`INSERT INTO webhook_deliveries (endpoint_id, event_id, order_key, waiting)
        SELECT w.id, e.id, coalesce(e.loan_id, e.id),
          row_number() OVER (PARTITION BY w.id, coalesce(e.loan_id, e.id) ORDER BY e.seq) > 1
            OR EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = w.id AND p.order_key = coalesce(e.loan_id, e.id) AND p.status = 'pending')
        FROM published_events e JOIN webhook_endpoints w ON w.fund_id = e.fund_id
        WHERE w.enabled AND w.deleted_at IS NULL AND e.type = ANY (w.event_types)
          AND (w.structure_id IS NULL OR w.structure_id = e.structure_id)
        ORDER BY e.seq, w.id`,
    },
  ];
}

/**
 * Publishes events from a job's transaction (a scan's, a worker's). Their loans are held FOR SHARE
 * first: a change of the loan under way commits before these take their place in its order (the
 * changes made through the API hold the loan's row while they write).
 */
export async function publishEvents(
  trx: Transaction<Database>,
  requestId: string | null,
  events: readonly NewEvent[],
): Promise<void> {
  const loanIds = [
    ...new Set(events.flatMap((event) => (event.loanId === null ? [] : [event.loanId]))),
  ].sort();
  if (loanIds.length > 0)
    await trx
      .selectFrom('loans')
      .select('id')
      .where('id', 'in', loanIds)
      .orderBy('id')
      .forShare()
      .execute();
  await executeWrites(trx, eventWrites(requestId, events));
}

/** An event about a loan (or one of its repayments): the loan's fund and structure see it. */
export function loanEvent(
  type: EventType,
  loan: { id: string; fund_id: string; structure_id: string },
  data: unknown,
): NewEvent {
  return { type, fundId: loan.fund_id, structureId: loan.structure_id, loanId: loan.id, data };
}
