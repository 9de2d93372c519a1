import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, FundsTable } from '../db/schema';

export type FundRow = Selectable<FundsTable>;

export async function insertFund(trx: Transaction<Database>, fund: Omit<FundRow, 'created_at'>): Promise<FundRow> {
  return trx.insertInto('funds').values(fund).returningAll().executeTakeFirstOrThrow();
}

export async function findFundById(db: Db | Transaction<Database>, id: string): Promise<FundRow | undefined> {
  return db.selectFrom('funds').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Funds in id (creation) order; `ids` undefined means every fund. */
export async function listFunds(db: Db, filter: { ids: string[] | undefined; afterId: string | undefined; limit: number }): Promise<FundRow[]> {
  if (filter.ids?.length === 0) return [];
  let query = db.selectFrom('funds').selectAll().orderBy('id').limit(filter.limit);
  if (filter.ids) query = query.where('id', 'in', filter.ids);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return query.execute();
}
