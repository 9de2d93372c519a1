import { auditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { executeWrites } from '../db/writes';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { parseMoney } from '../domain/money';
import { assertCanWrite, seesFund, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { findStructure, type Structure } from '../structures/find-structure';
import { declaredAidView } from './state-aid.view';
import { insertDeclaredAid, type DeclaredAid } from './state-aid.repository';

export async function findVisibleStructure(
  db: Db,
  context: RequestContext,
  structureId: string,
): Promise<Structure> {
  const structure = await findStructure(db, structureId);
  // The fund's keys only: a structure's own key does not see the undertaking's aid (other structures' included).
  if (!structure || !seesFund(context.actor, structure.fund_id))
    throw new DomainError('not_found', 'No such structure.');
  return structure;
}

/** A request's declared aid (openapi.yaml has checked the date's form, the amount's and the basis's list). */
export interface DeclaredAidBody {
  grantor: string;
  grant_date: CalendarDate;
  amount: string;
  legal_basis?: DeclaredAid['legal_basis'];
}

/** POST /v1/structures/{id}/declared-aid: de minimis aid the structure declared from another grantor. */
export async function declareAid(
  db: Db,
  context: RequestContext,
  structureId: string,
  body: DeclaredAidBody,
  idempotency?: IdempotentRequest,
) {
  const structure = await findVisibleStructure(db, context, structureId);
  assertCanWrite(context.actor);
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const row = await insertDeclaredAid(trx, {
        fund_id: structure.fund_id,
        structure_id: structure.id,
        grantor: body.grantor,
        grant_date: body.grant_date,
        amount: parseMoney(body.amount),
        legal_basis: body.legal_basis ?? 'de_minimis',
      });
      await executeWrites(
        trx,
        auditEvent(context, {
          fundId: row.fund_id,
          action: 'declared_aid.recorded',
          entityType: 'declared_aid',
          entityId: row.id,
          state: declaredAidView(row),
        }),
      );
      return row;
    },
    (row) => ({ status: 201, body: declaredAidView(row) }),
  );
}
