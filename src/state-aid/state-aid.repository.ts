import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { AidGrantsTable, Database, DeclaredAidTable, EuBaseRatesTable } from '../db/schema';

export type BaseRateRow = Selectable<EuBaseRatesTable>;
export type AidGrantRow = Selectable<AidGrantsTable>;
export type DeclaredAidRow = Selectable<DeclaredAidTable>;
/** The loan's columns state aid reads and sets (src/loans sits above state aid). */
export type LoanRow = Selectable<Database['loans']>;
type Executor = Db | Transaction<Database>;

export async function insertBaseRate(
  trx: Transaction<Database>,
  row: { fund_id: string; effective_date: string; rate_percent: string },
): Promise<BaseRateRow | undefined> {
  return trx
    .insertInto('eu_base_rates')
    .values(row)
    .onConflict((c) => c.columns(['fund_id', 'effective_date']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findBaseRates(
  db: Executor,
  fundId: string,
  afterSeq: string | undefined,
  limit: number,
): Promise<BaseRateRow[]> {
  let query = db.selectFrom('eu_base_rates').selectAll().where('fund_id', '=', fundId);
  if (afterSeq !== undefined) query = query.where('seq', '>', afterSeq);
  return query.orderBy('seq').limit(limit).execute();
}

/** The rate with the latest effective date on or before `date` (DOMAIN.md "State aid"). */
export async function findBaseRateInForce(
  db: Executor,
  fundId: string,
  date: string,
): Promise<BaseRateRow | undefined> {
  return db
    .selectFrom('eu_base_rates')
    .selectAll()
    .where('fund_id', '=', fundId)
    .where('effective_date', '<=', date)
    .orderBy('effective_date', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Every base rate of the fund, by effective date. */
export async function findBaseRatesOfFund(
  db: Executor,
  fundId: string,
): Promise<{ effective_date: string; rate_percent: string }[]> {
  return db
    .selectFrom('eu_base_rates')
    .select(['effective_date', 'rate_percent'])
    .where('fund_id', '=', fundId)
    .orderBy('effective_date')
    .execute();
}

export function aidGrantInsert(row: Omit<AidGrantRow, 'id' | 'seq' | 'created_at'>) {
  return {
    query: sql`INSERT INTO aid_grants (fund_id, structure_id, loan_id, grant_date, amount, reason, legal_basis)
    VALUES (${row.fund_id}, ${row.structure_id}, ${row.loan_id}, ${row.grant_date}, ${row.amount}, ${row.reason}, ${row.legal_basis})`,
  };
}

export async function findAidGrantsOfLoan(db: Executor, loanId: string): Promise<AidGrantRow[]> {
  return db
    .selectFrom('aid_grants')
    .selectAll()
    .where('loan_id', '=', loanId)
    .orderBy('seq')
    .execute();
}

/** The loan's state-aid columns after a restructuring recomputed its GGE. */
export async function updateLoanAid(
  trx: Transaction<Database>,
  loanId: string,
  changes: { gross_grant_equivalent: string | null },
): Promise<void> {
  await trx.updateTable('loans').set(changes).where('id', '=', loanId).execute();
}

export async function insertDeclaredAid(
  trx: Transaction<Database>,
  row: Omit<DeclaredAidRow, 'id' | 'seq' | 'created_at'>,
): Promise<DeclaredAidRow> {
  return trx.insertInto('declared_aid').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findDeclaredAid(
  db: Executor,
  structureId: string,
): Promise<DeclaredAidRow[]> {
  return db
    .selectFrom('declared_aid')
    .selectAll()
    .where('structure_id', '=', structureId)
    .orderBy('seq')
    .execute();
}

export async function findAidGrantsOf(
  db: Executor,
  structureIds: readonly string[],
): Promise<AidGrantRow[]> {
  return db
    .selectFrom('aid_grants')
    .selectAll()
    .where('structure_id', 'in', [...structureIds])
    .orderBy('grant_date')
    .orderBy('seq')
    .execute();
}

/** The fund's aid register between two dates: each grant with its beneficiary's identifiers. */
export async function findFundAidRegister(db: Executor, fundId: string, from: string, to: string) {
  return db
    .selectFrom('aid_grants as g')
    .innerJoin('structures as s', 's.id', 'g.structure_id')
    .select([
      'g.loan_id',
      'g.structure_id',
      'g.grant_date',
      'g.amount',
      'g.reason',
      'g.legal_basis',
      's.legal_name',
      's.siret',
      's.rna',
    ])
    .where('g.fund_id', '=', fundId)
    .where('g.grant_date', '>=', from)
    .where('g.grant_date', '<=', to)
    .orderBy('g.grant_date')
    .orderBy('g.seq')
    .execute();
}

/** Links the pair (smaller id first); linking again changes nothing. */
export async function insertUndertakingLink(
  trx: Transaction<Database>,
  row: { fund_id: string; structure_id: string; linked_id: string },
): Promise<void> {
  await trx
    .insertInto('undertaking_links')
    .values(row)
    .onConflict((c) => c.columns(['structure_id', 'linked_id']).doNothing())
    .execute();
}

export async function deleteUndertakingLink(
  trx: Transaction<Database>,
  structureId: string,
  linkedId: string,
): Promise<boolean> {
  const result = await trx
    .deleteFrom('undertaking_links')
    .where('structure_id', '=', structureId)
    .where('linked_id', '=', linkedId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
