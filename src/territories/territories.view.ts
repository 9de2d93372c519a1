import { formatMoney } from '../domain/money';
import { csvField } from '../http/csv';
import type { Territory, TerritoryBreakdown } from './get-territories';

function territoryView(t: Territory) {
  return {
    code: t.code,
    name: t.name,
    status: t.status,
    loan_count: t.loanCount,
    disbursed_principal: formatMoney(t.disbursed),
    outstanding_principal: formatMoney(t.outstanding),
    jobs_fte: t.jobsFte.toFixed(2), // FTE to the hundredth, written as amounts are
    structure_count: t.structureCount,
  };
}

export function territoriesView(b: TerritoryBreakdown) {
  return {
    fund_id: b.fund.id,
    level: b.level,
    as_of: b.asOf,
    currency: b.fund.currency,
    items: b.territories.map(territoryView),
  };
}

export const CSV_COLUMNS = [
  'code',
  'name',
  'status',
  'loan_count',
  'disbursed_principal',
  'outstanding_principal',
  'jobs_fte',
  'structure_count',
] as const;

/**
 * RFC 4180, CRLF, one line per territory, the columns of the JSON items: `code` first, the key a
 * mapping tool joins on the official boundaries (INSEE commune, department or region code, SIREN of
 * the EPCI), kept as text. Names pass through csvField: no cell is read as a formula.
 */
export function territoriesCsv(b: TerritoryBreakdown): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const item of b.territories.map(territoryView))
    lines.push(CSV_COLUMNS.map((column) => csvField(String(item[column] ?? ''))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
