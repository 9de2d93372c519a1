import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json';
import type { AuditEventRow } from './audit.repository';

export const GENESIS_HASH = '0'.repeat(64);

/** hash = SHA-256(previous hash ‖ canonical JSON of the event, its hashes aside). */
export function eventHash(event: Omit<AuditEventRow, 'id' | 'hash'>): string {
  const { prev_hash: previous, occurred_at: occurredAt, ...rest } = event;
  const canonical = canonicalJson({ ...rest, occurred_at: occurredAt.toISOString() });
  return createHash('sha256').update(previous).update(canonical).digest('hex');
}
