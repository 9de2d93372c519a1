import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json';
import type { AuditEventRow } from './audit.repository';

export const GENESIS_HASH = '0'.repeat(64);

/**
 * hash = SHA-256(previous hash ‖ canonical JSON of the event, its hashes aside). The stream is
 * hashed when it is not the fund itself (a loan's chain); fund chains hash as they always did.
 */
export function eventHash(event: Omit<AuditEventRow, 'id' | 'hash'>): string {
  const { before, after } = hashedTextAroundSeq(event);
  return createHash('sha256')
    .update(event.prev_hash)
    .update(`${before}${event.seq}${after}`)
    .digest('hex');
}

/**
 * The canonical JSON eventHash hashes, cut around the event's seq, the one value only the chain's
 * head knows: PostgreSQL appends the event as SHA-256(prev_hash ‖ before ‖ seq ‖ after).
 */
export function hashedTextAroundSeq(
  event: Omit<AuditEventRow, 'id' | 'hash' | 'seq' | 'prev_hash'>,
): { before: string; after: string } {
  const stream = event.stream !== event.fund_id ? `,"stream":${JSON.stringify(event.stream)}` : '';
  const head = canonicalJson({
    fund_id: event.fund_id,
    occurred_at: event.occurred_at.toISOString(),
    actor_key_id: event.actor_key_id,
    action: event.action,
    entity_type: event.entity_type,
    entity_id: event.entity_id,
    request_id: event.request_id,
  });
  // Keys sort as action … request_id, seq, state, stream: those close the object.
  return {
    before: `${head.slice(0, -1)},"seq":`,
    after: `,"state":${canonicalJson(event.state)}${stream}}`,
  };
}
