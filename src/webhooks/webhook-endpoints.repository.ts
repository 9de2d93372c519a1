import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, WebhookEndpointsTable } from '../db/schema';

export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;

/** An endpoint not deleted (a deleted one is gone for the API: 404). */
export function findWebhookEndpoint(
  db: Db | Transaction<Database>,
  id: string,
): Promise<WebhookEndpointRow | undefined> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export function lockWebhookEndpoint(
  trx: Transaction<Database>,
  id: string,
): Promise<WebhookEndpointRow | undefined> {
  return trx
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
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

export function insertWebhookEndpoint(
  trx: Transaction<Database>,
  row: {
    id: string;
    fund_id: string;
    structure_id: string | null;
    url: string;
    event_types: string[];
    description: string | null;
    enabled: boolean;
    secret: string;
    created_by_key_id: string;
  },
): Promise<WebhookEndpointRow> {
  return trx.insertInto('webhook_endpoints').values(row).returningAll().executeTakeFirstOrThrow();
}

export function updateWebhookEndpoint(
  trx: Transaction<Database>,
  id: string,
  changes: Partial<
    Pick<
      WebhookEndpointRow,
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
): Promise<WebhookEndpointRow> {
  return trx
    .updateTable('webhook_endpoints')
    .set({ ...changes, updated_at: sql`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Disables an endpoint still enabled (undefined if it was disabled or deleted meanwhile: nothing to tell). */
export function disableWebhookEndpoint(
  trx: Transaction<Database>,
  id: string,
  reason: string,
): Promise<WebhookEndpointRow | undefined> {
  return trx
    .updateTable('webhook_endpoints')
    .set({ enabled: false, disabled_reason: reason, updated_at: sql`now()` })
    .where('id', '=', id)
    .where('enabled', '=', true)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Enabled endpoints of the event's fund that subscribe to its type and may receive it (a structure's: its own loans'). */
export function findSubscribedEndpoints(
  db: Db,
  event: { fund_id: string; structure_id: string | null; type: string },
): Promise<WebhookEndpointRow[]> {
  return db
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
export function findWebhookEndpoints(
  db: Db,
  filter: { fundId?: string; structureId?: string; afterSeq?: string; limit: number },
): Promise<WebhookEndpointRow[]> {
  let query = db.selectFrom('webhook_endpoints').selectAll().where('deleted_at', 'is', null);
  if (filter.fundId !== undefined) query = query.where('fund_id', '=', filter.fundId);
  if (filter.structureId !== undefined)
    query = query.where('structure_id', '=', filter.structureId);
  if (filter.afterSeq !== undefined) query = query.where('seq', '>', filter.afterSeq);
  return query.orderBy('seq').limit(filter.limit).execute();
}
