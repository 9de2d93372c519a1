import { auditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { executeWrites } from '../db/writes';
import { DomainError } from '../domain/errors';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { findVisibleStructure } from './declare-aid';
import { deleteUndertakingLink, insertUndertakingLink } from './state-aid.repository';

const pair = (a: string, b: string) => (a < b ? ([a, b] as const) : ([b, a] as const));

/** POST /v1/structures/{id}/undertaking-links: two structures of the fund form one undertaking (Art. 2(2) of 2023/2831). */
export async function linkStructures(
  db: Db,
  context: RequestContext,
  structureId: string,
  body: { structure_id: string },
  idempotency?: IdempotentRequest,
) {
  const structure = await findVisibleStructure(db, context, structureId);
  const other = await findVisibleStructure(db, context, body.structure_id).catch(() => undefined);
  assertCanWrite(context.actor);
  if (!other || other.fund_id !== structure.fund_id)
    throw new DomainError('not_found', 'No such structure in the fund.', [
      { field: 'structure_id', message: 'not found' },
    ]);
  if (other.id === structure.id)
    throw new DomainError('rule_violation', 'A structure cannot be linked to itself.', [
      { field: 'structure_id', message: 'must be another structure' },
    ]);
  const [low, high] = pair(structure.id, other.id);
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      await insertUndertakingLink(trx, {
        fund_id: structure.fund_id,
        structure_id: low,
        linked_id: high,
      });
      const state = { structure_id: structure.id, linked_structure_id: other.id };
      await executeWrites(
        trx,
        auditEvent(context, {
          fundId: structure.fund_id,
          action: 'undertaking_link.created',
          entityType: 'structure',
          entityId: structure.id,
          state,
        }),
      );
      return state;
    },
    (state) => ({ status: 201, body: state }),
  );
}

/** DELETE /v1/structures/{id}/undertaking-links/{linked_id}: idempotent, a link already gone answers 204 too (nothing audited then). */
export async function unlinkStructures(
  db: Db,
  context: RequestContext,
  structureId: string,
  linkedId: string,
) {
  const structure = await findVisibleStructure(db, context, structureId);
  const other = await findVisibleStructure(db, context, linkedId).catch(() => undefined);
  if (!other || other.fund_id !== structure.fund_id)
    throw new DomainError('not_found', 'No such structure in the fund.');
  assertCanWrite(context.actor);
  const [low, high] = pair(structure.id, linkedId);
  await db.transaction().execute(async (trx) => {
    if (!(await deleteUndertakingLink(trx, low, high))) return;
    await executeWrites(
      trx,
      auditEvent(context, {
        fundId: structure.fund_id,
        action: 'undertaking_link.deleted',
        entityType: 'structure',
        entityId: structure.id,
        state: { structure_id: structure.id, linked_structure_id: linkedId },
      }),
    );
  });
}
