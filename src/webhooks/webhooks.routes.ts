import { Router } from 'express';
import type { Db } from '../db/connect';
import { actorOf, contextOf, listScope } from '../http/auth';
import { idempotencyOf, refuseSecretReplay, sendStored } from '../idempotency/idempotency-header';
import { pageOf, pageResult, SERIAL_KEY } from '../http/pagination';
import { createWebhookEndpoint, type CreateWebhookEndpointBody } from './create-webhook-endpoint';
import { deleteWebhookEndpoint } from './delete-webhook-endpoint';
import { findVisibleWebhookEndpoint } from './find-visible-webhook-endpoint';
import type { OutboundPolicy } from '../http/outbound';
import { redeliverEvent } from './redeliver-event';
import { rotateWebhookSecret } from './rotate-webhook-secret';
import { changeWebhookEndpoint, type UpdateWebhookEndpointBody } from './update-webhook-endpoint';
import { attemptView } from './attempt.view';
import { findAttempts } from './webhook-deliveries.repository';
import { webhookEndpointView } from './webhook-endpoint.view';
import { findWebhookEndpoints } from './webhook-endpoints.repository';

export function webhooksRouter(db: Db, policy: OutboundPolicy): Router {
  const router = Router();

  router.post('/v1/webhook-endpoints', async (req, res) => {
    const created = await createWebhookEndpoint(
      db,
      contextOf(req),
      req.body as CreateWebhookEndpointBody,
      policy,
      idempotencyOf(req),
    );
    refuseSecretReplay(
      created,
      'webhook endpoint',
      `rotate its secret (POST /v1/webhook-endpoints/${created.body.id}/secret-rotation) if it was lost`,
    );
    // The secret is shown this once: no cache may keep it.
    res
      .status(201)
      .location(`/v1/webhook-endpoints/${created.body.id}`)
      .set('Cache-Control', 'no-store')
      .json({ ...created.body, secret: created.secret });
  });

  router.get('/v1/webhook-endpoints', async (req, res) => {
    const scope = listScope(actorOf(req), (req.query as { fund_id?: string }).fund_id);
    const page = pageOf(req.query, SERIAL_KEY);
    const rows = await findWebhookEndpoints(db, {
      ...scope,
      afterSeq: page.after,
      limit: page.limit + 1,
    });
    const { items, next_cursor } = pageResult(rows, page, (row) => row.seq);
    res.json({ items: items.map(webhookEndpointView), next_cursor });
  });

  router.get('/v1/webhook-endpoints/:endpoint_id', async (req, res) => {
    res.json(
      webhookEndpointView(
        await findVisibleWebhookEndpoint(db, actorOf(req), String(req.params.endpoint_id)),
      ),
    );
  });

  router.patch('/v1/webhook-endpoints/:endpoint_id', async (req, res) => {
    const updated = await changeWebhookEndpoint(
      db,
      contextOf(req),
      String(req.params.endpoint_id),
      req.body as UpdateWebhookEndpointBody,
      policy,
    );
    res.json(webhookEndpointView(updated));
  });

  router.delete('/v1/webhook-endpoints/:endpoint_id', async (req, res) => {
    await deleteWebhookEndpoint(db, contextOf(req), String(req.params.endpoint_id));
    res.status(204).end();
  });

  router.post('/v1/webhook-endpoints/:endpoint_id/secret-rotation', async (req, res) => {
    const rotated = await rotateWebhookSecret(
      db,
      contextOf(req),
      String(req.params.endpoint_id),
      new Date(),
      idempotencyOf(req),
    );
    refuseSecretReplay(
      rotated,
      'a new secret for webhook endpoint',
      'rotate it again if it was lost',
    );
    res.set('Cache-Control', 'no-store').json({ ...rotated.body, secret: rotated.secret });
  });

  router.get('/v1/webhook-endpoints/:endpoint_id/deliveries', async (req, res) => {
    const endpoint = await findVisibleWebhookEndpoint(
      db,
      actorOf(req),
      String(req.params.endpoint_id),
    );
    const page = pageOf(req.query, SERIAL_KEY);
    const eventId = (req.query as { event_id?: string }).event_id;
    const rows = await findAttempts(db, {
      endpointId: endpoint.id,
      eventId,
      beforeId: page.after,
      limit: page.limit + 1,
    });
    const { items, next_cursor } = pageResult(rows, page, (row) => row.id);
    res.json({ items: items.map(attemptView), next_cursor });
  });

  router.post('/v1/events/:event_id/redeliveries', async (req, res) => {
    const body = (req.body ?? {}) as { endpoint_id?: string };
    sendStored(
      res,
      await redeliverEvent(
        db,
        contextOf(req),
        String(req.params.event_id),
        body,
        idempotencyOf(req),
      ),
    );
  });

  return router;
}
