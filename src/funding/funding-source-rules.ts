import type { FieldError } from '../domain/errors';
import { ZERO, type Money } from '../domain/money';

/** The closed list of origins (docs/funding.md); the EU funds carry their programme's CCI and priority. */
export const ORIGINS = [
  'erdf',
  'esf_plus',
  'region',
  'department',
  'intermunicipality',
  'state',
  'public_bank',
  'private_bank',
  'own_funds',
] as const;
export type Origin = (typeof ORIGINS)[number];
export const EU_ORIGINS: ReadonlySet<string> = new Set(['erdf', 'esf_plus']);

/** A request's source (openapi.yaml has checked its forms and the origin's list). */
export interface FundingSourceFields {
  origin: Origin;
  programme_code?: string | null;
  priority?: string | null;
  label: string;
  amount_committed: string;
  start_date: string;
  end_date?: string | null;
}

/** Every broken rule of a source, named by field (openapi.yaml checks the forms). */
export function checkFundingSource(
  f: Omit<FundingSourceFields, 'amount_committed'> & { amount_committed: Money },
): FieldError[] {
  const errors: FieldError[] = [];
  const eu = EU_ORIGINS.has(f.origin);
  for (const field of ['programme_code', 'priority'] as const) {
    if (eu && (f[field] ?? null) === null)
      errors.push({ field, message: `is required for a source of origin ${f.origin}` });
    if (!eu && (f[field] ?? null) !== null)
      errors.push({ field, message: 'is only for the EU funds (erdf, esf_plus)' });
  }
  if (f.amount_committed === ZERO)
    errors.push({ field: 'amount_committed', message: 'must be greater than 0' });
  if (f.end_date != null && f.end_date < f.start_date)
    errors.push({ field: 'end_date', message: 'is before start_date' });
  return errors;
}
