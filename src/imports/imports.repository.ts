import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, ImportsTable } from '../db/schema';
import { parseDate, type CalendarDate } from '../domain/dates';
import { parseMoney, type Money } from '../domain/money';
import { oneOf } from '../domain/one-of';
import { JOB_STATUSES, requeueStalled, type JobStatus } from '../outbox/requeue-stalled';

/**
 * What an import finds already in the fund. Reads only, each one statement whatever the number of
 * rows: the identifiers travel as one array parameter (`= ANY`), not one placeholder each.
 */

export interface KnownStructure {
  readonly id: string;
  readonly siret: string | null;
  readonly rna: string | null;
}

export async function findStructuresByIdentifiers(
  db: Db,
  fundId: string,
  sirets: string[],
  rnas: string[],
): Promise<KnownStructure[]> {
  if (sirets.length === 0 && rnas.length === 0) return [];
  return db
    .selectFrom('structures')
    .select(['id', 'siret', 'rna'])
    .where('fund_id', '=', fundId)
    .where((eb) =>
      eb.or([
        sql<boolean>`siret = ANY(${sirets}::text[])`,
        sql<boolean>`rna = ANY(${rnas}::text[])`,
      ]),
    )
    .execute();
}

export interface KnownLoan {
  readonly id: string;
  readonly external_reference: string;
}

export async function findLoansByExternalReference(
  db: Db,
  fundId: string,
  references: string[],
): Promise<KnownLoan[]> {
  if (references.length === 0) return [];
  const rows = await db
    .selectFrom('loans')
    .select(['id', 'external_reference'])
    .where('fund_id', '=', fundId)
    .where(sql<boolean>`external_reference = ANY(${references}::text[])`)
    .execute();
  return rows.map((row) => ({ id: row.id, external_reference: row.external_reference! }));
}

export interface KnownRepayment {
  readonly loan_id: string;
  readonly value_date: CalendarDate;
  readonly amount: Money;
  readonly reference: string | null;
}

/** The repayments in force (not reversed) of these loans. */
export async function findRepaymentsOfLoans(db: Db, loanIds: string[]): Promise<KnownRepayment[]> {
  if (loanIds.length === 0) return [];
  const rows = await db
    .selectFrom('repayments')
    .select(['loan_id', 'value_date', 'amount', 'reference'])
    .where(sql<boolean>`loan_id = ANY(${loanIds}::uuid[])`)
    .where('reversed_at', 'is', null)
    .execute();
  return rows.map((r) => ({
    ...r,
    value_date: parseDate(r.value_date),
    amount: parseMoney(r.amount),
  }));
}

/** An import as stored, its status checked (the files' text is kept until it ends). */
export type ImportRow = Omit<Selectable<ImportsTable>, 'status'> & { readonly status: JobStatus };

const rowToImport = (row: Selectable<ImportsTable>): ImportRow => ({
  ...row,
  status: oneOf(JOB_STATUSES, row.status, 'imports.status'),
});

export const COMMIT_IMPORT = 'commit-import';

export async function findImportById(
  db: Db | Transaction<Database>,
  id: string,
): Promise<ImportRow | undefined> {
  const row = await db.selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirst();
  return row && rowToImport(row);
}

/** An attempt begins: `running`, one more attempt; nothing if the import is done or failed (a job delivered again). */
export async function startImport(db: Db, id: string): Promise<ImportRow | undefined> {
  const row = await db
    .updateTable('imports')
    .set({
      status: 'running',
      attempts: sql<number>`attempts + 1`,
      started_at: sql<Date>`now()`,
      rows_done: 0,
    })
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'running'])
    .returningAll()
    .executeTakeFirst();
  return row && rowToImport(row);
}

export async function setImportProgress(
  db: Db | Transaction<Database>,
  id: string,
  rowsDone: number,
): Promise<void> {
  await db.updateTable('imports').set({ rows_done: rowsDone }).where('id', '=', id).execute();
}

/** An import's files are kept until it ends (their SHA-256 stays): they are in the fund once done, and sent again after a failure. */
const NO_FILES = { structures_csv: null, loans_csv: null, repayments_csv: null };

/** Done, in the transaction that wrote the import: the status says `done` exactly when the rows are there. */
export async function finishImport(
  trx: Transaction<Database>,
  id: string,
  created: Record<string, number>,
  rowsDone: number,
): Promise<void> {
  await trx
    .updateTable('imports')
    .set({
      status: 'done',
      created: JSON.stringify(created),
      rows_done: rowsDone,
      finished_at: sql<Date>`now()`,
      ...NO_FILES,
    })
    .where('id', '=', id)
    .execute();
}

/** Failed — for the errors the files now have against the fund, or `error` — with nothing of the import written. */
export async function failImport(
  db: Db,
  id: string,
  errors: unknown[],
  notShown: number,
  error: string | null,
): Promise<void> {
  await db
    .updateTable('imports')
    .set({
      status: 'failed',
      errors: JSON.stringify(errors),
      errors_not_shown: notShown,
      error,
      rows_done: 0,
      finished_at: sql<Date>`now()`,
      ...NO_FILES,
    })
    .where('id', '=', id)
    .execute();
}

/** Imports no worker finished, an hour on: a new job, or `failed` after six attempts or a day (as reports and exports). */
export function requeueStalledImports(db: Db): Promise<{ queued: number; failed: number }> {
  return requeueStalled(db, { table: 'imports', jobName: COMMIT_IMPORT, prefix: 'import' });
}
