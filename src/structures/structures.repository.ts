import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db/connect';
import { insertRowsReturning } from '../db/bulk-insert';
import type { Database, StructuresTable } from '../db/schema';
import { parseExactDecimal, type ExactDecimal } from '../domain/exact-decimal';
import { oneOf } from '../domain/one-of';

export const LEGAL_FORMS = [
  'association',
  'cooperative',
  'mutual',
  'foundation',
  'esus_company',
] as const;
export type LegalForm = (typeof LEGAL_FORMS)[number];
/** The EU size classes (Recommendation 2003/361/EC). */
export const SIZE_CLASSES = ['micro', 'small', 'medium', 'large'] as const;
export type SizeClass = (typeof SIZE_CLASSES)[number];

/** A structure as the application holds it: its jobs an exact decimal, its closed lists checked. */
export interface Structure {
  readonly id: string;
  readonly fund_id: string;
  readonly legal_name: string;
  readonly siret: string | null;
  readonly rna: string | null;
  readonly legal_form: LegalForm;
  readonly esus: boolean;
  readonly naf_code: string;
  readonly commune_code: string;
  readonly department_code: string;
  readonly region_code: string;
  /** Jobs in full-time equivalents, numeric(9,2). */
  readonly jobs_fte: ExactDecimal;
  readonly contact_email: string;
  readonly webhook_url: string | null;
  readonly created_at: Date;
  readonly version: number;
  readonly size_class: SizeClass | null;
  readonly qpv: boolean;
}

export type NewStructure = Omit<Structure, 'created_at' | 'version' | 'qpv'> & { qpv?: boolean };
export type StructureChanges = Partial<
  Omit<Structure, 'id' | 'fund_id' | 'created_at' | 'version'>
>;

export function rowToStructure(row: Selectable<StructuresTable>): Structure {
  return {
    ...row,
    legal_form: oneOf(LEGAL_FORMS, row.legal_form, 'structures.legal_form'),
    jobs_fte: parseExactDecimal(row.jobs_fte),
    size_class:
      row.size_class === null ? null : oneOf(SIZE_CLASSES, row.size_class, 'structures.size_class'),
  };
}

/** Jobs as the numeric(9,2) column takes them. */
const jobsText = (jobs: ExactDecimal) => jobs.toFixed(2);

export async function insertStructure(
  trx: Transaction<Database>,
  structure: NewStructure,
): Promise<Structure> {
  return rowToStructure(
    await trx
      .insertInto('structures')
      .values({ ...structure, jobs_fte: jobsText(structure.jobs_fte) })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

/** Many structures in one statement (the CSV import), in the order given. */
export async function insertStructures(
  trx: Transaction<Database>,
  structures: readonly NewStructure[],
): Promise<Structure[]> {
  const rows = await insertRowsReturning<'structures', Selectable<StructuresTable>>(
    trx,
    'structures',
    structures.map((s) => ({ ...s, jobs_fte: jobsText(s.jobs_fte) })),
  );
  return rows.map(rowToStructure);
}

export async function findStructureById(
  db: Db | Transaction<Database>,
  id: string,
): Promise<Structure | undefined> {
  const row = await db.selectFrom('structures').selectAll().where('id', '=', id).executeTakeFirst();
  return row && rowToStructure(row);
}

/** `fundId` or `structureId` narrows the list (a structure key sees only itself). */
export async function listStructures(
  db: Db,
  filter: { fundId?: string; structureId?: string; afterId?: string; limit: number },
): Promise<Structure[]> {
  let query = db.selectFrom('structures').selectAll().orderBy('id').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.structureId) query = query.where('id', '=', filter.structureId);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return (await query.execute()).map(rowToStructure);
}

/** The structure, locked until the transaction ends: an edit checks its ETag and writes it in one step. */
export async function lockStructureForUpdate(
  trx: Transaction<Database>,
  id: string,
): Promise<Structure | undefined> {
  const row = await trx
    .selectFrom('structures')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row && rowToStructure(row);
}

export async function updateStructureRow(
  trx: Transaction<Database>,
  id: string,
  changes: StructureChanges,
): Promise<Structure> {
  const { jobs_fte, ...rest } = changes;
  return rowToStructure(
    await trx
      .updateTable('structures')
      .set(jobs_fte === undefined ? rest : { ...rest, jobs_fte: jobsText(jobs_fte) })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

/**
 * Whether any loan (whatever its status) names the structure. Read under the structure's FOR UPDATE
 * lock: a loan being inserted holds a KEY SHARE lock on it (its foreign key), which that lock waits
 * for, and a loan inserted later waits for the edit's commit; so the answer cannot go stale.
 */
export async function structureHasLoans(trx: Transaction<Database>, id: string): Promise<boolean> {
  const row = await trx
    .selectFrom('loans')
    .select('id')
    .where('structure_id', '=', id)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
