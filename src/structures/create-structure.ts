import { v7 as uuidv7 } from 'uuid';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { isUniqueViolation } from '../db/errors';
import { DomainError } from '../domain/errors';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { findVisibleFund } from '../funds/find-visible-fund';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { STRICT_OUTBOUND, type OutboundPolicy } from '../http/outbound';
import { webhookUrlErrors } from '../http/webhook-url-field';
import {
  checkStructure,
  duplicateSiret,
  structureColumns,
  type StructureFields,
} from './structure-rules';
import { structureView } from './structure.view';
import { insertStructure } from './structures.repository';

export interface CreateStructureBody extends StructureFields {
  fund_id: string;
}

export async function createStructure(
  db: Db,
  context: RequestContext,
  body: CreateStructureBody,
  outbound: OutboundPolicy = STRICT_OUTBOUND,
  idempotency?: IdempotentRequest,
) {
  await findVisibleFund(db, context.actor, body.fund_id, 'fund_id');
  assertCanWrite(context.actor);
  const broken = [...checkStructure(body), ...webhookUrlErrors(body.webhook_url, outbound)];
  if (broken.length > 0)
    throw new DomainError('rule_violation', 'The structure breaks a business rule.', broken);
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const structure = await insertStructure(trx, {
        id: uuidv7(),
        fund_id: body.fund_id,
        ...structureColumns(body),
      });
      await recordAuditEvent(trx, context, {
        fundId: structure.fund_id,
        action: 'structure.created',
        entityType: 'structure',
        entityId: structure.id,
        state: structureView(structure),
      });
      return structure;
    },
    (structure) => ({ status: 201, body: structureView(structure) }),
  ).catch((error: unknown) => {
    throw isUniqueViolation(error, 'structures_fund_id_siret_key') ? duplicateSiret() : error;
  });
}
