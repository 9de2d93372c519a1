import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, WebhookEndpointsTable } from '../db/schema';
import { oneOf } from '../domain/one-of';
import { EVENT_TYPES, type EventType } from '../events/event-types';

/** An endpoint as the application holds it: its event types checked against the closed list. */
export type WebhookEndpoint = Omit<Selectable<WebhookEndpointsTable>, 'event_types'> & {
  readonly event_types: EventType[];
};

export const rowToWebhookEndpoint = (row: Selectable<WebhookEndpointsTable>): WebhookEndpoint => ({
  ...row,
  event_types: row.event_types.map((type) =>
    oneOf(EVENT_TYPES, type, 'webhook_endpoints.event_types'),
  ),
});
const orUndefined = (row: Selectable<WebhookEndpointsTable> | undefined) =>
  row && rowToWebhookEndpoint(row);

/** An endpoint not deleted (a deleted one is gone for the API: 404). */
export async function findWebhookEndpoint(
  db: Db | Transaction<Database>,
  id: string,
): Promise<WebhookEndpoint | undefined> {
  return orUndefined(
    await db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst(),
  );
}

export async function lockWebhookEndpoint(
  trx: Transaction<Database>,
  id: string,
): Promise<WebhookEndpoint | undefined> {
  return orUndefined(
    await trx
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .forUpdate()
      .executeTakeFirst(),
  );
}

/** How many endpoints an owner (a fund's own, or one structure's) has: each owner has a bounded number. */
export async function countWebhookEndpoints(
  trx: Transaction<Database>,
  fundId: string,
  structureId: string | null,
): Promise<number> {
  const row = await trx
    .selectFrom('webhook_endpoints')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('fund_id', '=', fundId)
    .where('deleted_at', 'is', null)
    .where('structure_id', structureId === null ? 'is' : '=', structureId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertWebhookEndpoint(
  trx: Transaction<Database>,
  endpoint: Pick<
    WebhookEndpoint,
    | 'id'
    | 'fund_id'
    | 'structure_id'
    | 'url'
    | 'event_types'
    | 'description'
    | 'enabled'
    | 'secret'
    | 'created_by_key_id'
  >,
): Promise<WebhookEndpoint> {
  return rowToWebhookEndpoint(
    await trx
      .insertInto('webhook_endpoints')
      .values(endpoint)
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

export async function updateWebhookEndpoint(
  trx: Transaction<Database>,
  id: string,
  changes: Partial<
    Pick<
      WebhookEndpoint,
      | 'url'
      | 'event_types'
      | 'description'
      | 'enabled'
      | 'disabled_reason'
      | 'failing_since'
      | 'secret'
      | 'previous_secret'
      | 'previous_secret_until'
      | 'deleted_at'
    >
  >,
): Promise<WebhookEndpoint> {
  return rowToWebhookEndpoint(
    await trx
      .updateTable('webhook_endpoints')
      .set({ ...changes, updated_at: sql`now()` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

/** Disables an endpoint still enabled (undefined if it was disabled or deleted meanwhile: nothing to tell). */
export async function disableWebhookEndpoint(
  trx: Transaction<Database>,
  id: string,
  reason: string,
): Promise<WebhookEndpoint | undefined> {
  return orUndefined(
    await trx
      .updateTable('webhook_endpoints')
      .set({ enabled: false, disabled_reason: reason, updated_at: sql`now()` })
      .where('id', '=', id)
      .where('enabled', '=', true)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst(),
  );
}

/** Enabled endpoints of the event's fund that subscribe to its type and may receive it (a structure's: its own loans'). */
export async function findSubscribedEndpoints(
  db: Db,
  event: { fund_id: string; structure_id: string | null; type: string },
): Promise<WebhookEndpoint[]> {
  const rows = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('fund_id', '=', event.fund_id)
    .where('deleted_at', 'is', null)
    .where('enabled', '=', true)
    .where(sql<boolean>`${event.type} = ANY (event_types)`)
    .where((eb) =>
      eb.or([
        eb('structure_id', 'is', null),
        ...(event.structure_id === null ? [] : [eb('structure_id', '=', event.structure_id)]),
      ]),
    )
    .orderBy('seq')
    .execute();
  return rows.map(rowToWebhookEndpoint);
}

/** The deliveries still owed to an endpoint that will send no more (deleted, disabled): failed. */
export async function abandonPendingDeliveries(
  trx: Transaction<Database>,
  endpointId: string,
): Promise<void> {
  await trx
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', finished_at: sql`now()`, claimed_until: null })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .execute();
}

/** One page (plus one row) of the endpoints of a fund, or of one structure, in creation order. */
export async function findWebhookEndpoints(
  db: Db,
  filter: { fundId?: string; structureId?: string; afterSeq?: string; limit: number },
): Promise<WebhookEndpoint[]> {
  let query = db.selectFrom('webhook_endpoints').selectAll().where('deleted_at', 'is', null);
  if (filter.fundId !== undefined) query = query.where('fund_id', '=', filter.fundId);
  if (filter.structureId !== undefined)
    query = query.where('structure_id', '=', filter.structureId);
  if (filter.afterSeq !== undefined) query = query.where('seq', '>', filter.afterSeq);
  return (await query.orderBy('seq').limit(filter.limit).execute()).map(rowToWebhookEndpoint);
}
