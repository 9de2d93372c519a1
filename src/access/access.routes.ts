import { Router } from 'express';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { actorOf, contextOf, listScope, seesFund } from '../http/auth';
import { pageOf, pageResult, UUID_KEY } from '../http/pagination';
import { idempotencyOf, refuseSecretReplay } from '../idempotency/idempotency-header';
import { apiKeyView } from './api-key.view';
import { findApiKeyById, listApiKeys } from './api-keys.repository';
import { createApiKey, type CreateApiKeyBody } from './create-api-key';
import { revokeApiKey } from './revoke-api-key';

export function accessRouter(db: Db): Router {
  const router = Router();

  router.post('/v1/api-keys', async (req, res) => {
    const created = await createApiKey(
      db,
      contextOf(req),
      req.body as CreateApiKeyBody,
      idempotencyOf(req),
    );
    refuseSecretReplay(
      created,
      'API key',
      `revoke it (DELETE /v1/api-keys/${created.body.id}) if the secret was lost, and create another`,
    );
    // The secret is shown this once: no cache may keep it.
    res
      .status(201)
      .location(`/v1/api-keys/${created.body.id}`)
      .set('Cache-Control', 'no-store')
      .json({ ...created.body, secret: created.secret });
  });

  router.get('/v1/api-keys', async (req, res) => {
    const actor = actorOf(req);
    if (actor.role === 'structure') throw new DomainError('not_found', 'No API keys here.');
    const { fundId } = listScope(actor, (req.query as { fund_id?: string }).fund_id);
    const page = pageOf(req.query, UUID_KEY);
    const rows = await listApiKeys(db, { fundId, afterId: page.after, limit: page.limit + 1 });
    const { items, next_cursor } = pageResult(rows, page, (key) => key.id);
    res.json({ items: items.map(apiKeyView), next_cursor });
  });

  router.get('/v1/api-keys/:key_id', async (req, res) => {
    const key = await findApiKeyById(db, String(req.params.key_id));
    if (!key || !seesFund(actorOf(req), key.fund_id))
      throw new DomainError('not_found', 'No such API key.');
    res.json(apiKeyView(key));
  });

  router.delete('/v1/api-keys/:key_id', async (req, res) => {
    res.json(apiKeyView(await revokeApiKey(db, contextOf(req), String(req.params.key_id))));
  });

  return router;
}
