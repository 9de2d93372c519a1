import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, ProductsTable } from '../db/schema';

export type ProductRow = Selectable<ProductsTable>;

export async function insertProduct(
  trx: Transaction<Database>,
  product: Omit<ProductRow, 'created_at' | 'version' | 'active'>,
): Promise<ProductRow> {
  return trx.insertInto('products').values(product).returningAll().executeTakeFirstOrThrow();
}

export async function findProductById(
  db: Db | Transaction<Database>,
  id: string,
): Promise<ProductRow | undefined> {
  return db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listProducts(
  db: Db,
  filter: { fundId?: string; active?: boolean; afterId?: string; limit: number },
): Promise<ProductRow[]> {
  let query = db.selectFrom('products').selectAll().orderBy('id').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.active !== undefined) query = query.where('active', '=', filter.active);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return query.execute();
}

/** The product, locked until the transaction ends: an edit checks its ETag and writes it in one step. */
export async function lockProductForUpdate(
  trx: Transaction<Database>,
  id: string,
): Promise<ProductRow | undefined> {
  return trx.selectFrom('products').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateProductRow(
  trx: Transaction<Database>,
  id: string,
  changes: Partial<Pick<ProductRow, 'name' | 'active' | 'rating_class' | 'collateral_class'>>,
): Promise<ProductRow> {
  return trx
    .updateTable('products')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Whether the product takes loans, read under a FOR SHARE lock that a deactivation (FOR UPDATE) waits for, and that waits for one. */
export async function lockProductForShare(
  trx: Transaction<Database>,
  id: string,
): Promise<boolean> {
  const row = await trx
    .selectFrom('products')
    .select('active')
    .where('id', '=', id)
    .forShare()
    .executeTakeFirstOrThrow();
  return row.active;
}
