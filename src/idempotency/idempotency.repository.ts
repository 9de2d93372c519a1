import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { Db } from '../db/connect';
import type { Write } from '../db/writes';

export interface KeyClaim {
  /** Whether this transaction now holds the key: no other request under it runs until it ends. */
  readonly held: boolean;
  /** The response stored for the key, if a request under it completed (within the retention). */
  readonly stored: { request_hash: string; status_code: number; response: unknown } | undefined;
  /** A response stored longer ago than the retention: forget it before storing the new one. */
  readonly expired: boolean;
}

/** Keys are kept seven days: an older one is forgotten, as if never used. */
const RETENTION = '7 days';

/**
 * A query to run in the claim's own statement, only when the claim lets the request proceed (the key
 * is held and no response is stored): `proceed` is the condition to put in its WHERE clause. It
 * saves the request a round trip (the loan's lock and history, for a repayment).
 */
export type QueryWithClaim<Row> = (proceed: RawBuilder<boolean>) => RawBuilder<Row>;

/**
 * In one statement: the key's transaction-scoped advisory lock, if free (a request under the key
 * holds it until it commits or fails, so a crash leaves nothing behind), the response stored for it,
 * if any, and the row of the query run with the claim (or undefined when it has none or did not run).
 */
export async function claimKey<Row extends object>(
  trx: Transaction<Database>,
  owner: string,
  key: string,
  withClaim?: QueryWithClaim<Row>,
): Promise<KeyClaim & { claimedRow: Row | undefined }> {
  const { rows } = await sql<{
    claim_held: boolean;
    claim_stored: KeyClaim['stored'] | null;
    claim_expired: boolean;
    claim_ran: boolean;
  }>`
    WITH claim AS MATERIALIZED (
      SELECT pg_try_advisory_xact_lock(hashtextextended(${`idempotency:${owner}:${key}`}, 0)) AS held,
        (SELECT json_build_object('request_hash', k.request_hash, 'status_code', k.status_code, 'response', k.response)
         FROM idempotency_keys k WHERE k.owner = ${owner} AND k.key = ${key} AND k.created_at >= now() - ${RETENTION}::interval) AS stored,
        EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.owner = ${owner} AND k.key = ${key} AND k.created_at < now() - ${RETENTION}::interval) AS expired)
    SELECT claim.held AS claim_held, claim.stored AS claim_stored, claim.expired AS claim_expired,
      ${withClaim ? sql`NOT (claimed IS NULL) AS claim_ran, claimed.*` : sql`false AS claim_ran`}
    FROM claim ${withClaim ? sql`LEFT JOIN LATERAL (${withClaim(sql<boolean>`(claim.held AND claim.stored IS NULL)`)}) claimed ON true` : sql``}`.execute(
    trx,
  );
  const {
    claim_held: held,
    claim_stored: stored,
    claim_expired: expired,
    claim_ran: ran,
    ...rest
  } = rows[0]!;
  return {
    held,
    stored: stored ?? undefined,
    expired,
    claimedRow: ran ? (rest as Row) : undefined,
  };
}

/** Forgets a key past its retention, so that it can be used again. */
export async function forgetExpiredKey(
  trx: Transaction<Database>,
  owner: string,
  key: string,
): Promise<void> {
  await sql`DELETE FROM idempotency_keys WHERE owner = ${owner} AND key = ${key} AND created_at < now() - ${RETENTION}::interval`.execute(
    trx,
  );
}

/** The key and the response, stored with the change they report (a write of its transaction): both land, or neither. */
export function storeKeyWrite(row: {
  owner: string;
  key: string;
  request_hash: string;
  status_code: number;
  response: unknown;
}): Write {
  return {
    query: sql`INSERT INTO idempotency_keys (owner, key, request_hash, status_code, response)
      VALUES (${row.owner}, ${row.key}, ${row.request_hash}, ${row.status_code}::integer, ${JSON.stringify(row.response)}::jsonb)`,
  };
}

/** Deletes up to `batch` keys past their retention, oldest first; returns how many. */
export async function deleteExpiredKeys(db: Db, batch: number): Promise<number> {
  const result = await sql`DELETE FROM idempotency_keys WHERE (owner, key) IN (
    SELECT owner, key FROM idempotency_keys WHERE created_at < now() - ${RETENTION}::interval ORDER BY created_at LIMIT ${batch})`.execute(
    db,
  );
  return Number(result.numAffectedRows ?? 0);
}
