import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import type { EventType } from '../events/event-types';
import type { RequestContext } from '../http/auth';
import { lockEndpointToChange } from './find-visible-webhook-endpoint';
import { refuseWebhookUrl, type OutboundPolicy } from '../http/outbound';
import { webhookEndpointView } from './webhook-endpoint.view';
import {
  abandonPendingDeliveries,
  updateWebhookEndpoint,
  type WebhookEndpoint,
} from './webhook-endpoints.repository';

export interface UpdateWebhookEndpointBody {
  url?: string;
  event_types?: EventType[];
  description?: string | null;
  enabled?: boolean;
}

/**
 * Changes what is given. Enabling an endpoint (one disabled by its failures, say) starts it afresh:
 * no failure counted; disabling it gives up the deliveries it is still owed (redeliver them by event).
 */
export async function changeWebhookEndpoint(
  db: Db,
  context: RequestContext,
  id: string,
  body: UpdateWebhookEndpointBody,
  policy: OutboundPolicy,
): Promise<WebhookEndpoint> {
  return db.transaction().execute(async (trx) => {
    const endpoint = await lockEndpointToChange(trx, context.actor, id); // who may, before what they send
    if (body.url !== undefined) {
      const refused = refuseWebhookUrl(body.url, policy);
      if (refused)
        throw new DomainError('rule_violation', 'The webhook URL is refused.', [
          { field: 'url', message: refused },
        ]);
    }
    const enabling = body.enabled === true && !endpoint.enabled;
    const disabling = body.enabled === false && endpoint.enabled;
    const updated = await updateWebhookEndpoint(trx, id, {
      ...(body.url !== undefined ? { url: body.url } : {}),
      ...(body.event_types !== undefined ? { event_types: [...new Set(body.event_types)] } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
      ...(enabling ? { disabled_reason: null, failing_since: null } : {}),
      ...(disabling ? { disabled_reason: 'disabled through the API' } : {}),
    });
    if (disabling) await abandonPendingDeliveries(trx, id);
    await recordAuditEvent(trx, context, {
      fundId: endpoint.fund_id,
      action: 'webhook_endpoint.updated',
      entityType: 'webhook_endpoint',
      entityId: id,
      state: webhookEndpointView(updated),
    });
    return updated;
  });
}
