import { Router, type Response } from 'express';
import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { actorOf, contextOf, seesFund } from '../http/auth';
import { type Today } from '../http/clock';
import { pageOf, pageResult, SERIAL_KEY } from '../http/pagination';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { declareAid, findVisibleStructure } from './declare-aid';
import { linkStructures, unlinkStructures } from './link-structures';
import { recordBaseRate } from './record-base-rate';
import { findBaseRates, findDeclaredAid } from './state-aid.repository';
import { baseRateView, declaredAidView } from './state-aid.view';
import { fundAidRegister, registerCsv, structureStateAid } from './structure-state-aid';

type Register = Awaited<ReturnType<typeof fundAidRegister>>;

function sendRegisterCsv(res: Response, register: Register): void {
  res
    .type('text/csv; charset=utf-8')
    .set(
      'Content-Disposition',
      `attachment; filename="state-aid-${register.fund_id}-${register.from}-${register.to}.csv"`,
    )
    .send(registerCsv(register));
}

/** State aid (docs/state-aid.md): EU base rates, declared aid, undertaking links, headroom and the fund's register. */
export function stateAidRouter(db: Db, today: Today): Router {
  const router = Router();

  router.post('/v1/eu-base-rates', async (req, res) => {
    const stored = await recordBaseRate(
      db,
      contextOf(req),
      req.body as Parameters<typeof recordBaseRate>[2], // openapi.yaml has checked its forms
      idempotencyOf(req),
    );
    sendStored(res, stored);
  });

  router.get('/v1/eu-base-rates', async (req, res) => {
    const actor = actorOf(req);
    const fundId = (req.query as { fund_id?: string }).fund_id ?? actor.fundId ?? undefined;
    if (fundId === undefined || !seesFund(actor, fundId))
      throw new DomainError('not_found', 'No such fund.', [
        { field: 'fund_id', message: 'not found', in: 'query' },
      ]);
    const page = pageOf(req.query, SERIAL_KEY);
    const rows = await findBaseRates(db, fundId, page.after, page.limit + 1);
    const { items, next_cursor } = pageResult(rows, page, (row) => row.seq);
    res.json({ items: items.map(baseRateView), next_cursor });
  });

  router.post('/v1/structures/:structure_id/declared-aid', async (req, res) => {
    sendStored(
      res,
      await declareAid(
        db,
        contextOf(req),
        String(req.params.structure_id),
        req.body as never,
        idempotencyOf(req),
      ),
    );
  });

  router.get('/v1/structures/:structure_id/declared-aid', async (req, res) => {
    const structure = await findVisibleStructure(
      db,
      contextOf(req),
      String(req.params.structure_id),
    );
    res.json({ items: (await findDeclaredAid(db, structure.id)).map(declaredAidView) });
  });

  router.post('/v1/structures/:structure_id/undertaking-links', async (req, res) => {
    sendStored(
      res,
      await linkStructures(
        db,
        contextOf(req),
        String(req.params.structure_id),
        req.body as { structure_id: string },
        idempotencyOf(req),
      ),
    );
  });

  router.delete('/v1/structures/:structure_id/undertaking-links/:linked_id', async (req, res) => {
    await unlinkStructures(
      db,
      contextOf(req),
      String(req.params.structure_id),
      String(req.params.linked_id),
    );
    res.status(204).end();
  });

  router.get('/v1/structures/:structure_id/state-aid', async (req, res) => {
    const asOf = ((req.query as { as_of?: string }).as_of ?? today()) as CalendarDate;
    res.json(await structureStateAid(db, contextOf(req), String(req.params.structure_id), asOf));
  });

  // Before /v1/funds/:fund_id/state-aid, which the .csv suffix would otherwise reach as well.
  router.get('/v1/funds/:fund_id/state-aid.csv', async (req, res) => {
    const query = req.query as { from: string; to: string };
    sendRegisterCsv(
      res,
      await fundAidRegister(db, contextOf(req), String(req.params.fund_id), query.from, query.to),
    );
  });

  router.get('/v1/funds/:fund_id/state-aid', async (req, res) => {
    const query = req.query as { from: string; to: string };
    const register = await fundAidRegister(
      db,
      contextOf(req),
      String(req.params.fund_id),
      query.from,
      query.to,
    );
    if (req.accepts(['application/json', 'text/csv']) === 'text/csv')
      sendRegisterCsv(res, register);
    else res.json(register);
  });

  return router;
}
