import { Router } from 'express';
import type { Db } from '../db/connect';
import { actorOf, contextOf } from '../http/auth';
import { pageOf, pageResult, UUID_KEY } from '../http/pagination';
import { createFund, type CreateFundBody } from './create-fund';
import { fundView } from './fund.view';
import { findVisibleFund } from './find-visible-fund';
import { listFunds } from './funds.repository';

export function fundsRouter(db: Db): Router {
  const router = Router();

  router.post('/v1/funds', async (req, res) => {
    const fund = await createFund(db, contextOf(req), req.body as CreateFundBody);
    res.status(201).location(`/v1/funds/${fund.id}`).json(fundView(fund));
  });

  router.get('/v1/funds', async (req, res) => {
    const actor = actorOf(req);
    const page = pageOf(req.query, UUID_KEY);
    const ids = actor.role === 'admin' ? undefined : actor.role === 'structure' || !actor.fundId ? [] : [actor.fundId];
    const rows = await listFunds(db, { ids, afterId: page.after, limit: page.limit + 1 });
    const { items, next_cursor } = pageResult(rows, page, (fund) => fund.id);
    res.json({ items: items.map(fundView), next_cursor });
  });

  router.get('/v1/funds/:fundId', async (req, res) => {
    res.json(fundView(await findVisibleFund(db, actorOf(req), String(req.params.fundId))));
  });

  return router;
}
