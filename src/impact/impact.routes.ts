import { Router } from 'express';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { actorOf, contextOf, seesStructure } from '../http/auth';
import { type Today } from '../http/clock';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { findStructure } from '../structures/find-structure';
import { impactSnapshotView } from './impact-snapshot.view';
import { listImpactSnapshots } from './impact.repository';
import { recordImpactSnapshot, type ImpactSnapshotBody } from './record-impact-snapshot';

/** Impact follow-up of structures (docs/funding.md "Impact snapshots"). */
export function impactRouter(db: Db, reads: Db, today: Today): Router {
  const router = Router();

  router.post('/v1/structures/:structure_id/impact-snapshots', async (req, res) => {
    const structureId = String(req.params.structure_id);
    const stored = await recordImpactSnapshot(
      db,
      contextOf(req),
      structureId,
      req.body as ImpactSnapshotBody,
      today(),
      idempotencyOf(req),
    );
    sendStored(res.location(`/v1/structures/${structureId}/impact-snapshots`), stored);
  });

  router.get('/v1/structures/:structure_id/impact-snapshots', async (req, res) => {
    const structure = await findStructure(db, String(req.params.structure_id));
    if (!structure || !seesStructure(actorOf(req), structure.fund_id, structure.id))
      throw new DomainError('not_found', 'No such structure.');
    const query = req.query as { from?: string; to?: string };
    const rows = await listImpactSnapshots(reads, structure.id, query);
    res.json({ items: rows.map(impactSnapshotView) });
  });

  return router;
}
