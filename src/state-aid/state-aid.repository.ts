import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { AidGrantsTable, Database, DeclaredAidTable, EuBaseRatesTable } from '../db/schema';
import { parseDate, type CalendarDate } from '../domain/dates';
import { parseExactDecimal, type ExactDecimal } from '../domain/exact-decimal';
import { formatMoney, parseMoney, type Money } from '../domain/money';
import { oneOf } from '../domain/one-of';
import {
  LEGAL_BASES,
  type CollateralClass,
  type LegalBasis,
  type RatingClass,
} from '../domain/gge';

/**
 * What state aid reads of a loan: members of src/loans' Loan, which it passes (src/loans sits above
 * state aid, so its type cannot be named here); the grant date's rates are exact decimals.
 */
export interface LoanAidFacts {
  readonly id: string;
  readonly fund_id: string;
  readonly structure_id: string;
  readonly principal: Money;
  readonly disbursed_on: CalendarDate | null;
  readonly rating_class: RatingClass | null;
  readonly collateral_class: CollateralClass | null;
  readonly legal_basis: LegalBasis;
  readonly aid_scheme_reference: string | null;
  readonly base_rate_percent: ExactDecimal | null;
  readonly reference_rate_percent: ExactDecimal | null;
  readonly discount_rate_percent: ExactDecimal | null;
  readonly gross_grant_equivalent: Money | null;
}
type Executor = Db | Transaction<Database>;

export { LEGAL_BASES, type LegalBasis };
const DE_MINIMIS_BASES = ['de_minimis', 'sgei_de_minimis'] as const;
const GRANT_REASONS = ['disbursement', 'restructuring'] as const;

/**
 * The EU base rate in force from a date. Its percent is an ExactDecimal, not a Rate: numeric(9,6)
 * between −100 and 100, and the base rate has been negative (a Rate is not).
 */
export type BaseRate = Omit<Selectable<EuBaseRatesTable>, 'effective_date' | 'rate_percent'> & {
  readonly effective_date: CalendarDate;
  readonly rate_percent: ExactDecimal;
};
const rowToBaseRate = <
  R extends Pick<BaseRate, never> & { effective_date: string; rate_percent: string },
>(
  row: R,
) => ({
  ...row,
  effective_date: parseDate(row.effective_date),
  rate_percent: parseExactDecimal(row.rate_percent),
});

export type AidGrant = Omit<
  Selectable<AidGrantsTable>,
  'grant_date' | 'amount' | 'reason' | 'legal_basis'
> & {
  readonly grant_date: CalendarDate;
  readonly amount: Money;
  readonly reason: (typeof GRANT_REASONS)[number];
  readonly legal_basis: LegalBasis;
};
/** A grant to record (its id, seq and time are the database's). */
export type NewAidGrant = Omit<AidGrant, 'id' | 'seq' | 'created_at'>;
const rowToAidGrant = <
  R extends Pick<Selectable<AidGrantsTable>, 'grant_date' | 'amount' | 'reason' | 'legal_basis'>,
>(
  row: R,
) => ({
  ...row,
  grant_date: parseDate(row.grant_date),
  amount: parseMoney(row.amount),
  reason: oneOf(GRANT_REASONS, row.reason, 'aid_grants.reason'),
  legal_basis: oneOf(LEGAL_BASES, row.legal_basis, 'aid_grants.legal_basis'),
});

export type DeclaredAid = Omit<
  Selectable<DeclaredAidTable>,
  'grant_date' | 'amount' | 'legal_basis'
> & {
  readonly grant_date: CalendarDate;
  readonly amount: Money;
  readonly legal_basis: (typeof DE_MINIMIS_BASES)[number];
};
export function rowToDeclaredAid(row: Selectable<DeclaredAidTable>): DeclaredAid {
  return {
    ...row,
    grant_date: parseDate(row.grant_date),
    amount: parseMoney(row.amount),
    legal_basis: oneOf(DE_MINIMIS_BASES, row.legal_basis, 'declared_aid.legal_basis'),
  };
}

export async function insertBaseRate(
  trx: Transaction<Database>,
  rate: { fund_id: string; effective_date: CalendarDate; rate_percent: ExactDecimal },
): Promise<BaseRate | undefined> {
  const row = await trx
    .insertInto('eu_base_rates')
    .values({ ...rate, rate_percent: rate.rate_percent.toFixed() })
    .onConflict((c) => c.columns(['fund_id', 'effective_date']).doNothing())
    .returningAll()
    .executeTakeFirst();
  return row && rowToBaseRate(row);
}

export async function findBaseRates(
  db: Executor,
  fundId: string,
  afterSeq: string | undefined,
  limit: number,
): Promise<BaseRate[]> {
  let query = db.selectFrom('eu_base_rates').selectAll().where('fund_id', '=', fundId);
  if (afterSeq !== undefined) query = query.where('seq', '>', afterSeq);
  return (await query.orderBy('seq').limit(limit).execute()).map(rowToBaseRate);
}

/** The rate with the latest effective date on or before `date` (DOMAIN.md "State aid"). */
export async function findBaseRateInForce(
  db: Executor,
  fundId: string,
  date: CalendarDate,
): Promise<BaseRate | undefined> {
  const row = await db
    .selectFrom('eu_base_rates')
    .selectAll()
    .where('fund_id', '=', fundId)
    .where('effective_date', '<=', date)
    .orderBy('effective_date', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && rowToBaseRate(row);
}

/** Every base rate of the fund, by effective date. */
export async function findBaseRatesOfFund(
  db: Executor,
  fundId: string,
): Promise<Pick<BaseRate, 'effective_date' | 'rate_percent'>[]> {
  const rows = await db
    .selectFrom('eu_base_rates')
    .select(['effective_date', 'rate_percent'])
    .where('fund_id', '=', fundId)
    .orderBy('effective_date')
    .execute();
  return rows.map(rowToBaseRate);
}

/** A grant's columns as stored: what aidGrantInsert writes, and the import inserts in bulk. */
export const aidGrantColumns = (
  grant: NewAidGrant,
): Omit<Selectable<AidGrantsTable>, 'id' | 'seq' | 'created_at'> => ({
  ...grant,
  amount: formatMoney(grant.amount),
});

export function aidGrantInsert(grant: NewAidGrant) {
  const row = aidGrantColumns(grant);
  return {
    query: sql`INSERT INTO aid_grants (fund_id, structure_id, loan_id, grant_date, amount, reason, legal_basis)
    VALUES (${row.fund_id}, ${row.structure_id}, ${row.loan_id}, ${row.grant_date}, ${row.amount}, ${row.reason}, ${row.legal_basis})`,
  };
}

export async function findAidGrantsOfLoan(db: Executor, loanId: string): Promise<AidGrant[]> {
  const rows = await db
    .selectFrom('aid_grants')
    .selectAll()
    .where('loan_id', '=', loanId)
    .orderBy('seq')
    .execute();
  return rows.map(rowToAidGrant);
}

/** The loan's state-aid columns after a restructuring recomputed its GGE. */
export async function updateLoanAid(
  trx: Transaction<Database>,
  loanId: string,
  changes: { gross_grant_equivalent: Money | null },
): Promise<void> {
  const gge = changes.gross_grant_equivalent;
  await trx
    .updateTable('loans')
    .set({ gross_grant_equivalent: gge === null ? null : formatMoney(gge) })
    .where('id', '=', loanId)
    .execute();
}

export async function insertDeclaredAid(
  trx: Transaction<Database>,
  aid: Omit<DeclaredAid, 'id' | 'seq' | 'created_at'>,
): Promise<DeclaredAid> {
  const row = await trx
    .insertInto('declared_aid')
    .values({ ...aid, amount: formatMoney(aid.amount) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToDeclaredAid(row);
}

export async function findDeclaredAid(db: Executor, structureId: string): Promise<DeclaredAid[]> {
  const rows = await db
    .selectFrom('declared_aid')
    .selectAll()
    .where('structure_id', '=', structureId)
    .orderBy('seq')
    .execute();
  return rows.map(rowToDeclaredAid);
}

export async function findAidGrantsOf(
  db: Executor,
  structureIds: readonly string[],
): Promise<AidGrant[]> {
  const rows = await db
    .selectFrom('aid_grants')
    .selectAll()
    .where('structure_id', 'in', [...structureIds])
    .orderBy('grant_date')
    .orderBy('seq')
    .execute();
  return rows.map(rowToAidGrant);
}

/** The fund's aid register between two dates: each grant with its beneficiary's identifiers. */
export async function findFundAidRegister(db: Executor, fundId: string, from: string, to: string) {
  const rows = await db
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
  return rows.map(rowToAidGrant);
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
