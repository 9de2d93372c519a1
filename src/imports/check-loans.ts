import type { CalendarDate } from '../domain/dates';
import type { ScheduleTerms } from '../domain/schedule';
import { checkLoanTerms } from '../loans/loan-terms';
import type { Product } from '../products/find-product';
import type { ScheduleTermsBody } from '../schedules/schedule-terms.input';
import { schemaErrors } from './api-schemas';
import { structureKey, type StructureKeys } from './check-structures';
import { fileChecks, type FileChecks } from './import-report';
import type { CsvRow } from './read-csv';

/** Stands for the structure while the schema is checked: the loan names its structure by SIRET or RNA instead. */
const SOME_STRUCTURE_ID = '00000000-0000-7000-8000-000000000000';
const REFERENCE_MAX = 100;

/** A loan the import would create, disbursed on its disbursement_date: what its repayments are replayed on. */
export interface ImportedLoan {
  readonly row: number;
  readonly terms: ScheduleTerms;
}

export interface CheckedLoans {
  readonly checks: FileChecks;
  /** By external_reference: the valid loans the import would create. */
  readonly created: Map<string, ImportedLoan>;
}

/**
 * Each row as POST /v1/loans then POST /v1/loans/{id}/disbursement (on disbursement_date, for the
 * whole principal) would take it: the same schema, product ranges and schedule rules. A loan whose
 * external_reference the fund already has is already present.
 */
export function checkLoanRows(
  rows: readonly CsvRow[],
  structures: StructureKeys,
  products: ReadonlyMap<string, Product>,
  inFund: ReadonlySet<string>,
  today: CalendarDate,
): CheckedLoans {
  const checks = fileChecks('loans', rows.length);
  const created = new Map<string, ImportedLoan>();
  const firstLine = new Map<string, number>();
  for (const { row, fields } of rows) {
    const {
      external_reference: reference,
      structure_siret: siret,
      structure_rna: rna,
      ...loanFields
    } = fields;
    if (typeof reference !== 'string')
      checks.fail(row, 'invalid_request', 'external_reference', 'is required');
    else if (reference.length > REFERENCE_MAX)
      checks.fail(
        row,
        'invalid_request',
        'external_reference',
        `must NOT have more than ${REFERENCE_MAX} characters`,
      );
    else if (firstLine.has(reference))
      checks.fail(
        row,
        'conflict',
        'external_reference',
        `is also on line ${firstLine.get(reference)}: one row per loan`,
      );
    else firstLine.set(reference, row);

    const structure = structureKey(siret, rna);
    if (structure === undefined)
      checks.fail(
        row,
        'invalid_request',
        'structure_siret',
        'a structure_siret or, for an association without one, a structure_rna is required',
      );
    else if (!structures.has(structure))
      checks.fail(
        row,
        'not_found',
        siret === undefined ? 'structure_rna' : 'structure_siret',
        'not found: no valid row of the structures file, and no structure of the fund, has it',
      );

    const body = { ...loanFields, structure_id: SOME_STRUCTURE_ID } as ScheduleTermsBody & {
      product_id: string;
      structure_id: string;
    };
    const invalid = schemaErrors('LoanCreate', body);
    checks.failFields(row, 'invalid_request', invalid);
    const product = invalid.length === 0 ? products.get(body.product_id) : undefined;
    if (invalid.length === 0 && !product) checks.fail(row, 'not_found', 'product_id', 'not found');
    if (!product) {
      checks.settle(row, false);
      continue;
    }
    const { terms, broken } = checkLoanTerms(body, product);
    if (terms.disbursementDate > today)
      broken.push({ field: 'disbursement_date', message: 'must not be in the future' });
    checks.failFields(row, 'rule_violation', broken);

    const present = typeof reference === 'string' && inFund.has(reference);
    if (!checks.hasFailed(row) && !present) created.set(reference as string, { row, terms });
    checks.settle(row, present);
  }
  return { checks, created };
}
