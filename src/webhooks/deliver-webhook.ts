import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import { eventBody } from '../events/event.view';
import { publishEvents } from '../events/publish-events';
import { postJson, type OutboundPolicy } from '../http/outbound';
import { standardWebhookHeaders } from './signature';
import {
  recordDelivered,
  recordFailed,
  type ClaimedDelivery,
} from './webhook-deliveries.repository';
import { abandonPendingDeliveries, disableWebhookEndpoint } from './webhook-endpoints.repository';
import { webhookEndpointView } from './webhook-endpoint.view';

/** A delivery taken by its endpoint, to record (one at a time, or in batches: recordDelivered). */
export type Taken = Parameters<typeof recordDelivered>[1][number];

/** How webhooks go out (README "Events and webhooks"). */
export interface WebhookDelivery {
  readonly policy: OutboundPolicy;
  /** How long an endpoint may take to answer. */
  readonly timeoutMs: number;
  /** The wait before the first retry, doubling at each one, up to `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** An endpoint failing every attempt for this long is disabled. */
  readonly disableAfterMs: number;
  /** Deliveries under way at once, in all, and to one endpoint. */
  readonly concurrency: number;
  readonly perEndpoint: number;
}

export const retryDelayMs = (
  settings: Pick<WebhookDelivery, 'backoffMs' | 'maxBackoffMs'>,
  attempt: number,
) => Math.min(settings.backoffMs * 2 ** Math.min(attempt - 1, 30), settings.maxBackoffMs);

/**
 * One attempt to deliver an event to an endpoint, signed per Standard Webhooks (`webhook-id` is the
 * event's id on every attempt, so that a receiver can drop what it already has); the request id of
 * the change that made the event goes along as X-Request-Id. Anything but a 2xx is a failed attempt,
 * retried with backoff; 410 Gone, or failures for longer than `disableAfterMs`, disable the endpoint
 * and tell the fund (a `webhook_endpoint.disabled` event). `answered` is called once the endpoint
 * answered (or did not), before the outcome is recorded; `recordTaken` records a delivery taken (the
 * dispatcher batches them: recordDelivered).
 */
export async function deliverWebhook(
  db: Db,
  delivery: ClaimedDelivery,
  settings: WebhookDelivery,
  logger: Logger,
  answered: () => void,
  recordTaken: (taken: Taken) => Promise<void>,
): Promise<'delivered' | 'failed' | 'disabled'> {
  const body = eventBody(delivery.event, delivery.event.data_json);
  const startedAt = new Date();
  const outcome = await postJson(
    delivery.url,
    body,
    {
      ...standardWebhookHeaders(delivery.event.id, delivery.secrets, startedAt, body),
      ...(delivery.event.request_id ? { 'x-request-id': delivery.event.request_id } : {}),
    },
    { policy: settings.policy, timeoutMs: settings.timeoutMs },
  );
  answered();

  const attempt = {
    delivery_id: delivery.id,
    endpoint_id: delivery.endpoint_id,
    event_id: delivery.event.id,
    attempt: delivery.attempt,
    started_at: startedAt,
    duration_ms: outcome.durationMs,
    status_code: outcome.statusCode,
    error: outcome.error,
  };
  const log = {
    request_id: delivery.event.request_id,
    event_id: delivery.event.id,
    event_type: delivery.event.type,
    endpoint_id: delivery.endpoint_id,
    attempt: delivery.attempt,
    status_code: outcome.statusCode,
    duration_ms: outcome.durationMs,
  };
  if (outcome.error === null) {
    await recordTaken({ ...attempt, order_key: delivery.order_key });
    logger.info(log, 'webhook delivered');
    return 'delivered';
  }
  const retryAt = new Date(Date.now() + retryDelayMs(settings, delivery.attempt));
  const disabled = await db.transaction().execute(async (trx) => {
    const failingSince = await recordFailed(trx, attempt, retryAt);
    if (failingSince === undefined) return false; // given up meanwhile: its endpoint is disabled or deleted
    const reason =
      outcome.statusCode === 410
        ? 'the endpoint answered 410 Gone'
        : Date.now() - failingSince.getTime() >= settings.disableAfterMs
          ? `every attempt failed since ${failingSince.toISOString()}`
          : undefined;
    if (reason === undefined) return false;
    const endpoint = await disableWebhookEndpoint(trx, delivery.endpoint_id, reason);
    if (!endpoint) return false;
    await abandonPendingDeliveries(trx, delivery.endpoint_id);
    await publishEvents(trx, delivery.event.request_id, [
      {
        type: 'webhook_endpoint.disabled',
        fundId: endpoint.fund_id,
        structureId: endpoint.structure_id,
        loanId: null,
        data: webhookEndpointView(endpoint),
      },
    ]);
    return true;
  });
  logger.warn(
    { ...log, error: outcome.error, disabled },
    disabled ? 'webhook failed: endpoint disabled' : 'webhook failed: will retry',
  );
  return disabled ? 'disabled' : 'failed';
}
