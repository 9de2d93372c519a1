import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { RequestContext } from '../http/auth';
import { GENESIS_HASH, hashedTextAroundSeq } from './audit-chain';
import { chainAppendWrites } from './audit.repository';
import { executeWrites, type Write } from '../db/writes';

export interface AuditedChange {
  readonly fundId: string;
  readonly action: string; // "fund.created", "loan.disbursed", …
  readonly entityType: string;
  readonly entityId: string;
  /** The entity as it is after the change, as the API shows it. */
  readonly state: unknown;
  /** The chain it joins: the loan's id for a change of a loan (its repayments included), else the fund's. */
  readonly stream?: string;
}

/**
 * Appends the change to its fund's chain, inside the caller's transaction: both land or neither.
 * Call it last, just before the commit: from here on, the fund's other changes wait for this one.
 */
export async function recordAuditEvent(
  trx: Transaction<Database>,
  context: RequestContext,
  change: AuditedChange,
): Promise<void> {
  await executeWrites(trx, auditEvent(context, change));
}

/** The writes that append the change to its fund's chain, to send last with the use case's other writes. */
export function auditEvent(context: RequestContext, change: AuditedChange): Write[] {
  const event = {
    fund_id: change.fundId,
    stream: change.stream ?? change.fundId,
    occurred_at: new Date(),
    actor_key_id: context.actor.keyId,
    action: change.action,
    entity_type: change.entityType,
    entity_id: change.entityId,
    request_id: context.requestId || null,
    state: JSON.parse(JSON.stringify(change.state)) as unknown,
  };
  return chainAppendWrites(event, hashedTextAroundSeq(event), GENESIS_HASH);
}
