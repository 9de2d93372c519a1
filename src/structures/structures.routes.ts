import { Router } from 'express';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { actorOf, contextOf, listScope, seesStructure } from '../http/auth';
import { ifMatchOf, setEtag } from '../http/etag';
import { pageOf, pageResult, UUID_KEY } from '../http/pagination';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { createStructure, type CreateStructureBody } from './create-structure';
import { structureView } from './structure.view';
import { findStructureById, listStructures } from './structures.repository';
import { updateStructure, type UpdateStructureBody } from './update-structure';
import type { OutboundPolicy } from '../http/outbound';

/** `reads`: where the list goes, the read replica if any (docs/read-replica.md); `outbound`: which webhook URLs a structure may register. */
export function structuresRouter(db: Db, reads: Db, outbound: OutboundPolicy): Router {
  const router = Router();

  router.post('/v1/structures', async (req, res) => {
    const created = await createStructure(
      db,
      contextOf(req),
      req.body as CreateStructureBody,
      outbound,
      idempotencyOf(req),
    );
    sendStored(res.location(`/v1/structures/${created.body.id}`), created);
  });

  router.get('/v1/structures', async (req, res) => {
    const scope = listScope(actorOf(req), (req.query as { fund_id?: string }).fund_id);
    const page = pageOf(req.query, UUID_KEY);
    const rows = await listStructures(reads, {
      ...scope,
      afterId: page.after,
      limit: page.limit + 1,
    });
    const { items, next_cursor } = pageResult(rows, page, (s) => s.id);
    res.json({ items: items.map(structureView), next_cursor });
  });

  router.get('/v1/structures/:structure_id', async (req, res) => {
    const structure = await findStructureById(db, String(req.params.structure_id));
    if (!structure || !seesStructure(actorOf(req), structure.fund_id, structure.id))
      throw new DomainError('not_found', 'No such structure.');
    setEtag(res, structure.version).json(structureView(structure));
  });

  router.patch('/v1/structures/:structure_id', async (req, res) => {
    const structure = await updateStructure(
      db,
      contextOf(req),
      String(req.params.structure_id),
      req.body as UpdateStructureBody,
      ifMatchOf(req),
      outbound,
    );
    setEtag(res, structure.version).json(structureView(structure));
  });

  return router;
}
