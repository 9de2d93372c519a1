import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { findVisibleEvent } from '../events/list-events';
import type { RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { assertCanManageEndpoint, seesEndpoint } from './find-visible-webhook-endpoint';
import { insertRedeliveries } from './webhook-deliveries.repository';
import {
  findSubscribedEndpoints,
  findWebhookEndpoint,
  type WebhookEndpoint,
} from './webhook-endpoints.repository';

/**
 * Sends an event again: to the endpoint named, or to every enabled endpoint the key manages that
 * subscribes to its type. Each gets a new delivery, queued after what the endpoint is owed for the
 * loan (the same webhook-id: a receiver that kept it may drop it). An endpoint must be one the event
 * would go to (the event's fund; a structure's endpoint, that structure's events).
 */
export async function redeliverEvent(
  db: Db,
  context: RequestContext,
  eventId: string,
  body: { endpoint_id?: string },
  idempotency?: IdempotentRequest,
) {
  const { actor } = context;
  const event = await findVisibleEvent(db, actor, eventId);
  const goesTo = (endpoint: WebhookEndpoint) =>
    endpoint.fund_id === event.fund_id &&
    seesEndpoint(actor, endpoint) &&
    (endpoint.structure_id === null || endpoint.structure_id === event.structure_id);
  let targets;
  if (body.endpoint_id !== undefined) {
    const named = await findWebhookEndpoint(db, body.endpoint_id);
    if (!named || !goesTo(named))
      throw new DomainError('not_found', 'No such webhook endpoint for this event.', [
        { field: 'endpoint_id', message: 'not found, or not one this event goes to' },
      ]);
    assertCanManageEndpoint(actor, named);
    if (!named.enabled)
      throw new DomainError(
        'conflict',
        'The webhook endpoint is disabled: enable it first (PATCH enabled: true).',
      );
    targets = [named];
  } else {
    if (actor.role === 'auditor')
      throw new DomainError('forbidden', 'An auditor key is read-only.');
    targets = (await findSubscribedEndpoints(db, event)).filter(
      (endpoint) =>
        goesTo(endpoint) &&
        (actor.role !== 'structure' || endpoint.structure_id === actor.structureId),
    );
    if (targets.length === 0)
      throw new DomainError('rule_violation', 'No enabled endpoint subscribes to this event.', [
        { field: 'endpoint_id', message: 'name an endpoint, or subscribe one to this event type' },
      ]);
  }
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const deliveries = await insertRedeliveries(
        trx,
        event,
        targets.map((endpoint) => endpoint.id),
      );
      await recordAuditEvent(trx, context, {
        fundId: event.fund_id,
        action: 'event.redelivered',
        entityType: 'event',
        entityId: event.id,
        state: { event_id: event.id, endpoint_ids: targets.map((endpoint) => endpoint.id) },
      });
      return deliveries.map((delivery) => ({
        id: delivery.id,
        event_id: event.id,
        endpoint_id: delivery.endpoint_id,
        status: delivery.status,
        created_at: delivery.created_at.toISOString(),
      }));
    },
    (items) => ({ status: 202, body: { items } }),
  );
}
