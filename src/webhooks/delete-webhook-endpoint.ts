import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import type { RequestContext } from '../http/auth';
import { lockEndpointToChange } from './find-visible-webhook-endpoint';
import { webhookEndpointView } from './webhook-endpoint.view';
import { abandonPendingDeliveries, updateWebhookEndpoint } from './webhook-endpoints.repository';

/** Deletes the endpoint: it receives nothing more, and the API no longer shows it (its rows stay, stamped, for the audit trail). */
export async function deleteWebhookEndpoint(
  db: Db,
  context: RequestContext,
  id: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const endpoint = await lockEndpointToChange(trx, context.actor, id);
    const deleted = await updateWebhookEndpoint(trx, id, {
      deleted_at: new Date(),
      enabled: false,
    });
    await abandonPendingDeliveries(trx, id);
    await recordAuditEvent(trx, context, {
      fundId: endpoint.fund_id,
      action: 'webhook_endpoint.deleted',
      entityType: 'webhook_endpoint',
      entityId: id,
      state: webhookEndpointView(deleted),
    });
  });
}
