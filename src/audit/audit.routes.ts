import { Router } from 'express';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { actorOf, seesFund, type Actor } from '../http/auth';
import { pageOf, pageResult, SERIAL_KEY } from '../http/pagination';
import { findFund } from '../funds/find-fund';
import { listAuditEvents, type AuditEventRow } from './audit.repository';
import { verifyAuditChain } from './verify-audit-chain';

/** The funds whose trail this key may read, narrowed to `fund_id` when given; undefined = all. */
function auditScope(actor: Actor, fundId: string | undefined): string[] | undefined {
  if (fundId !== undefined && !seesFund(actor, fundId)) throw new DomainError('not_found', 'No such fund.');
  if (fundId !== undefined) return [fundId];
  if (actor.role === 'admin') return undefined;
  if (actor.role === 'structure' || !actor.fundId) throw new DomainError('not_found', 'No audit trail here.');
  return [actor.fundId];
}

function auditEventView(row: AuditEventRow) {
  return {
    id: row.id,
    fund_id: row.fund_id,
    seq: row.seq,
    occurred_at: row.occurred_at.toISOString(),
    actor_key_id: row.actor_key_id,
    action: row.action,
    entity_type: row.entity_type,
    entity_id: row.entity_id,
    request_id: row.request_id,
    state: row.state,
    prev_hash: row.prev_hash,
    hash: row.hash,
    created_at: row.occurred_at.toISOString(),
  };
}

export function auditRouter(db: Db): Router {
  const router = Router();

  router.get('/v1/audit-events', async (req, res) => {
    const query = req.query as { fund_id?: string; limit?: string; cursor?: string };
    const fundIds = auditScope(actorOf(req), query.fund_id);
    const page = pageOf(query, SERIAL_KEY);
    const rows = await listAuditEvents(db, { fundIds, afterId: page.after, limit: page.limit + 1 });
    const { items, next_cursor } = pageResult(rows, page, (row) => row.id);
    res.json({ items: items.map(auditEventView), next_cursor });
  });

  router.get('/v1/audit-events/verify', async (req, res) => {
    const fundId = (req.query as { fund_id: string }).fund_id;
    auditScope(actorOf(req), fundId);
    if (!(await findFund(db, fundId))) throw new DomainError('not_found', 'No such fund.');
    res.json(await verifyAuditChain(db, fundId));
  });

  return router;
}
