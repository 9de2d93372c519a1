import {
  canonicalAmount,
  canonicalBoolean,
  canonicalDate,
  canonicalDecimal,
  canonicalInteger,
  canonicalRate,
  type DecimalMark,
} from './cell-conventions';

export const IMPORT_KINDS = ['structures', 'loans', 'repayments'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

type CellType = 'text' | 'amount' | 'rate' | 'date' | 'integer' | 'decimal' | 'boolean';

export interface Column {
  /** The header, in English snake_case: the API's request field of the same name. */
  readonly name: string;
  readonly type: CellType;
  readonly required?: true;
  /** French headers read as this column (lowercase, without accents). */
  readonly aliases?: readonly string[];
}

/** Column by column, what each file holds (docs/imports.md and openapi.yaml's ImportRequest say the same). */
export const COLUMNS: Record<ImportKind, readonly Column[]> = {
  structures: [
    { name: 'legal_name', type: 'text', required: true, aliases: ['raison_sociale'] },
    { name: 'siret', type: 'text' },
    { name: 'rna', type: 'text' },
    { name: 'legal_form', type: 'text', required: true, aliases: ['forme_juridique'] },
    { name: 'esus', type: 'boolean' },
    { name: 'naf_code', type: 'text', required: true, aliases: ['code_naf'] },
    { name: 'commune_code', type: 'text', required: true, aliases: ['code_commune'] },
    { name: 'department_code', type: 'text', required: true, aliases: ['code_departement'] },
    { name: 'region_code', type: 'text', required: true, aliases: ['code_region'] },
    { name: 'jobs_fte', type: 'decimal', required: true, aliases: ['etp'] },
    { name: 'contact_email', type: 'text', required: true, aliases: ['email'] },
  ],
  loans: [
    { name: 'external_reference', type: 'text', required: true, aliases: ['reference_pret'] },
    { name: 'structure_siret', type: 'text', aliases: ['siret'] },
    { name: 'structure_rna', type: 'text', aliases: ['rna'] },
    { name: 'product_id', type: 'text', required: true, aliases: ['produit'] },
    { name: 'principal', type: 'amount', required: true, aliases: ['capital', 'montant'] },
    { name: 'annual_rate_percent', type: 'rate', required: true, aliases: ['taux'] },
    { name: 'periodicity', type: 'text', required: true, aliases: ['periodicite'] },
    { name: 'term_periods', type: 'integer', required: true, aliases: ['duree'] },
    { name: 'deferral_periods', type: 'integer', aliases: ['differe'] },
    { name: 'deferral_type', type: 'text', aliases: ['type_differe'] },
    { name: 'method', type: 'text', required: true, aliases: ['methode'] },
    { name: 'day_count', type: 'text', aliases: ['base_calcul'] },
    { name: 'rounding', type: 'text', aliases: ['arrondi'] },
    { name: 'instalment_multiple', type: 'amount', aliases: ['multiple_echeance'] },
    { name: 'disbursement_date', type: 'date', required: true, aliases: ['date_decaissement'] },
    { name: 'first_due_date', type: 'date', aliases: ['date_premiere_echeance'] },
  ],
  repayments: [
    { name: 'loan_external_reference', type: 'text', required: true, aliases: ['reference_pret'] },
    { name: 'value_date', type: 'date', required: true, aliases: ['date_valeur'] },
    { name: 'amount', type: 'amount', required: true, aliases: ['montant'] },
    { name: 'reference', type: 'text', aliases: ['libelle'] },
    { name: 'prepayment', type: 'text', aliases: ['remboursement_anticipe'] },
  ],
};

/** "Date valeur" / "date_valeur" / "Montant" → the column they name, if any. */
export function columnOfHeader(kind: ImportKind, header: string): Column | undefined {
  const key = header
    .trim()
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\s-]+/g, '_');
  return COLUMNS[kind].find((column) => column.name === key || column.aliases?.includes(key));
}

/** One cell in the API's spelling; an empty cell is a field left out. */
export function canonicalCell(column: Column, cell: string, decimalMark: DecimalMark): unknown {
  const text = cell.trim();
  if (text === '') return undefined;
  switch (column.type) {
    case 'text':
      return text;
    case 'amount':
      return canonicalAmount(text, decimalMark);
    case 'rate':
      return canonicalRate(text, decimalMark);
    case 'decimal':
      return canonicalDecimal(text, decimalMark);
    case 'date':
      return canonicalDate(text);
    case 'integer':
      return canonicalInteger(text);
    case 'boolean':
      return canonicalBoolean(text);
  }
}
