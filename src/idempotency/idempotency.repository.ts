import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import type { Write } from '../db/writes';

/**
 * Takes the key for a new request: inserts it in flight, or takes over a row left in flight by a
 * request that died (older than `staleAfter`) or a completed one past its retention. Returns
 * whether it was taken; a statement of its own, so that a concurrent request sees it at once.
 */
export async function takeKey(db: Db, owner: string, key: string, requestHash: string): Promise<boolean> {
  const result = await sql<{ owner: string }>`
    INSERT INTO idempotency_keys AS k (owner, key, request_hash) VALUES (${owner}, ${key}, ${requestHash})
    ON CONFLICT (owner, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status_code = NULL, response = NULL, created_at = now()
      WHERE (k.status_code IS NULL AND k.created_at < now() - interval '5 minutes') OR k.created_at < now() - interval '7 days'
    RETURNING k.owner`.execute(db);
  return result.rows.length === 1;
}

export async function findKey(db: Db, owner: string, key: string) {
  return db.selectFrom('idempotency_keys').select(['request_hash', 'status_code', 'response']).where('owner', '=', owner).where('key', '=', key).executeTakeFirst();
}

/** Stores the response with the change it reports (a write of its transaction): both land, or neither. */
export function completeKeyWrite(trx: Transaction<Database>, owner: string, key: string, statusCode: number, response: unknown): Write {
  return {
    query: trx.updateTable('idempotency_keys').set({ status_code: statusCode, response: JSON.stringify(response) }).where('owner', '=', owner).where('key', '=', key),
  };
}

/** Frees a key whose request failed: a failure is not stored, the client may retry with it. */
export async function releaseKey(db: Db, owner: string, key: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('owner', '=', owner).where('key', '=', key).where('status_code', 'is', null).execute();
}
