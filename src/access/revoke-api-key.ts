import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { assertCanWrite, seesFund, type RequestContext } from '../http/auth';
import { apiKeyView } from './api-key.view';
import { lockApiKey, markRevoked, type ApiKey } from './api-keys.repository';
import { forgetActor } from './find-actor';

/** Revoking is final and idempotent: revoking a revoked key changes nothing. The key stops working at once. */
export async function revokeApiKey(
  db: Db,
  context: RequestContext,
  keyId: string,
): Promise<ApiKey> {
  const key = await db.transaction().execute(async (trx) => {
    const key = await lockApiKey(trx, keyId);
    if (!key || !seesFund(context.actor, key.fund_id))
      throw new DomainError('not_found', 'No such API key.');
    assertCanWrite(context.actor);
    if (key.revoked_at) return key;
    const revoked = await markRevoked(trx, key.id);
    await recordAuditEvent(trx, context, {
      fundId: key.fund_id,
      action: 'api_key.revoked',
      entityType: 'api_key',
      entityId: key.id,
      state: apiKeyView(revoked),
    });
    return revoked;
  });
  forgetActor(db, key.id); // after the commit: a lookup from now on reads the revocation
  return key;
}
