import { DomainError, type FieldError } from '../domain/errors';
import { ExactDecimal, parseExactDecimal } from '../domain/exact-decimal';
import { oneOf } from '../domain/one-of';
import {
  departmentOfCommune,
  isValidCommuneCode,
  isValidDepartmentCode,
  isValidNafCode,
  isValidRegionCode,
  isValidRna,
  isValidSiret,
} from '../domain/structure-identifiers';
import { LEGAL_FORMS, SIZE_CLASSES, type NewStructure } from './structures.repository';

/** What a structure is made of, as a request gives it: checked alike at creation and after an edit. */
export interface StructureFields {
  legal_name: string;
  siret?: string | null;
  rna?: string | null;
  legal_form: string;
  esus?: boolean;
  naf_code: string;
  commune_code: string;
  department_code: string;
  region_code: string;
  /** A number or a decimal text from a request; the stored value when an edit is merged over it. */
  jobs_fte: number | string | ExactDecimal;
  contact_email: string;
  webhook_url?: string | null;
  /** The EU size class (Recommendation 2003/361/EC), for the indicator RCO01 (docs/funding.md). */
  size_class?: string | null;
  /** In a priority urban neighbourhood (QPV), for the evaluation report (docs/evaluation.md). */
  qpv?: boolean;
}

/** "8899B" → "88.99B": NAF codes are stored as INSEE writes them. */
export const nafWithDot = (code: string) =>
  code.includes('.') ? code : `${code.slice(0, 2)}.${code.slice(2)}`;

/**
 * FTEs exactly, or undefined when a number has more than 2 decimals (a text has been checked
 * against the schema's pattern already).
 */
export function jobsOf(jobs: number | string | ExactDecimal): ExactDecimal | undefined {
  if (typeof jobs === 'string') return parseExactDecimal(jobs);
  if (typeof jobs !== 'number') return jobs;
  return Math.round(jobs * 100) / 100 === jobs ? new ExactDecimal(jobs.toFixed(2)) : undefined;
}

/** The columns a valid structure is stored as: on creation, on a PATCH (merged), by the CSV import. */
export const structureColumns = (f: StructureFields): Omit<NewStructure, 'id' | 'fund_id'> => ({
  legal_name: f.legal_name,
  siret: f.siret ?? null,
  rna: f.rna ?? null,
  legal_form: oneOf(LEGAL_FORMS, f.legal_form, 'legal_form'), // the schema's enum, checked already
  esus: f.esus ?? false,
  naf_code: nafWithDot(f.naf_code),
  commune_code: f.commune_code,
  department_code: f.department_code,
  region_code: f.region_code,
  jobs_fte: jobsOf(f.jobs_fte)!,
  contact_email: f.contact_email,
  webhook_url: f.webhook_url ?? null,
  size_class: f.size_class == null ? null : oneOf(SIZE_CLASSES, f.size_class, 'size_class'),
  qpv: f.qpv ?? false,
});

/** Identifiers and territory codes: every broken rule, named by field. */
export function checkStructure(body: StructureFields): FieldError[] {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  const { siret, rna } = body;
  if (siret == null && rna == null)
    fail('siret', 'a SIRET or, for an association without one, an RNA number is required');
  if (siret != null && !isValidSiret(siret))
    fail('siret', 'is not a valid SIRET (14 digits with a valid check digit)');
  if (rna != null && !isValidRna(rna)) fail('rna', 'is not an RNA number (W and 9 digits)');
  if (rna != null && siret == null && body.legal_form !== 'association')
    fail('rna', 'only associations may be identified by an RNA number alone');
  if (!isValidNafCode(nafWithDot(body.naf_code)))
    fail('naf_code', 'is not a NAF code such as "88.99B"');
  if (jobsOf(body.jobs_fte) === undefined) fail('jobs_fte', 'must have at most 2 decimals');
  if (!isValidCommuneCode(body.commune_code)) fail('commune_code', 'is not an INSEE commune code');
  if (!isValidDepartmentCode(body.department_code))
    fail('department_code', 'is not a French department code');
  if (!isValidRegionCode(body.region_code)) fail('region_code', 'is not an INSEE region code');
  if (
    isValidCommuneCode(body.commune_code) &&
    isValidDepartmentCode(body.department_code) &&
    departmentOfCommune(body.commune_code) !== body.department_code
  ) {
    fail('commune_code', `is not in department ${body.department_code}`);
  }
  return errors;
}

/** The unique index on (fund, SIRET) decides, also between two requests racing with the same SIRET. */
export const duplicateSiret = () =>
  new DomainError('conflict', 'A structure with this SIRET already exists in this fund.', [
    { field: 'siret', message: 'is already registered in this fund' },
  ]);
