import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { RequestContext } from '../http/auth';
import { GENESIS_HASH, eventHash } from './audit-chain';
import { findChainHead, insertAuditEvent, lockFundChain } from './audit.repository';

export interface AuditedChange {
  readonly fundId: string;
  readonly action: string; // "fund.created", "loan.disbursed", …
  readonly entityType: string;
  readonly entityId: string;
  /** The entity as it is after the change, as the API shows it. */
  readonly state: unknown;
}

/** Appends the change to its fund's chain, inside the caller's transaction: both land or neither. */
export async function recordAuditEvent(trx: Transaction<Database>, context: RequestContext, change: AuditedChange): Promise<void> {
  await lockFundChain(trx, change.fundId);
  const head = await findChainHead(trx, change.fundId);
  const event = {
    fund_id: change.fundId,
    seq: (head?.seq ?? 0) + 1,
    occurred_at: new Date(),
    actor_key_id: context.actor.keyId,
    action: change.action,
    entity_type: change.entityType,
    entity_id: change.entityId,
    request_id: context.requestId || null,
    state: JSON.parse(JSON.stringify(change.state)) as unknown,
    prev_hash: head?.hash ?? GENESIS_HASH,
  };
  await insertAuditEvent(trx, { ...event, hash: eventHash(event) });
}
