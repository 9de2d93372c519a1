import { Router } from 'express';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { actorOf, contextOf, seesFund, type Actor } from '../http/auth';
import { type Today } from '../http/clock';
import { pageOf, pageResult, SERIAL_KEY } from '../http/pagination';
import type { JobStatus } from '../outbox/requeue-stalled';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { exportView } from './export.view';
import {
  chunkBytes,
  chunkSeqs,
  findExportById,
  findExports,
  type Export,
} from './exports.repository';
import { requestExport } from './request-export';

/** An export its fund's keys (and the admin) read; for anyone else, including structures, it does not exist. */
async function findVisibleExport(db: Db, actor: Actor, id: string): Promise<Export> {
  const row = await findExportById(db, id);
  if (!row || !seesFund(actor, row.fund_id)) throw new DomainError('not_found', 'No such export.');
  return row;
}

/** `reads`: where its list goes, the read replica if there is one; the rest reads and writes `db`. */
export function exportsRouter(db: Db, reads: Db, today: Today): Router {
  const router = Router();

  router.post('/v1/exports', async (req, res) => {
    const made = await requestExport(
      db,
      contextOf(req),
      req.body as { fund_id: string; as_of?: string },
      today(),
      idempotencyOf(req),
    );
    sendStored(res.location(`/v1/exports/${made.body.id}`), made);
  });

  router.get('/v1/exports', async (req, res) => {
    const actor = actorOf(req);
    // openapi.yaml has checked the status's list
    const query = req.query as { fund_id?: string; status?: JobStatus };
    if (
      actor.role === 'structure' ||
      (query.fund_id !== undefined && !seesFund(actor, query.fund_id))
    ) {
      throw new DomainError('not_found', 'No such fund.', [
        { field: 'fund_id', message: 'not found', in: 'query' },
      ]);
    }
    const page = pageOf(req.query, SERIAL_KEY);
    const rows = await findExports(reads, {
      fundId: query.fund_id ?? actor.fundId ?? undefined,
      status: query.status,
      afterSeq: page.after,
      limit: page.limit + 1,
    });
    const { items, next_cursor } = pageResult(rows, page, (row) => row.seq);
    res.json({ items: items.map(exportView), next_cursor });
  });

  router.get('/v1/exports/:export_id', async (req, res) => {
    const row = await findVisibleExport(db, actorOf(req), String(req.params.export_id));
    if (row.status === 'queued' || row.status === 'running') res.set('Retry-After', '2');
    res.json(exportView(row));
  });

  // The archive, chunk by chunk from PostgreSQL: one chunk (~1 MB) in memory at a time, whatever its size.
  router.get('/v1/exports/:export_id/bundle.zip', async (req, res) => {
    const row = await findVisibleExport(db, actorOf(req), String(req.params.export_id));
    if (row.status !== 'done')
      throw new DomainError('conflict', `The export is not ready: it is ${row.status}.`);
    const seqs = await chunkSeqs(db, row.id);
    res
      .status(200)
      .type('application/zip')
      .set('Content-Disposition', `attachment; filename="export-${row.fund_id}-${row.as_of}.zip"`)
      .set('Content-Length', row.size!)
      .set('ETag', `"${row.sha256!}"`);
    for (const seq of seqs) {
      const bytes = await chunkBytes(db, row.id, seq);
      if (!res.write(bytes)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  });

  return router;
}
