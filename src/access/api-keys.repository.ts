import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, ApiKeysTable } from '../db/schema';
import { oneOf } from '../domain/one-of';
import type { Actor } from '../http/auth';

/** The roles a key may have (the admin is no key of this table). */
export const KEY_ROLES = ['manager', 'auditor', 'structure'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export type ApiKey = Omit<Selectable<ApiKeysTable>, 'role'> & { readonly role: KeyRole };

export const rowToApiKey = (row: Selectable<ApiKeysTable>): ApiKey => ({
  ...row,
  role: oneOf(KEY_ROLES, row.role, 'api_keys.role'),
});

export async function insertApiKey(
  trx: Transaction<Database>,
  key: Omit<ApiKey, 'created_at' | 'revoked_at'>,
): Promise<ApiKey> {
  return rowToApiKey(
    await trx.insertInto('api_keys').values(key).returningAll().executeTakeFirstOrThrow(),
  );
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
      role: oneOf(KEY_ROLES, key.role, 'api_keys.role'),
      fundId: key.fund_id,
      structureId: key.structure_id,
    }
  );
}

export async function findApiKeyById(
  db: Db | Transaction<Database>,
  id: string,
): Promise<ApiKey | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  return row && rowToApiKey(row);
}

export async function lockApiKey(
  trx: Transaction<Database>,
  id: string,
): Promise<ApiKey | undefined> {
  const row = await trx
    .selectFrom('api_keys')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row && rowToApiKey(row);
}

export async function markRevoked(trx: Transaction<Database>, id: string): Promise<ApiKey> {
  return rowToApiKey(
    await trx
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

export async function listApiKeys(
  db: Db,
  filter: { fundId: string | undefined; afterId: string | undefined; limit: number },
): Promise<ApiKey[]> {
  let query = db.selectFrom('api_keys').selectAll().orderBy('id').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return (await query.execute()).map(rowToApiKey);
}
