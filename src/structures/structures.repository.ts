import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, StructuresTable } from '../db/schema';

export type StructureRow = Selectable<StructuresTable>;

export async function insertStructure(trx: Transaction<Database>, structure: Omit<StructureRow, 'created_at'>): Promise<StructureRow> {
  return trx.insertInto('structures').values(structure).returningAll().executeTakeFirstOrThrow();
}

export async function findStructureById(db: Db | Transaction<Database>, id: string): Promise<StructureRow | undefined> {
  return db.selectFrom('structures').selectAll().where('id', '=', id).executeTakeFirst();
}

/** `fundId` or `structureId` narrows the list (a structure key sees only itself). */
export async function listStructures(db: Db, filter: { fundId?: string; structureId?: string; afterId?: string; limit: number }): Promise<StructureRow[]> {
  let query = db.selectFrom('structures').selectAll().orderBy('id').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.structureId) query = query.where('id', '=', filter.structureId);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return query.execute();
}
