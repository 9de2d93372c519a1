import { Router } from 'express';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { actorOf, assertCanWrite, contextOf } from '../http/auth';
import { pageOf, pageResult, UUID_KEY } from '../http/pagination';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { createFund, type CreateFundBody } from './create-fund';
import { fundView } from './fund.view';
import { findVisibleFund } from './find-visible-fund';
import { findWebhookSecret, listFunds } from './funds.repository';
import { updateFund, type UpdateFundBody } from './update-fund';
import type { OutboundPolicy } from '../http/outbound';

/** `outbound`: which webhook URLs a fund may register. */
export function fundsRouter(db: Db, outbound: OutboundPolicy): Router {
  const router = Router();

  router.post('/v1/funds', async (req, res) => {
    const created = await createFund(
      db,
      contextOf(req),
      req.body as CreateFundBody,
      outbound,
      idempotencyOf(req),
    );
    sendStored(res.location(`/v1/funds/${created.body.id}`), created);
  });

  router.get('/v1/funds', async (req, res) => {
    const actor = actorOf(req);
    const page = pageOf(req.query, UUID_KEY);
    const ids =
      actor.role === 'admin'
        ? undefined
        : actor.role === 'structure' || !actor.fundId
          ? []
          : [actor.fundId];
    const rows = await listFunds(db, { ids, afterId: page.after, limit: page.limit + 1 });
    const { items, next_cursor } = pageResult(rows, page, (fund) => fund.id);
    res.json({ items: items.map(fundView), next_cursor });
  });

  router.get('/v1/funds/:fund_id', async (req, res) => {
    res.json(fundView(await findVisibleFund(db, actorOf(req), String(req.params.fund_id))));
  });

  router.patch('/v1/funds/:fund_id', async (req, res) => {
    res.json(
      fundView(
        await updateFund(
          db,
          contextOf(req),
          String(req.params.fund_id),
          req.body as UpdateFundBody,
          outbound,
        ),
      ),
    );
  });

  // The secret a partner verifies the fund's webhooks with: for those who run the fund, not its auditors.
  router.get('/v1/funds/:fund_id/webhook-secret', async (req, res) => {
    const actor = actorOf(req);
    const fund = await findVisibleFund(db, actor, String(req.params.fund_id));
    if (actor.role === 'auditor')
      throw new DomainError('forbidden', 'An auditor key does not read the webhook secret.');
    assertCanWrite(actor);
    res
      .set('Cache-Control', 'no-store')
      .json({ fund_id: fund.id, secret: await findWebhookSecret(db, fund.id) });
  });

  return router;
}
