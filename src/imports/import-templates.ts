import { COLUMNS, type Column, type ImportKind } from './import-columns';

export type Conventions = 'en' | 'fr';

/** The example rows, in the API's spelling: one structure, its loan, the loan's first two repayments. */
const EXAMPLES: Record<ImportKind, Record<string, string>[]> = {
  structures: [
    {
      legal_name: 'Les Jardins du Lac',
      siret: '44238618700011',
      legal_form: 'association',
      esus: 'true',
      naf_code: '88.99B',
      commune_code: '69123',
      department_code: '69',
      region_code: '84',
      jobs_fte: '12.5',
      contact_email: 'contact@example.org',
    },
  ],
  loans: [
    {
      external_reference: 'PRET-2025-001',
      structure_siret: '44238618700011',
      product_id: '01900000-0000-7000-8000-000000000001',
      principal: '12500.00',
      annual_rate_percent: '3.5',
      periodicity: 'monthly',
      term_periods: '36',
      deferral_periods: '0',
      deferral_type: 'partial',
      method: 'annuity',
      day_count: '30E/360',
      disbursement_date: '2025-01-31',
    },
  ],
  repayments: [
    {
      loan_external_reference: 'PRET-2025-001',
      value_date: '2025-02-28',
      amount: '366.28',
      reference: 'VIR 2025-02',
    },
    {
      loan_external_reference: 'PRET-2025-001',
      value_date: '2025-03-31',
      amount: '1250.50',
      reference: 'VIR 2025-03',
      prepayment: 'reduce_term',
    },
  ],
};

/** "12500.00" → "12 500,00", "2025-01-31" → "31/01/2025", "3.5" → "3,5": how a French spreadsheet writes them. */
function french(column: Column, value: string): string {
  switch (column.type) {
    case 'amount':
    case 'rate':
    case 'decimal': {
      const [whole, decimals] = value.split('.') as [string, string | undefined];
      const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ' ');
      return decimals === undefined ? grouped : `${grouped},${decimals}`;
    }
    case 'date':
      return value.split('-').reverse().join('/');
    case 'boolean':
      return value === 'true' ? 'oui' : 'non';
    default:
      return value;
  }
}

/** A cell quoted when it holds the separator, a quote or a line break (RFC 4180). */
const quoted = (cell: string, separator: string) =>
  cell.includes(separator) || /["\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;

/**
 * The header and example rows of one kind of file. English: `,` and a decimal point. French: `;`,
 * a decimal comma, spaces between thousands, day-first dates, and a BOM (Excel opens a UTF-8
 * file as UTF-8 only with one).
 */
export function importTemplate(kind: ImportKind, conventions: Conventions): string {
  const separator = conventions === 'fr' ? ';' : ',';
  const columns = COLUMNS[kind];
  const line = (cells: string[]) => cells.map((cell) => quoted(cell, separator)).join(separator);
  const rows = EXAMPLES[kind].map((example) =>
    line(
      columns.map((column) => {
        const value = example[column.name] ?? '';
        return conventions === 'fr' && value !== '' ? french(column, value) : value;
      }),
    ),
  );
  return `${conventions === 'fr' ? '\uFEFF' : ''}${[line(columns.map((c) => c.name)), ...rows].join('\r\n')}\r\n`;
}
