import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import { canonicalJson } from '../domain/canonical-json';
import { DomainError } from '../domain/errors';
import { auditEvent, type AuditedChange } from '../audit/record-audit-event';
import { executeWrites, type Write } from '../db/writes';
import type { RequestContext } from '../http/auth';
import { completeKeyWrite, findKey, releaseKey, takeKey } from './idempotency.repository';

export interface IdempotentRequest {
  /** The API key the Idempotency-Key belongs to: keys of different callers never meet. */
  readonly owner: string;
  readonly key: string;
  /** What makes two requests "the same": method, path and body. */
  readonly fingerprint: unknown;
}

export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
  readonly replayed: boolean;
}

/**
 * Runs a money-moving request once per Idempotency-Key (DOMAIN.md "Repayments"): the same key and
 * the same request replay the first response; another request under the key is a 422; while the
 * first still runs, a 409. `perform` runs in a transaction, and returns its response, the writes still
 * to send and the change to audit: they are sent together with the stored response. A failed request
 * stores nothing and frees the key.
 */
export async function runIdempotently(
  db: Db, context: RequestContext, request: IdempotentRequest, perform: (trx: Transaction<Database>) => Promise<{ status: number; body: unknown; writes: Write[]; audit: AuditedChange }>,
): Promise<StoredResponse> {
  const requestHash = createHash('sha256').update(canonicalJson(request.fingerprint)).digest('hex');
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await takeKey(db, request.owner, request.key, requestHash)) {
      try {
        const response = await db.transaction().execute(async (trx) => {
          const { status, body, writes, audit } = await perform(trx);
          // The change, its stored response and its audit event in one statement, right before the commit:
          // from the audit append on, the fund's other changes wait for this one.
          await executeWrites(trx, [...writes, completeKeyWrite(trx, request.owner, request.key, status, body), ...auditEvent(context, audit)]);
          return { status, body };
        });
        return { ...response, replayed: false };
      } catch (error) {
        await releaseKey(db, request.owner, request.key);
        throw error;
      }
    }
    const existing = await findKey(db, request.owner, request.key);
    if (!existing) continue; // released between our attempt and this read: try to take it again
    if (existing.request_hash !== requestHash) {
      throw new DomainError('rule_violation', 'This Idempotency-Key was used for a different request.', [
        { in: 'header', field: 'Idempotency-Key', message: 'was already used with another request body' },
      ]);
    }
    if (existing.status_code === null) {
      throw new DomainError('conflict', 'A request with this Idempotency-Key is still being processed; retry later.');
    }
    return { status: existing.status_code, body: existing.response, replayed: true };
  }
  throw new DomainError('conflict', 'A request with this Idempotency-Key is still being processed; retry later.');
}
