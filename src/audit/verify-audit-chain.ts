import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { findVisibleFund } from '../funds/find-visible-fund';
import type { Actor } from '../http/auth';
import { GENESIS_HASH, eventHash } from './audit-chain';
import { chainSegment } from './audit.repository';

export interface ChainVerdict {
  readonly fund_id: string;
  readonly valid: boolean;
  readonly events_checked: number;
  readonly first_broken: { seq: number; event_id: string; reason: string } | null;
}

const BATCH = 1000;

/** Recomputes each of a fund's chains (its own, each loan's) from its first event and reports the first link that does not hold. */
export async function verifyAuditChain(db: Db, fundId: string): Promise<ChainVerdict> {
  let previousHash = GENESIS_HASH;
  let expectedSeq = 1;
  let stream = '00000000-0000-0000-0000-000000000000';
  let checked = 0;
  for (;;) {
    const events = await chainSegment(db, fundId, { stream, seq: expectedSeq - 1 }, BATCH);
    for (const event of events) {
      if (event.stream !== stream) {
        stream = event.stream;
        previousHash = GENESIS_HASH;
        expectedSeq = 1;
      }
      checked += 1;
      const broken = (reason: string): ChainVerdict => ({
        fund_id: fundId, valid: false, events_checked: checked, first_broken: { seq: event.seq, event_id: event.id, reason },
      });
      if (event.seq !== expectedSeq) return broken(`sequence jumps from ${expectedSeq - 1} to ${event.seq}`);
      if (event.prev_hash !== previousHash) return broken('prev_hash is not the hash of the event before');
      if (eventHash(event) !== event.hash) return broken('the event does not match its hash: it was altered');
      previousHash = event.hash;
      expectedSeq += 1;
    }
    if (events.length < BATCH) return { fund_id: fundId, valid: true, events_checked: checked, first_broken: null };
  }
}

/** The chain of a fund the key may see (admin, its manager or auditor; their own by default), or a 404. */
export async function verifyFundChain(db: Db, actor: Actor, fundId: string | undefined): Promise<ChainVerdict> {
  const named = fundId ?? actor.fundId ?? undefined;
  if (named === undefined) {
    throw new DomainError('invalid_request', 'Name the fund whose chain to verify.', [{ field: 'fund_id', in: 'query', message: 'is required for the admin' }]);
  }
  const fund = await findVisibleFund(db, actor, named);
  return verifyAuditChain(db, fund.id);
}
