import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, ProductsTable } from '../db/schema';

export type ProductRow = Selectable<ProductsTable>;

export async function insertProduct(trx: Transaction<Database>, product: Omit<ProductRow, 'created_at'>): Promise<ProductRow> {
  return trx.insertInto('products').values(product).returningAll().executeTakeFirstOrThrow();
}

export async function findProductById(db: Db | Transaction<Database>, id: string): Promise<ProductRow | undefined> {
  return db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listProducts(db: Db, filter: { fundId?: string; afterId?: string; limit: number }): Promise<ProductRow[]> {
  let query = db.selectFrom('products').selectAll().orderBy('id').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return query.execute();
}
