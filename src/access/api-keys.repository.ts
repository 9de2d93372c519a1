import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, ApiKeysTable } from '../db/schema';
import type { Actor, Role } from '../http/auth';

export type ApiKeyRow = Selectable<ApiKeysTable>;

export async function insertApiKey(
  trx: Transaction<Database>,
  key: Omit<ApiKeyRow, 'created_at' | 'revoked_at'>,
): Promise<ApiKeyRow> {
  return trx.insertInto('api_keys').values(key).returningAll().executeTakeFirstOrThrow();
}

/** The caller behind a secret's hash, if that key exists and is not revoked. */
export async function findActorBySecretHash(
  db: Db,
  secretHash: string,
): Promise<Actor | undefined> {
  const key = await db
    .selectFrom('api_keys')
    .select(['id', 'role', 'fund_id', 'structure_id'])
    .where('secret_hash', '=', secretHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return (
    key && {
      keyId: key.id,
      role: key.role as Role,
      fundId: key.fund_id,
      structureId: key.structure_id,
    }
  );
}

export async function findApiKeyById(
  db: Db | Transaction<Database>,
  id: string,
): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockApiKey(
  trx: Transaction<Database>,
  id: string,
): Promise<ApiKeyRow | undefined> {
  return trx.selectFrom('api_keys').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function markRevoked(trx: Transaction<Database>, id: string): Promise<ApiKeyRow> {
  return trx
    .updateTable('api_keys')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listApiKeys(
  db: Db,
  filter: { fundId: string | undefined; afterId: string | undefined; limit: number },
): Promise<ApiKeyRow[]> {
  let query = db.selectFrom('api_keys').selectAll().orderBy('id').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return query.execute();
}
