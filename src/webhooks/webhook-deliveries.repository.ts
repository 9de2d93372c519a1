import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, WebhookAttemptsTable } from '../db/schema';
import type { EventRow } from '../events/events.repository';

/** A delivery a dispatcher holds until `leaseMs` from now: what it needs to send it. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly attempt: number;
  readonly endpoint_id: string;
  readonly url: string;
  /** The secrets that sign: the current one, and the previous one within 24 h of a rotation. */
  readonly secrets: string[];
  readonly event: Pick<EventRow, 'id' | 'type' | 'created_at' | 'fund_id' | 'structure_id' | 'loan_id' | 'request_id' | 'data'>;
}

/** How far down the queue a claim looks for deliveries free to go (the heads of their loans' queues). */
const CANDIDATES = 2000;

/**
 * Claims up to `limit` deliveries that may go now: due, not held, the first still owed of their
 * endpoint and loan (so that a loan's events reach an endpoint in order, one at a time), of an
 * enabled endpoint with fewer than `perEndpoint` deliveries under way. Two dispatchers never claim
 * the same delivery: the claim re-checks the hold on the locked row.
 */
export async function claimDeliveries(db: Db, limit: number, perEndpoint: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const { rows } = await sql<Omit<ClaimedDelivery, 'event' | 'secrets'> & { secret: string; previous_secret: string | null } & ClaimedDelivery['event'] & { event_id: string }>`
    WITH due AS (
      SELECT c.id, c.endpoint_id, c.seq FROM webhook_deliveries c
      WHERE c.status = 'pending' AND c.next_attempt_at <= now() AND (c.claimed_until IS NULL OR c.claimed_until < now())
      ORDER BY c.next_attempt_at, c.seq LIMIT ${CANDIDATES}
    ), heads AS (
      SELECT d.id, d.endpoint_id, row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.seq) AS rank
      FROM due d JOIN webhook_deliveries c ON c.id = d.id
      JOIN webhook_endpoints w ON w.id = c.endpoint_id AND w.enabled AND w.deleted_at IS NULL
      WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries e
        WHERE e.endpoint_id = c.endpoint_id AND e.order_key = c.order_key AND e.status = 'pending' AND e.seq < c.seq)
    ), busy AS (
      SELECT endpoint_id, count(*) AS n FROM webhook_deliveries
      WHERE status = 'pending' AND claimed_until >= now() GROUP BY endpoint_id
    ), chosen AS (
      SELECT h.id FROM heads h LEFT JOIN busy b ON b.endpoint_id = h.endpoint_id
      WHERE h.rank <= ${perEndpoint} - coalesce(b.n, 0)
      ORDER BY h.rank, h.id LIMIT ${limit}
    )
    UPDATE webhook_deliveries d SET claimed_until = now() + ${`${leaseMs} milliseconds`}::interval, attempts = d.attempts + 1
    FROM chosen, webhook_endpoints w, events e
    WHERE d.id = chosen.id AND w.id = d.endpoint_id AND e.id = d.event_id
      AND d.status = 'pending' AND (d.claimed_until IS NULL OR d.claimed_until < now())
    RETURNING d.id, d.attempts AS attempt, d.endpoint_id, w.url, w.secret,
      CASE WHEN w.previous_secret_until > now() THEN w.previous_secret END AS previous_secret,
      e.id AS event_id, e.type, e.created_at, e.fund_id, e.structure_id, e.loan_id, e.request_id, e.data`.execute(db);
  return rows.map((row) => ({
    id: row.id, attempt: row.attempt, endpoint_id: row.endpoint_id, url: row.url,
    secrets: row.previous_secret === null ? [row.secret] : [row.secret, row.previous_secret],
    event: { id: row.event_id, type: row.type, created_at: row.created_at, fund_id: row.fund_id, structure_id: row.structure_id, loan_id: row.loan_id, request_id: row.request_id, data: row.data },
  }));
}

type Attempt = Omit<WebhookAttemptsTable, 'id'>;

/** A delivery the endpoint took: done, with its attempt logged and the endpoint's failures forgotten. */
export async function recordDelivered(db: Db, attempt: Attempt): Promise<void> {
  await sql`WITH delivered AS (
      UPDATE webhook_deliveries SET status = 'delivered', finished_at = now(), claimed_until = NULL WHERE id = ${attempt.delivery_id}::uuid
    ), healed AS (
      UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ${attempt.endpoint_id}::uuid AND failing_since IS NOT NULL
    )
    INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, attempt, started_at, duration_ms, status_code, error)
    VALUES (${attempt.delivery_id}::uuid, ${attempt.endpoint_id}::uuid, ${attempt.event_id}::uuid, ${attempt.attempt}::integer,
      ${attempt.started_at}::timestamptz, ${attempt.duration_ms}::integer, ${attempt.status_code}::integer, ${attempt.error})`.execute(db);
}

/**
 * A failed attempt: logged, the delivery put off until `retryAt`, the endpoint's first failure since
 * its last success kept. Returns since when the endpoint has been failing.
 */
export async function recordFailed(trx: Transaction<Database>, attempt: Attempt, retryAt: Date): Promise<Date> {
  const { rows } = await sql<{ failing_since: Date }>`WITH retried AS (
      UPDATE webhook_deliveries SET next_attempt_at = ${retryAt}::timestamptz, claimed_until = NULL WHERE id = ${attempt.delivery_id}::uuid
    ), logged AS (
      INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, attempt, started_at, duration_ms, status_code, error)
      VALUES (${attempt.delivery_id}::uuid, ${attempt.endpoint_id}::uuid, ${attempt.event_id}::uuid, ${attempt.attempt}::integer,
        ${attempt.started_at}::timestamptz, ${attempt.duration_ms}::integer, ${attempt.status_code}::integer, ${attempt.error})
    )
    UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ${attempt.started_at}::timestamptz)
    WHERE id = ${attempt.endpoint_id}::uuid RETURNING failing_since`.execute(trx);
  return rows[0]!.failing_since;
}

export type AttemptRow = Selectable<WebhookAttemptsTable> & { readonly event_type: string };

/** One page (plus one row) of an endpoint's delivery log, newest first. */
export function findAttempts(db: Db, filter: { endpointId: string; eventId?: string; beforeId?: string; limit: number }): Promise<AttemptRow[]> {
  let query = db.selectFrom('webhook_attempts as a').innerJoin('events as e', 'e.id', 'a.event_id')
    .selectAll('a').select('e.type as event_type').where('a.endpoint_id', '=', filter.endpointId);
  if (filter.eventId !== undefined) query = query.where('a.event_id', '=', filter.eventId);
  if (filter.beforeId !== undefined) query = query.where('a.id', '<', filter.beforeId);
  return query.orderBy('a.id', 'desc').limit(filter.limit).execute();
}

/** Owes the event again to each endpoint given (enabled ones only): new deliveries, queued last. */
export function insertRedeliveries(trx: Transaction<Database>, event: { id: string; loan_id: string | null }, endpointIds: readonly string[]) {
  if (endpointIds.length === 0) return Promise.resolve([]);
  return trx.insertInto('webhook_deliveries')
    .values(endpointIds.map((endpointId) => ({ endpoint_id: endpointId, event_id: event.id, order_key: event.loan_id ?? event.id })))
    .returning(['id', 'endpoint_id', 'status', 'created_at']).execute();
}
