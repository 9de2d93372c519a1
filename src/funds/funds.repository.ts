import type { Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';

export interface FundRow {
  id: string;
  name: string;
  region_code: string;
  department_codes: string[];
  currency: string;
  reminder_days_before: number[];
  reminder_days_after: number[];
  webhook_url: string | null;
  created_at: Date;
}

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
