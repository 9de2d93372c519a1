import { parse, type CsvError } from 'csv-parse';
import type { ErrorCode } from '../domain/errors';
import { conventionsOf, withoutBom, type FileConventions } from './cell-conventions';
import {
  canonicalCell,
  columnOfHeader,
  COLUMNS,
  type Column,
  type ImportKind,
} from './import-columns';

/** One thing wrong with an import: in which file, on which line (the header is line 1), in which column. */
export interface ImportError {
  readonly file: ImportKind;
  readonly row: number | null;
  readonly column: string | null;
  /** What the API would answer for it: invalid_request (400), rule_violation (422), not_found (404), conflict (409). */
  readonly rule: ErrorCode;
  readonly message: string;
}

/** A data line, its cells in the API's spelling under the columns' names (empty cells left out). */
export interface CsvRow {
  readonly row: number;
  readonly fields: Record<string, unknown>;
}

export interface ReadFile {
  readonly kind: ImportKind;
  readonly rows: CsvRow[];
  /** Data lines read, those with the wrong number of cells included (they are not in `rows`). */
  readonly lines: number;
  readonly errors: ImportError[];
}

/** Which column each header names; errors for unknown, repeated or missing columns. */
function mapHeader(
  kind: ImportKind,
  headers: string[],
  fail: (column: string | null, message: string) => void,
): (Column | undefined)[] {
  const columns = headers.map((header) => columnOfHeader(kind, header));
  columns.forEach((column, i) => {
    if (!column)
      fail(headers[i]!, `is not a column of the ${kind} file (docs/imports.md lists them)`);
    else if (columns.indexOf(column) !== i) fail(column.name, 'appears twice in the header');
  });
  for (const column of COLUMNS[kind]) {
    if (column.required && !columns.includes(column))
      fail(column.name, 'is a required column: the header has no such column');
  }
  return columns;
}

/**
 * Reads one file with csv-parse, record by record (a stream: the records are never all split at
 * once), into canonical rows. A file that cannot be read at all (not UTF-8, no separator in its
 * header, a quote never closed) gives file-level errors and no rows.
 */
export async function readCsv(kind: ImportKind, raw: string): Promise<ReadFile> {
  const errors: ImportError[] = [];
  const rows: CsvRow[] = [];
  const fail = (row: number | null, column: string | null, message: string) =>
    errors.push({ file: kind, row, column, rule: 'invalid_request', message });
  const text = withoutBom(raw);
  if (text === undefined)
    return {
      kind,
      rows,
      lines: 0,
      errors: [
        {
          file: kind,
          row: null,
          column: null,
          rule: 'invalid_request',
          message: 'is not UTF-8: save the file as "CSV UTF-8"',
        },
      ],
    };
  const conventions: FileConventions | undefined = conventionsOf(text.split(/\r?\n/, 1)[0]!);
  if (!conventions) {
    fail(
      1,
      null,
      'the header line must name the columns separated by "," (decimal point) or ";" (decimal comma)',
    );
    return { kind, rows, lines: 0, errors };
  }

  const parser = parse({
    delimiter: conventions.separator,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
  });
  parser.end(text);
  let columns: (Column | undefined)[] | undefined;
  let lines = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      if (!columns) {
        columns = mapHeader(kind, record, (column, message) => fail(1, column, message));
        if (errors.length > 0) return { kind, rows, lines: 0, errors };
        continue;
      }
      if (record.every((cell) => cell.trim() === '')) continue; // a line of empty cells, as spreadsheets leave at the end
      lines++;
      if (record.length !== columns.length) {
        fail(info.lines, null, `has ${record.length} cells, the header ${columns.length}`);
        continue;
      }
      const fields: Record<string, unknown> = {};
      record.forEach((cell, i) => {
        const value = canonicalCell(columns![i]!, cell, conventions.decimalMark);
        if (value !== undefined) fields[columns![i]!.name] = value;
      });
      rows.push({ row: info.lines, fields });
    }
  } catch (error) {
    const lines = (error as CsvError).lines;
    fail(
      typeof lines === 'number' ? lines : null,
      null,
      `cannot be read as CSV: ${(error as Error).message}`,
    );
  }
  if (!columns) fail(null, null, 'is empty: it needs at least its header line');
  return { kind, rows, lines, errors };
}
