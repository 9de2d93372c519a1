import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, FundsTable } from '../db/schema';
import { oneOf } from '../domain/one-of';

export const REMINDER_CHANNELS = ['webhook', 'email'] as const;
export type ReminderChannel = (typeof REMINDER_CHANNELS)[number];

/** A fund as the API shows it: everything but its webhook secret, which only `findWebhookSecret` reads. */
export interface Fund {
  readonly id: string;
  readonly name: string;
  readonly region_code: string;
  readonly department_codes: string[];
  readonly currency: 'EUR';
  readonly reminder_days_before: number[];
  readonly reminder_days_after: number[];
  readonly reminder_channels: ReminderChannel[];
  readonly webhook_url: string | null;
  readonly created_at: Date;
}

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
] as const satisfies readonly (keyof Fund)[];

export function rowToFund(row: Pick<Selectable<FundsTable>, (typeof FUND_COLUMNS)[number]>): Fund {
  return {
    ...row,
    currency: oneOf(['EUR'], row.currency, 'funds.currency'),
    reminder_channels: row.reminder_channels.map((c) =>
      oneOf(REMINDER_CHANNELS, c, 'funds.reminder_channels'),
    ),
  };
}

export async function insertFund(
  trx: Transaction<Database>,
  fund: Omit<Fund, 'created_at'>,
): Promise<Fund> {
  return rowToFund(
    await trx.insertInto('funds').values(fund).returning(FUND_COLUMNS).executeTakeFirstOrThrow(),
  );
}

export async function updateFundSettings(
  trx: Transaction<Database>,
  id: string,
  changes: Partial<
    Pick<
      Fund,
      'name' | 'reminder_days_before' | 'reminder_days_after' | 'reminder_channels' | 'webhook_url'
    >
  >,
): Promise<Fund> {
  return rowToFund(
    await trx
      .updateTable('funds')
      .set(changes)
      .where('id', '=', id)
      .returning(FUND_COLUMNS)
      .executeTakeFirstOrThrow(),
  );
}

export async function findFundById(
  db: Db | Transaction<Database>,
  id: string,
): Promise<Fund | undefined> {
  const row = await db
    .selectFrom('funds')
    .select(FUND_COLUMNS)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && rowToFund(row);
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
): Promise<Fund[]> {
  if (filter.ids?.length === 0) return [];
  let query = db.selectFrom('funds').select(FUND_COLUMNS).orderBy('id').limit(filter.limit);
  if (filter.ids) query = query.where('id', 'in', filter.ids);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return (await query.execute()).map(rowToFund);
}
