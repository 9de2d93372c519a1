import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, FundsTable } from '../db/schema';

/** A fund as the API shows it: everything but its webhook secret, which only `findWebhookSecret` reads. */
export type FundRow = Omit<Selectable<FundsTable>, 'webhook_secret' | 'reminders_scanned_through'>;

const FUND_COLUMNS = [
  'id',
  'name',
  'region_code',
  'department_codes',
  'currency',
  'reminder_days_before',
  'reminder_days_after',
  'reminder_channels',
  'webhook_url',
  'created_at',
] as const satisfies readonly (keyof FundRow)[];

export async function insertFund(
  trx: Transaction<Database>,
  fund: Omit<FundRow, 'created_at'>,
): Promise<FundRow> {
  return trx.insertInto('funds').values(fund).returning(FUND_COLUMNS).executeTakeFirstOrThrow();
}

export async function updateFundSettings(
  trx: Transaction<Database>,
  id: string,
  changes: Partial<
    Pick<
      FundRow,
      'name' | 'reminder_days_before' | 'reminder_days_after' | 'reminder_channels' | 'webhook_url'
    >
  >,
): Promise<FundRow> {
  return trx
    .updateTable('funds')
    .set(changes)
    .where('id', '=', id)
    .returning(FUND_COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function findFundById(
  db: Db | Transaction<Database>,
  id: string,
): Promise<FundRow | undefined> {
  return db.selectFrom('funds').select(FUND_COLUMNS).where('id', '=', id).executeTakeFirst();
}

export async function findWebhookSecret(db: Db, fundId: string): Promise<string> {
  const { webhook_secret } = await db
    .selectFrom('funds')
    .select('webhook_secret')
    .where('id', '=', fundId)
    .executeTakeFirstOrThrow();
  return webhook_secret;
}

/** Funds in id (creation) order; `ids` undefined means every fund. */
export async function listFunds(
  db: Db,
  filter: { ids: string[] | undefined; afterId: string | undefined; limit: number },
): Promise<FundRow[]> {
  if (filter.ids?.length === 0) return [];
  let query = db.selectFrom('funds').select(FUND_COLUMNS).orderBy('id').limit(filter.limit);
  if (filter.ids) query = query.where('id', 'in', filter.ids);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return query.execute();
}
