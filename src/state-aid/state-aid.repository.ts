import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { AidGrantsTable, Database, DeclaredAidTable, EuBaseRatesTable } from '../db/schema';

export type BaseRateRow = Selectable<EuBaseRatesTable>;
export type AidGrantRow = Selectable<AidGrantsTable>;
export type DeclaredAidRow = Selectable<DeclaredAidTable>;
type Executor = Db | Transaction<Database>;

export async function insertBaseRate(trx: Transaction<Database>, row: { fund_id: string; effective_date: string; rate_percent: string }): Promise<BaseRateRow | undefined> {
  return trx.insertInto('eu_base_rates').values(row).onConflict((c) => c.columns(['fund_id', 'effective_date']).doNothing()).returningAll().executeTakeFirst();
}

export async function findBaseRates(db: Executor, fundId: string, afterSeq: string | undefined, limit: number): Promise<BaseRateRow[]> {
  let query = db.selectFrom('eu_base_rates').selectAll().where('fund_id', '=', fundId);
  if (afterSeq !== undefined) query = query.where('seq', '>', afterSeq);
  return query.orderBy('seq').limit(limit).execute();
}

/** The rate with the latest effective date on or before `date` (DOMAIN.md "State aid"). */
export async function findBaseRateInForce(db: Executor, fundId: string, date: string): Promise<BaseRateRow | undefined> {
  return db.selectFrom('eu_base_rates').selectAll().where('fund_id', '=', fundId).where('effective_date', '<=', date)
    .orderBy('effective_date', 'desc').limit(1).executeTakeFirst();
}

export function aidGrantInsert(row: Omit<AidGrantRow, 'id' | 'seq' | 'created_at'>) {
  return { query: sql`INSERT INTO aid_grants (fund_id, structure_id, loan_id, grant_date, amount, reason, legal_basis)
    VALUES (${row.fund_id}, ${row.structure_id}, ${row.loan_id}, ${row.grant_date}, ${row.amount}, ${row.reason}, ${row.legal_basis})` };
}

export async function findAidGrantsOfLoan(db: Executor, loanId: string): Promise<AidGrantRow[]> {
  return db.selectFrom('aid_grants').selectAll().where('loan_id', '=', loanId).orderBy('seq').execute();
}

/** The loan's state-aid columns after a restructuring recomputed its GGE. */
export async function updateLoanAid(trx: Transaction<Database>, loanId: string, changes: { gross_grant_equivalent: string | null }): Promise<void> {
  await trx.updateTable('loans').set(changes).where('id', '=', loanId).execute();
}
