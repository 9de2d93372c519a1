import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Db } from '../db/connect';
import { isUniqueViolation } from '../db/errors';
import type { Database } from '../db/schema';
import { canonicalJson } from '../domain/canonical-json';
import { DomainError } from '../domain/errors';
import { auditEvent, type AuditedChange } from '../audit/record-audit-event';
import { executeWrites, type Write } from '../db/writes';
import type { RequestContext } from '../http/auth';
import {
  claimKey,
  forgetExpiredKey,
  storeKeyWrite,
  type QueryWithClaim,
} from './idempotency.repository';

export interface IdempotentRequest {
  /** The API key the Idempotency-Key belongs to: keys of different callers never meet. */
  readonly owner: string;
  readonly key: string;
  /** What makes two requests "the same": method, path and body. */
  readonly fingerprint: unknown;
}

/** What a use case answers: the status and the body the route sends. */
export interface Answer<Body = unknown> {
  readonly status: number;
  readonly body: Body;
}

export interface StoredResponse<Body = unknown> extends Answer<Body> {
  readonly replayed: boolean;
}

/**
 * Runs a use case's transaction, once per Idempotency-Key when the request has one (every POST that
 * creates or changes something takes one, STYLE "Habits" 4): `work` runs inside the transaction that
 * claims the key, `answer` turns its result into the response, stored with the key in the same
 * transaction; the same key and request replay it, as `runIdempotently` says. Without a key, `work`
 * simply runs in a transaction of its own. A use case adopts it by opening its transaction here
 * instead of with `db.transaction()`.
 */
export async function transactOnce<Result, Body>(
  db: Db,
  request: IdempotentRequest | undefined,
  work: (trx: Transaction<Database>) => Promise<Result>,
  answer: (result: Result) => Answer<Body>,
): Promise<StoredResponse<Body>> {
  if (!request)
    return db
      .transaction()
      .execute(async (trx) => ({ ...answer(await work(trx)), replayed: false }));
  const stored = await claimThenRun(db, request, async (trx) => ({
    ...answer(await work(trx)),
    writes: [],
  }));
  return stored as StoredResponse<Body>; // a replay's body is the JSON of the same view
}

/**
 * Runs a money-moving request once per Idempotency-Key (DOMAIN.md "Repayments"): the same key and
 * the same request replay the first response; another request under the key is a 422; while the
 * first still runs, a 409. All in the request's own transaction: the key is held by an advisory lock
 * while the request runs, and stored with its response in the same statement as the change, so a
 * failed or crashed request leaves nothing behind and the key can be used again. `perform` returns
 * its response, the writes still to send and the change to audit; it is given the row of the
 * `withClaim` query, which runs with the claim (one round trip) when the request is to proceed.
 */
export async function runIdempotently<Row extends object>(
  db: Db,
  context: RequestContext,
  request: IdempotentRequest,
  perform: (
    trx: Transaction<Database>,
    claimedRow: Row | undefined,
  ) => Promise<{ status: number; body: unknown; writes: Write[]; audit: AuditedChange }>,
  withClaim?: QueryWithClaim<Row>,
): Promise<StoredResponse> {
  return claimThenRun(
    db,
    request,
    async (trx, row) => {
      const { status, body, writes, audit } = await perform(trx, row);
      return { status, body, writes: [...writes, ...auditEvent(context, audit)] };
    },
    withClaim,
  );
}

/**
 * Claims the key in a new transaction, then replays, refuses, or runs `perform` and sends its writes
 * with the key and its response, in one statement.
 */
async function claimThenRun<Row extends object>(
  db: Db,
  request: IdempotentRequest,
  perform: (
    trx: Transaction<Database>,
    claimedRow: Row | undefined,
  ) => Promise<Answer & { writes: readonly Write[] }>,
  withClaim?: QueryWithClaim<Row>,
): Promise<StoredResponse> {
  const requestHash = createHash('sha256').update(canonicalJson(request.fingerprint)).digest('hex');
  const run = () =>
    db.transaction().execute(async (trx): Promise<StoredResponse> => {
      const { held, stored, expired, claimedRow } = await claimKey(
        trx,
        request.owner,
        request.key,
        withClaim,
      );
      if (stored && stored.request_hash !== requestHash) {
        throw new DomainError(
          'rule_violation',
          'This Idempotency-Key was used for a different request.',
          [
            {
              in: 'header',
              field: 'Idempotency-Key',
              message: 'was already used with another request body',
            },
          ],
        );
      }
      if (stored) return { status: stored.status_code, body: stored.response, replayed: true };
      if (!held)
        throw new DomainError(
          'conflict',
          'A request with this Idempotency-Key is still being processed; retry later.',
        );
      if (expired) await forgetExpiredKey(trx, request.owner, request.key);

      const { status, body, writes } = await perform(trx, claimedRow);
      // The change, its audit event and the key with its response in one statement.
      const key = {
        owner: request.owner,
        key: request.key,
        request_hash: requestHash,
        status_code: status,
        response: body,
      };
      await executeWrites(trx, [...writes, storeKeyWrite(key)]);
      return { status, body, replayed: false };
    });
  try {
    return await run();
  } catch (error) {
    // The first request committed between our snapshot and our lock: its response is there now.
    if (isUniqueViolation(error, 'idempotency_keys_pkey')) return run();
    throw error;
  }
}
