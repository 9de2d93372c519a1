import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, WebhookAttemptsTable } from '../db/schema';
import { EVENT_TYPES, type EventType } from '../events/event-types';
import type { EventRow } from '../events/list-events';
import { oneOf } from '../domain/one-of';

/** A delivery a dispatcher holds until `leaseMs` from now: what it needs to send it. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly attempt: number;
  readonly endpoint_id: string;
  /** The loan (or, for an event of no loan, the event): what the delivery queues behind. */
  readonly order_key: string;
  readonly url: string;
  /** The secrets that sign: the current one, and the previous one within 24 h of a rotation. */
  readonly secrets: string[];
  readonly event: Pick<
    EventRow,
    'id' | 'type' | 'created_at' | 'fund_id' | 'structure_id' | 'loan_id' | 'request_id'
  > & { readonly data_json: string };
}

/**
 * Claims up to `limit` deliveries that may go now: due, not held, not waiting behind an earlier one
 * of their endpoint and loan, of an enabled endpoint, at most `perEndpoint` of each — the oldest due
 * of each endpoint first, so that a slow endpoint's backlog holds up no other; none of `skipEndpoints`
 * (those the dispatcher has enough of in hand). Two dispatchers never
 * claim the same delivery: the claim re-checks the hold on the locked row. The event's data comes as
 * its JSON text, to be sent as it is.
 */
export async function claimDeliveries(
  db: Db,
  limit: number,
  perEndpoint: number,
  leaseMs: number,
  skipEndpoints: readonly string[] = [],
): Promise<ClaimedDelivery[]> {
  const { rows } = await sql<
    Omit<ClaimedDelivery, 'event' | 'secrets'> & {
      secret: string;
      previous_secret: string | null;
    } & ClaimedDelivery['event'] & { event_id: string }
  >`
    WITH chosen AS (
      SELECT x.id FROM webhook_endpoints w
      CROSS JOIN LATERAL (
        SELECT c.id, c.next_attempt_at, c.seq FROM webhook_deliveries c
        WHERE c.endpoint_id = w.id AND c.status = 'pending' AND NOT c.waiting AND c.next_attempt_at <= now()
          AND (c.claimed_until IS NULL OR c.claimed_until < now())
        ORDER BY c.next_attempt_at, c.seq LIMIT ${perEndpoint}::integer
      ) x
      WHERE w.enabled AND w.deleted_at IS NULL AND w.id <> ALL (${skipEndpoints}::uuid[])
      ORDER BY x.next_attempt_at, x.seq LIMIT ${limit}::integer
    )
    UPDATE webhook_deliveries d SET claimed_until = now() + ${`${leaseMs} milliseconds`}::interval, attempts = d.attempts + 1
    FROM chosen, webhook_endpoints w, events e
    WHERE d.id = chosen.id AND w.id = d.endpoint_id AND e.id = d.event_id
      AND d.status = 'pending' AND (d.claimed_until IS NULL OR d.claimed_until < now())
    RETURNING d.id, d.attempts AS attempt, d.endpoint_id, d.order_key, w.url, w.secret,
      CASE WHEN w.previous_secret_until > now() THEN w.previous_secret END AS previous_secret,
      e.id AS event_id, e.type, e.created_at, e.fund_id, e.structure_id, e.loan_id, e.request_id, e.data::text AS data_json`.execute(
    db,
  );
  return rows.map((row) => ({
    id: row.id,
    attempt: row.attempt,
    endpoint_id: row.endpoint_id,
    order_key: row.order_key,
    url: row.url,
    secrets: row.previous_secret === null ? [row.secret] : [row.secret, row.previous_secret],
    event: {
      id: row.event_id,
      type: row.type,
      created_at: row.created_at,
      fund_id: row.fund_id,
      structure_id: row.structure_id,
      loan_id: row.loan_id,
      request_id: row.request_id,
      data_json: row.data_json,
    },
  }));
}

/**
 * Lets go the deliveries left waiting with nothing owed before them: a change that queued one behind
 * a delivery finished while it committed (its commit came after the finished one looked for what
 * waits behind it). Returns how many.
 */
export async function releaseOrphanedWaits(db: Db): Promise<number> {
  const result = await sql`UPDATE webhook_deliveries SET waiting = false WHERE id IN (
    SELECT d.id FROM webhook_deliveries d
    WHERE d.status = 'pending' AND d.waiting AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
      WHERE p.endpoint_id = d.endpoint_id AND p.order_key = d.order_key AND p.status = 'pending' AND p.seq < d.seq)
    ORDER BY d.seq LIMIT 1000)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Gives up what endpoints disabled or deleted are still owed: a change that owed an endpoint an event
 * while it was being disabled commits its delivery after the endpoint gave up the others.
 */
export async function abandonDeliveriesOfClosedEndpoints(db: Db): Promise<number> {
  const result =
    await sql`UPDATE webhook_deliveries SET status = 'failed', finished_at = now(), claimed_until = NULL
    WHERE status = 'pending' AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE NOT enabled OR deleted_at IS NOT NULL)`.execute(
      db,
    );
  return Number(result.numAffectedRows ?? 0);
}

type Attempt = Omit<WebhookAttemptsTable, 'id'>;

/**
 * Deliveries the endpoints took, in one statement: done, each attempt logged, the endpoints' failures
 * forgotten, and the next delivery of each endpoint and loan let go. Not worth waiting for the disk:
 * an outcome lost in a crash sends its delivery again (at least once).
 */
export async function recordDelivered(
  db: Db,
  taken: readonly (Attempt & { order_key: string })[],
): Promise<void> {
  if (taken.length === 0) return;
  const column = <T>(pick: (item: Attempt & { order_key: string }) => T) => taken.map(pick);
  await sql`WITH taken AS (
      SELECT * FROM unnest(${column((t) => t.delivery_id)}::uuid[], ${column((t) => t.endpoint_id)}::uuid[], ${column((t) => t.event_id)}::uuid[],
        ${column((t) => t.order_key)}::uuid[], ${column((t) => t.attempt)}::integer[], ${column((t) => t.started_at.toISOString())}::timestamptz[],
        ${column((t) => t.duration_ms)}::integer[], ${column((t) => t.status_code)}::integer[])
        AS t (delivery_id, endpoint_id, event_id, order_key, attempt, started_at, duration_ms, status_code)
    ), delivered AS (
      UPDATE webhook_deliveries d SET status = 'delivered', finished_at = now(), claimed_until = NULL FROM taken t
      WHERE d.id = t.delivery_id AND d.status = 'pending' -- not one given up meanwhile (its endpoint disabled or deleted)
    ), next AS (
      UPDATE webhook_deliveries SET waiting = false WHERE id IN (SELECT (SELECT n.id FROM webhook_deliveries n
        WHERE n.endpoint_id = t.endpoint_id AND n.order_key = t.order_key AND n.status = 'pending' AND n.id <> t.delivery_id
        ORDER BY n.seq LIMIT 1) FROM taken t)
    ), healed AS (
      UPDATE webhook_endpoints SET failing_since = NULL WHERE id IN (SELECT endpoint_id FROM taken) AND failing_since IS NOT NULL
    )
    INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, attempt, started_at, duration_ms, status_code, error)
    SELECT t.delivery_id, t.endpoint_id, t.event_id, t.attempt, t.started_at, t.duration_ms, t.status_code, NULL
    FROM taken t, (SELECT set_config('synchronous_commit', 'off', true)) AS this_transaction_only`.execute(
    db,
  );
}

/**
 * A failed attempt: logged, the delivery put off until `retryAt`, the endpoint's first failure since
 * its last success kept. Returns since when the endpoint has been failing, or undefined when the
 * delivery was given up meanwhile (its endpoint disabled or deleted): nothing more to decide.
 */
export async function recordFailed(
  trx: Transaction<Database>,
  attempt: Attempt,
  retryAt: Date,
): Promise<Date | undefined> {
  const { rows } = await sql<{ failing_since: Date }>`WITH retried AS (
      UPDATE webhook_deliveries SET next_attempt_at = ${retryAt}::timestamptz, claimed_until = NULL
      WHERE id = ${attempt.delivery_id}::uuid AND status = 'pending' RETURNING id
    ), logged AS (
      INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, attempt, started_at, duration_ms, status_code, error)
      VALUES (${attempt.delivery_id}::uuid, ${attempt.endpoint_id}::uuid, ${attempt.event_id}::uuid, ${attempt.attempt}::integer,
        ${attempt.started_at}::timestamptz, ${attempt.duration_ms}::integer, ${attempt.status_code}::integer, ${attempt.error})
    ) -- as for a delivery taken, not worth waiting for the disk (and the endpoint's row is held until the commit)
    UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ${attempt.started_at}::timestamptz)
    FROM (SELECT set_config('synchronous_commit', 'off', true)) AS this_transaction_only
    WHERE id = ${attempt.endpoint_id}::uuid AND enabled AND deleted_at IS NULL AND EXISTS (SELECT 1 FROM retried)
    RETURNING failing_since`.execute(trx);
  return rows[0]?.failing_since;
}

export type AttemptRow = Selectable<WebhookAttemptsTable> & { readonly event_type: EventType };

/** One page (plus one row) of an endpoint's delivery log, newest first. */
export async function findAttempts(
  db: Db,
  filter: { endpointId: string; eventId?: string; beforeId?: string; limit: number },
): Promise<AttemptRow[]> {
  let query = db
    .selectFrom('webhook_attempts as a')
    .innerJoin('events as e', 'e.id', 'a.event_id')
    .selectAll('a')
    .select('e.type as event_type')
    .where('a.endpoint_id', '=', filter.endpointId);
  if (filter.eventId !== undefined) query = query.where('a.event_id', '=', filter.eventId);
  if (filter.beforeId !== undefined) query = query.where('a.id', '<', filter.beforeId);
  const rows = await query.orderBy('a.id', 'desc').limit(filter.limit).execute();
  return rows.map((row) => ({
    ...row,
    event_type: oneOf(EVENT_TYPES, row.event_type, 'events.type'),
  }));
}

/** Owes the event again to each endpoint given: new deliveries, queued behind what each is still owed for the loan. */
export async function insertRedeliveries(
  trx: Transaction<Database>,
  event: { id: string; loan_id: string | null },
  endpointIds: readonly string[],
) {
  if (endpointIds.length === 0) return [];
  const orderKey = event.loan_id ?? event.id;
  const { rows } = await sql<{
    id: string;
    endpoint_id: string;
    status: 'pending';
    created_at: Date;
  }>`
    INSERT INTO webhook_deliveries (endpoint_id, event_id, order_key, waiting)
    SELECT t.id, ${event.id}::uuid, ${orderKey}::uuid,
      EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = t.id AND p.order_key = ${orderKey}::uuid AND p.status = 'pending')
    FROM unnest(${endpointIds}::uuid[]) AS t (id)
    RETURNING id, endpoint_id, status, created_at`.execute(trx);
  return rows;
}
