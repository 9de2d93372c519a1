import type { Response } from 'express';
import { csvField, reportCsv } from '../http/csv';
import type { FundingReport } from './funding-report.view';

const SOURCE_COLUMNS = [
  'funding_source_id',
  'origin',
  'label',
  'programme_code',
  'priority',
  'amount_committed',
] as const;
const FIGURE_COLUMNS = [
  'loan_count',
  'disbursed',
  'repaid',
  'written_off',
  'capitalised_interest',
  'outstanding_start',
  'outstanding_end',
  'outstanding_days',
  'average_outstanding',
] as const;
/** The columns of the funding report's CSV: which line, the source's fields, then the figures. */
export const FUNDING_REPORT_COLUMNS = ['line', ...SOURCE_COLUMNS, ...FIGURE_COLUMNS] as const;

/**
 * The funding report as a table (RFC 4180, CRLF): one line per source (`line` = `source`), then
 * `unallocated` and `total` (their source fields empty; a source's `loan_count` is empty, a loan
 * being split across sources). Every cell passes through csvField: a label a manager typed cannot
 * be read as a formula by a spreadsheet.
 */
export function fundingReportCsv(report: FundingReport): string {
  const row = (cells: Readonly<Record<string, unknown>>) =>
    FUNDING_REPORT_COLUMNS.map((c) =>
      csvField(cells[c] === null || cells[c] === undefined ? '' : String(cells[c])),
    ).join(',');
  const lines = [
    FUNDING_REPORT_COLUMNS.join(','),
    ...report.sources.map((s) => row({ line: 'source', ...s })),
    row({ line: 'unallocated', ...report.unallocated }),
    row({ line: 'total', ...report.total }),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** A CSV answer, to be saved under `filename` (the figures are a document a manager files). */
export function sendCsv(res: Response, filename: string, csv: string): void {
  res
    .type('text/csv; charset=utf-8')
    .set('Content-Disposition', `attachment; filename="${filename}"`)
    .send(csv);
}

/** The EU indicators as `indicator,value` lines, as the stored reports' CSV writes any result (reportCsv). */
export const euIndicatorsCsv = (indicators: unknown): string => reportCsv(indicators);
