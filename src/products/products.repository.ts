import type { Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';

export interface ProductRow {
  id: string;
  fund_id: string;
  name: string;
  kind: string;
  principal_min: string;
  principal_max: string;
  annual_rate_percent_min: string;
  annual_rate_percent_max: string;
  term_periods_min: number;
  term_periods_max: number;
  deferral_periods_max: number;
  methods: string[];
  periodicities: string[];
  rounding: string;
  guarantee_coverage_percent: string;
  created_at: Date;
}

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
