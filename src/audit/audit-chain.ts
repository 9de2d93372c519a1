import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { canonicalJson } from '../domain/canonical-json';
import type { AuditEventRow } from './audit.repository';

export const GENESIS_HASH = '0'.repeat(64);

/**
 * THE definition of an event's hash, kept in this file in its two forms:
 *   hash = SHA-256(prev_hash ‖ before ‖ seq ‖ after), as lowercase hex,
 * where before ‖ seq ‖ after is the canonical JSON of the event, its hashes aside (hashedTextAroundSeq).
 * eventHash computes it in TS (the verifier, an import's bulk chains); chainHashSql in SQL, where
 * the API appends an event and only the chain's head knows prev_hash and seq. The stream is hashed
 * when it is not the fund itself (a loan's chain); fund chains hash as they always did.
 * test/integration/audit.test.ts recomputes every stored hash independently; verify checks both agree.
 */
export function eventHash(event: Omit<AuditEventRow, 'id' | 'hash'>): string {
  const { before, after } = hashedTextAroundSeq(event);
  return createHash('sha256')
    .update(event.prev_hash)
    .update(`${before}${event.seq}${after}`)
    .digest('hex');
}

/** The same hash as eventHash, in SQL: `prev` and `seq` (as text) are SQL expressions. */
export function chainHashSql(
  prev: RawBuilder<unknown>,
  seq: RawBuilder<unknown>,
  text: { before: string; after: string },
): RawBuilder<string> {
  return sql<string>`encode(sha256(convert_to(${prev} || ${text.before} || ${seq} || ${text.after}, 'UTF8')), 'hex')`;
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
