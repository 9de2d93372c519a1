import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import type { RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { lockEndpointToChange } from './find-visible-webhook-endpoint';
import { webhookEndpointView } from './webhook-endpoint.view';
import { updateWebhookEndpoint, type WebhookEndpoint } from './webhook-endpoints.repository';
import { newWebhookSecret, PREVIOUS_SECRET_GRACE_MS } from './webhook-secret';

/**
 * A new signing secret, shown once. The current one keeps signing alongside it for 24 hours (each
 * delivery carries both signatures, as Standard Webhooks allows), time for the receiver to switch.
 * Rotating again within those hours drops the oldest.
 */
export async function rotateWebhookSecret(
  db: Db,
  context: RequestContext,
  id: string,
  now: Date,
  idempotency?: IdempotentRequest,
) {
  const secret = newWebhookSecret();
  // Stored without the secret (see refuseSecretReplay).
  const stored = await transactOnce(
    db,
    idempotency,
    async (trx): Promise<WebhookEndpoint> => {
      const current = await lockEndpointToChange(trx, context.actor, id);
      const rotated = await updateWebhookEndpoint(trx, id, {
        secret,
        previous_secret: current.secret,
        previous_secret_until: new Date(now.getTime() + PREVIOUS_SECRET_GRACE_MS),
      });
      await recordAuditEvent(trx, context, {
        fundId: current.fund_id,
        action: 'webhook_endpoint.secret_rotated',
        entityType: 'webhook_endpoint',
        entityId: id,
        state: webhookEndpointView(rotated),
      });
      return rotated;
    },
    (rotated) => ({ status: 200, body: webhookEndpointView(rotated) }),
  );
  return { ...stored, secret };
}
