import { v7 as uuidv7 } from 'uuid';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError, type FieldError } from '../domain/errors';
import type { EventType } from '../events/event-types';
import { findVisibleFund } from '../funds/find-visible-fund';
import type { RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { assertCanManageEndpoint } from './find-visible-webhook-endpoint';
import { refuseWebhookUrl, type OutboundPolicy } from '../http/outbound';
import { webhookEndpointView } from './webhook-endpoint.view';
import {
  countWebhookEndpoints,
  insertWebhookEndpoint,
  type WebhookEndpoint,
} from './webhook-endpoints.repository';
import { ENDPOINTS_PER_OWNER, newWebhookSecret } from './webhook-secret';

export interface CreateWebhookEndpointBody {
  url: string;
  event_types: EventType[];
  description?: string | null;
  enabled?: boolean;
  fund_id?: string;
}

/**
 * An endpoint for a fund (a manager's, or the admin's naming the fund), receiving every event of the
 * fund it subscribes to; or, made with a structure key, for that structure, receiving its own loans'
 * events only (what a partner portal registers). Returns the endpoint and its secret, shown once.
 */
export async function createWebhookEndpoint(
  db: Db,
  context: RequestContext,
  body: CreateWebhookEndpointBody,
  policy: OutboundPolicy,
  idempotency?: IdempotentRequest,
) {
  const { actor } = context;
  const fundId = body.fund_id ?? actor.fundId;
  if (fundId === null)
    throw new DomainError('rule_violation', 'Say which fund the endpoint is for.', [
      { field: 'fund_id', message: 'is required with an admin key' },
    ]);
  const structureId = actor.role === 'structure' ? actor.structureId : null;
  if (actor.role !== 'structure')
    await findVisibleFund(db, actor, fundId, 'fund_id'); // 404 if not the key's
  else if (fundId !== actor.fundId)
    throw new DomainError('not_found', 'No such fund.', [
      { field: 'fund_id', message: 'not found' },
    ]);
  assertCanManageEndpoint(actor, { structure_id: structureId });
  const refused = refuseWebhookUrl(body.url, policy);
  if (refused)
    throw new DomainError('rule_violation', 'The webhook URL is refused.', [
      { field: 'url', message: refused },
    ]);

  const secret = newWebhookSecret();
  // Stored without the secret (see refuseSecretReplay).
  const stored = await transactOnce(
    db,
    idempotency,
    async (trx): Promise<WebhookEndpoint> => {
      const broken: FieldError[] = [];
      if ((await countWebhookEndpoints(trx, fundId, structureId)) >= ENDPOINTS_PER_OWNER) {
        broken.push({
          field: 'url',
          message: `at most ${ENDPOINTS_PER_OWNER} endpoints per ${structureId ? 'structure' : 'fund'}: delete one first`,
        });
      }
      if (broken.length > 0)
        throw new DomainError('rule_violation', 'Too many webhook endpoints.', broken);
      const created = await insertWebhookEndpoint(trx, {
        id: uuidv7(),
        fund_id: fundId,
        structure_id: structureId,
        url: body.url,
        event_types: [...new Set(body.event_types)],
        description: body.description ?? null,
        enabled: body.enabled ?? true,
        secret,
        created_by_key_id: actor.keyId,
      });
      await recordAuditEvent(trx, context, {
        fundId,
        action: 'webhook_endpoint.created',
        entityType: 'webhook_endpoint',
        entityId: created.id,
        state: webhookEndpointView(created),
      });
      return created;
    },
    (created) => ({ status: 201, body: webhookEndpointView(created) }),
  );
  return { ...stored, secret };
}
