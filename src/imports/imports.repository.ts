import { sql } from 'kysely';
import type { Db } from '../db/connect';
import type { ProductRow } from '../products/find-product';

/**
 * What an import finds already in the fund. Reads only, each one statement whatever the number of
 * rows: the identifiers travel as one array parameter (`= ANY`), not one placeholder each.
 */

export interface KnownStructure {
  readonly id: string;
  readonly siret: string | null;
  readonly rna: string | null;
}

export async function findStructuresByIdentifiers(db: Db, fundId: string, sirets: string[], rnas: string[]): Promise<KnownStructure[]> {
  if (sirets.length === 0 && rnas.length === 0) return [];
  return db.selectFrom('structures').select(['id', 'siret', 'rna']).where('fund_id', '=', fundId)
    .where((eb) => eb.or([sql<boolean>`siret = ANY(${sirets}::text[])`, sql<boolean>`rna = ANY(${rnas}::text[])`]))
    .execute();
}

export interface KnownLoan {
  readonly id: string;
  readonly external_reference: string;
}

export async function findLoansByExternalReference(db: Db, fundId: string, references: string[]): Promise<KnownLoan[]> {
  if (references.length === 0) return [];
  const rows = await db.selectFrom('loans').select(['id', 'external_reference']).where('fund_id', '=', fundId)
    .where(sql<boolean>`external_reference = ANY(${references}::text[])`).execute();
  return rows.map((row) => ({ id: row.id, external_reference: row.external_reference! }));
}

export interface KnownRepayment {
  readonly loan_id: string;
  readonly value_date: string;
  readonly amount: string;
  readonly reference: string | null;
}

/** The repayments in force (not reversed) of these loans. */
export async function findRepaymentsOfLoans(db: Db, loanIds: string[]): Promise<KnownRepayment[]> {
  if (loanIds.length === 0) return [];
  return db.selectFrom('repayments').select(['loan_id', 'value_date', 'amount', 'reference'])
    .where(sql<boolean>`loan_id = ANY(${loanIds}::uuid[])`).where('reversed_at', 'is', null).execute();
}

/** The fund's products among `ids` (a product of another fund is not found, as through the API). */
export async function findProductsOfFund(db: Db, fundId: string, ids: string[]): Promise<ProductRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('products').selectAll().where('fund_id', '=', fundId).where(sql<boolean>`id = ANY(${ids}::uuid[])`).execute();
}
