import { Router } from 'express';
import type { Db } from '../db/connect';
import { actorOf } from '../http/auth';
import { pageOf, pageResult, SERIAL_KEY } from '../http/pagination';
import { auditEventView } from './audit-event.view';
import { listAuditEvents } from './list-audit-events';
import { verifyFundChain, type FindVisibleFund } from './verify-audit-chain';

/**
 * `reads`: where the trail's list goes, the read replica if any (docs/read-replica.md). The check
 * stays on `db`: an auditor's anchor must be the chains' heads, not a replica's view of them.
 * `findVisibleFund` comes from src/funds, which records its changes here and so sits above.
 */
export function auditRouter(db: Db, reads: Db, findVisibleFund: FindVisibleFund): Router {
  const router = Router();

  router.get('/v1/audit-events', async (req, res) => {
    const page = pageOf(req.query, SERIAL_KEY);
    const rows = await listAuditEvents(
      reads,
      actorOf(req),
      (req.query as { fund_id?: string }).fund_id,
      page,
    );
    const { items, next_cursor } = pageResult(rows, page, (row) => row.id);
    res.json({ items: items.map(auditEventView), next_cursor });
  });

  router.get('/v1/audit-events/verify', async (req, res) => {
    res.json(
      await verifyFundChain(
        db,
        actorOf(req),
        req.query as { fund_id?: string; as_of?: string },
        findVisibleFund,
      ),
    );
  });

  return router;
}
