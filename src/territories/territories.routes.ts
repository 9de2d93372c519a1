import { Router, type Request } from 'express';
import type { Db } from '../db/connect';
import { actorOf } from '../http/auth';
import { asOfOf, type Today } from '../http/clock';
import type { Level } from './divisions';
import { getTerritories } from './get-territories';
import { territoriesCsv, territoriesView } from './territories.view';

/** `reads`: where the figures are summed, the read replica if any (docs/read-replica.md); the fund is found on `db`. */
export function territoriesRouter(db: Db, reads: Db, today: Today): Router {
  const router = Router();
  const breakdown = (req: Request) => {
    const level = (req.query as { level?: Level }).level ?? 'department'; // validated against openapi.yaml
    return getTerritories(
      db,
      actorOf(req),
      String(req.params.fund_id),
      level,
      asOfOf(req.query, today),
      reads,
    );
  };

  // Before /v1/funds/:fund_id/territories: the same figures, one line per territory.
  router.get('/v1/funds/:fund_id/territories.csv', async (req, res) => {
    const b = await breakdown(req);
    res
      .type('text/csv; charset=utf-8')
      .set(
        'Content-Disposition',
        `attachment; filename="territories-${b.fund.id}-${b.level}-${b.asOf}.csv"`,
      )
      .send(territoriesCsv(b));
  });

  router.get('/v1/funds/:fund_id/territories', async (req, res) => {
    res.json(territoriesView(await breakdown(req)));
  });

  return router;
}
