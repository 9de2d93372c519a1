import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { seesFund, type Actor } from '../http/auth';
import type { Page } from '../http/pagination';
import { listAuditEvents as eventsWhere, type AuditEventRow } from './audit.repository';

/** The funds whose trail this key may read, narrowed to `fundId` when given; undefined = every fund. */
function auditScope(actor: Actor, fundId: string | undefined): string[] | undefined {
  if (fundId !== undefined && !seesFund(actor, fundId))
    throw new DomainError('not_found', 'No such fund.');
  if (fundId !== undefined) return [fundId];
  if (actor.role === 'admin') return undefined;
  if (actor.role === 'structure' || !actor.fundId)
    throw new DomainError('not_found', 'No audit trail here.');
  return [actor.fundId];
}

/** One page (plus one row) of the audit trail the key may read, oldest first, read on `reads` (the replica if any). */
export async function listAuditEvents(
  reads: Db,
  actor: Actor,
  fundId: string | undefined,
  page: Page,
): Promise<AuditEventRow[]> {
  return eventsWhere(reads, {
    fundIds: auditScope(actor, fundId),
    afterId: page.after,
    limit: page.limit + 1,
  });
}
