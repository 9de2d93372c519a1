import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { assertCanWrite, hashSecret, seesFund, type RequestContext } from '../http/auth';
import { findVisibleFund } from '../funds/find-visible-fund';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { findStructure } from '../structures/find-structure';
import { apiKeyView } from './api-key.view';
import { insertApiKey, type KeyRole } from './api-keys.repository';

export interface CreateApiKeyBody {
  role: KeyRole;
  fund_id?: string | null;
  structure_id?: string | null;
  label: string;
}

/** "sk_" and 256 random bits: unguessable, so that a SHA-256 of it is safe to store. */
const newSecret = () => `sk_${randomBytes(32).toString('base64url')}`;

/**
 * Keys for a fund (manager, auditor) or a structure. The admin creates any; a manager creates keys
 * inside its own fund, a structure key for one of the fund's structures, say, for a partner portal.
 */
export async function createApiKey(
  db: Db,
  context: RequestContext,
  body: CreateApiKeyBody,
  idempotency?: IdempotentRequest,
) {
  const scope = await resolveScope(db, context, body);
  assertCanWrite(context.actor);
  const secret = newSecret();
  // Stored without the secret (see refuseSecretReplay).
  const stored = await transactOnce(
    db,
    idempotency,
    async (trx) => {
      const created = await insertApiKey(trx, {
        id: uuidv7(),
        role: body.role,
        fund_id: scope.fundId,
        structure_id: scope.structureId,
        label: body.label,
        secret_hash: hashSecret(secret),
      });
      await recordAuditEvent(trx, context, {
        fundId: created.fund_id,
        action: 'api_key.created',
        entityType: 'api_key',
        entityId: created.id,
        state: apiKeyView(created),
      });
      return created;
    },
    (key) => ({ status: 201, body: apiKeyView(key) }),
  );
  return { ...stored, secret };
}

/** The key's fund and structure; anything the caller may not see is a 404, before any other check. */
async function resolveScope(
  db: Db,
  context: RequestContext,
  body: CreateApiKeyBody,
): Promise<{ fundId: string; structureId: string | null }> {
  if (body.role === 'structure') {
    if (!body.structure_id)
      throw new DomainError('rule_violation', 'A structure key names its structure.', [
        { field: 'structure_id', message: 'is required for role structure' },
      ]);
    const structure = await findStructure(db, body.structure_id);
    if (!structure || !seesFund(context.actor, structure.fund_id))
      throw new DomainError('not_found', 'No such structure.', [
        { field: 'structure_id', message: 'not found' },
      ]);
    if (body.fund_id != null && body.fund_id !== structure.fund_id) {
      throw new DomainError('rule_violation', 'The structure belongs to another fund.', [
        { field: 'fund_id', message: 'is not the structure’s fund' },
      ]);
    }
    return { fundId: structure.fund_id, structureId: structure.id };
  }
  if (!body.fund_id)
    throw new DomainError('rule_violation', `A ${body.role} key names its fund.`, [
      { field: 'fund_id', message: `is required for role ${body.role}` },
    ]);
  if (body.structure_id != null)
    throw new DomainError('rule_violation', `A ${body.role} key has no structure.`, [
      { field: 'structure_id', message: `is only for role structure` },
    ]);
  await findVisibleFund(db, context.actor, body.fund_id, 'fund_id');
  return { fundId: body.fund_id, structureId: null };
}
