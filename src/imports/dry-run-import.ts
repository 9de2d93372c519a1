import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { findVisibleFund } from '../funds/find-visible-fund';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { UUID_KEY } from '../http/pagination';
import { findProductsOfFund, type Product } from '../products/find-product';
import { checkLoanHeadroom } from './check-headroom';
import { checkLoanRows, type ImportedLoan } from './check-loans';
import { checkRepaymentRows } from './check-repayments';
import { checkStructureRows, knownStructureKeys, structureKey } from './check-structures';
import { IMPORT_KINDS, type ImportKind } from './import-columns';
import { reportOf, type FileChecks, type ImportReport } from './import-report';
import {
  findLoansByExternalReference,
  findRepaymentsOfLoans,
  findStructuresByIdentifiers,
} from './imports.repository';
import { readCsv, type CsvRow, type ReadFile } from './read-csv';

export type ImportBody = { fund_id: string; mode?: 'dry_run' | 'commit' } & Partial<
  Record<ImportKind, string>
>;

const texts = (rows: readonly CsvRow[], ...columns: string[]) => [
  ...new Set(
    rows.flatMap((r) =>
      columns.map((c) => r.fields[c]).filter((v): v is string => typeof v === 'string'),
    ),
  ),
];

/** The fund's products the loans file names, in one statement. */
async function productsNamed(
  db: Db,
  fundId: string,
  rows: readonly CsvRow[],
): Promise<Map<string, Product>> {
  const products = await findProductsOfFund(
    db,
    fundId,
    texts(rows, 'product_id').filter((id) => UUID_KEY.test(id)),
  );
  return new Map(products.map((p) => [p.id, p]));
}

/** What a commit creates, from an import that checked without error (see planOf). */
export interface ImportPlan {
  /** The valid rows of the structures file the fund does not have, in line order. */
  readonly structures: CsvRow[];
  /** The valid rows of the loans file the fund does not have, in line order, with their terms. */
  readonly loans: {
    readonly fields: Record<string, unknown>;
    readonly terms: ImportedLoan['terms'];
  }[];
  /** Each new loan's repayments, by external_reference, in the order they are entered: value date, then line. */
  readonly repayments: Map<string, CsvRow[]>;
  /** The fund's structures the loans name, by key (siret:… or rna:…). */
  readonly structureIds: Map<string, string>;
  /** The fund's products the loans name, by id. */
  readonly products: ReadonlyMap<string, Product>;
}

export interface CheckedImport {
  readonly report: ImportReport;
  readonly plan: ImportPlan;
}

/**
 * Validates an import as a whole and reports on it, writing nothing: each file read with the
 * conventions it states, each row checked by the API's own schemas and rules, the files checked
 * against one another and against what the fund already holds (docs/imports.md).
 */
export async function dryRunImport(
  db: Db,
  context: RequestContext,
  body: ImportBody,
  today: CalendarDate,
): Promise<ImportReport> {
  return (await checkImport(db, context, body, today)).report;
}

/**
 * The dry run, and what a commit would create if its report has no error. `recheck`: the worker's
 * second check of files the request found valid. It leaves out the replay of the new loans'
 * repayments, whose verdict depends only on the files and on today, which can only have moved on
 * (a date in the future then is not one now): what may have changed is the fund — structures, loans,
 * repayments and products — and that is checked again.
 */
export async function checkImport(
  db: Db,
  context: RequestContext,
  body: ImportBody,
  today: CalendarDate,
  recheck = false,
): Promise<CheckedImport> {
  const fund = await findVisibleFund(db, context.actor, body.fund_id, 'fund_id');
  assertCanWrite(context.actor);
  const given = IMPORT_KINDS.filter((kind) => body[kind] !== undefined);
  if (given.length === 0)
    throw new DomainError(
      'invalid_request',
      'An import needs at least one file.',
      IMPORT_KINDS.map((field) => ({
        field,
        message: 'none of structures, loans and repayments was sent',
      })),
    );

  const read: Partial<Record<ImportKind, ReadFile>> = {};
  for (const kind of given) read[kind] = await readCsv(kind, body[kind]!);
  const rowsOf = (kind: ImportKind) => read[kind]?.rows ?? [];
  const [structureRows, loanRows, repaymentRows] = [
    rowsOf('structures'),
    rowsOf('loans'),
    rowsOf('repayments'),
  ];

  const [structuresInFund, loansInFund, products] = await Promise.all([
    findStructuresByIdentifiers(
      db,
      fund.id,
      texts([...structureRows, ...loanRows], 'siret', 'structure_siret'),
      texts([...structureRows, ...loanRows], 'rna', 'structure_rna'),
    ),
    findLoansByExternalReference(
      db,
      fund.id,
      texts([...loanRows, ...repaymentRows], 'external_reference', 'loan_external_reference'),
    ),
    productsNamed(db, fund.id, loanRows),
  ]);
  const recorded = await findRepaymentsOfLoans(
    db,
    loansInFund.map((loan) => loan.id),
  );

  const inFund = knownStructureKeys(structuresInFund);
  const structures = checkStructureRows(fund.id, structureRows, inFund);
  const loanReferences = new Map(loansInFund.map((loan) => [loan.external_reference, loan.id]));
  const loans = checkLoanRows(
    loanRows,
    new Set([...inFund, ...structures.keys]),
    products,
    new Set(loanReferences.keys()),
    today,
  );
  await checkLoanHeadroom(db, fund.id, loans, loanRows, products);
  const repayments = checkRepaymentRows(
    repaymentRows,
    loans.created,
    loanReferences,
    recorded,
    today,
    !recheck,
  );

  const checks: FileChecks[] = [structures.checks, loans.checks, repayments].filter((check) =>
    given.includes(check.kind),
  );
  for (const check of checks) check.tally.rows_read = read[check.kind]!.lines;
  const report = reportOf(
    fund.id,
    checks,
    given.flatMap((kind) => read[kind]!.errors),
  );

  const structureIds = new Map<string, string>();
  for (const s of structuresInFund) {
    if (s.siret) structureIds.set(`siret:${s.siret}`, s.id);
    if (s.rna) structureIds.set(`rna:${s.rna}`, s.id);
  }
  const newLoans = [...loans.created.values()].sort((a, b) => a.row - b.row);
  const lineOf = new Map(loanRows.map((r) => [r.row, r]));
  const byLoan = new Map<string, CsvRow[]>();
  for (const r of repaymentRows) {
    const reference = r.fields.loan_external_reference as string;
    if (loans.created.has(reference)) byLoan.set(reference, [...(byLoan.get(reference) ?? []), r]);
  }
  for (const lines of byLoan.values())
    lines.sort(
      (a, b) =>
        String(a.fields.value_date).localeCompare(String(b.fields.value_date)) || a.row - b.row,
    );
  const plan: ImportPlan = {
    structures: structureRows.filter(
      (r) =>
        !structures.checks.hasFailed(r.row) &&
        !inFund.has(structureKey(r.fields.siret, r.fields.rna)!),
    ),
    loans: newLoans.map((loan) => ({ fields: lineOf.get(loan.row)!.fields, terms: loan.terms })),
    repayments: byLoan,
    structureIds,
    products,
  };
  return { report, plan };
}
