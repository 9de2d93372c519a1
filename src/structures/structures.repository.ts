import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, StructuresTable } from '../db/schema';

export type StructureRow = Selectable<StructuresTable>;

export async function insertStructure(
  trx: Transaction<Database>,
  structure: Omit<StructureRow, 'created_at' | 'version' | 'qpv'> & { qpv?: boolean },
): Promise<StructureRow> {
  return trx.insertInto('structures').values(structure).returningAll().executeTakeFirstOrThrow();
}

export async function findStructureById(
  db: Db | Transaction<Database>,
  id: string,
): Promise<StructureRow | undefined> {
  return db.selectFrom('structures').selectAll().where('id', '=', id).executeTakeFirst();
}

/** `fundId` or `structureId` narrows the list (a structure key sees only itself). */
export async function listStructures(
  db: Db,
  filter: { fundId?: string; structureId?: string; afterId?: string; limit: number },
): Promise<StructureRow[]> {
  let query = db.selectFrom('structures').selectAll().orderBy('id').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.structureId) query = query.where('id', '=', filter.structureId);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return query.execute();
}

/** The structure, locked until the transaction ends: an edit checks its ETag and writes it in one step. */
export async function lockStructureForUpdate(
  trx: Transaction<Database>,
  id: string,
): Promise<StructureRow | undefined> {
  return trx
    .selectFrom('structures')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export type StructureChanges = Partial<
  Omit<StructureRow, 'id' | 'fund_id' | 'created_at' | 'version'>
>;

export async function updateStructureRow(
  trx: Transaction<Database>,
  id: string,
  changes: StructureChanges,
): Promise<StructureRow> {
  return trx
    .updateTable('structures')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Whether any loan (whatever its status) names the structure. Read under the structure's FOR UPDATE
 * lock: a loan being inserted holds a KEY SHARE lock on it (its foreign key), which that lock waits
 * for, and a loan inserted later waits for the edit's commit; so the answer cannot go stale.
 */
export async function structureHasLoans(trx: Transaction<Database>, id: string): Promise<boolean> {
  const row = await trx
    .selectFrom('loans')
    .select('id')
    .where('structure_id', '=', id)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
