import type { Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import { DomainError } from '../domain/errors';
import { seesOwner, type Actor } from '../http/auth';
import {
  findWebhookEndpoint,
  lockWebhookEndpoint,
  type WebhookEndpoint,
} from './webhook-endpoints.repository';

/** A fund's endpoint is seen by the fund's keys; a structure's, by those and the structure's own key. */
export const seesEndpoint = (
  actor: Actor,
  endpoint: Pick<WebhookEndpoint, 'fund_id' | 'structure_id'>,
) => seesOwner(actor, endpoint.fund_id, endpoint.structure_id);

/** Managers (and the admin) change any endpoint they see; a structure key, its own structure's. */
export function assertCanManageEndpoint(
  actor: Actor,
  endpoint: Pick<WebhookEndpoint, 'structure_id'>,
): void {
  if (actor.role === 'admin' || actor.role === 'manager') return;
  if (
    actor.role === 'structure' &&
    endpoint.structure_id !== null &&
    endpoint.structure_id === actor.structureId
  )
    return;
  throw new DomainError('forbidden', `A ${actor.role} key cannot change this webhook endpoint.`);
}

/** The endpoint if the key sees it, else a 404 (missing, deleted, or outside the key's scope alike). */
export async function findVisibleWebhookEndpoint(
  db: Db,
  actor: Actor,
  id: string,
): Promise<WebhookEndpoint> {
  const endpoint = await findWebhookEndpoint(db, id);
  if (!endpoint || !seesEndpoint(actor, endpoint))
    throw new DomainError('not_found', 'No such webhook endpoint.');
  return endpoint;
}

/** The endpoint, locked for a change the key may make; a 404 or a 403 otherwise. */
export async function lockEndpointToChange(
  trx: Transaction<Database>,
  actor: Actor,
  id: string,
): Promise<WebhookEndpoint> {
  const endpoint = await lockWebhookEndpoint(trx, id);
  if (!endpoint || !seesEndpoint(actor, endpoint))
    throw new DomainError('not_found', 'No such webhook endpoint.');
  assertCanManageEndpoint(actor, endpoint);
  return endpoint;
}
