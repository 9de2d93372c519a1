import type { ErrorCode, FieldError } from '../domain/errors';
import { IMPORT_KINDS, type ImportKind } from './import-columns';
import type { ImportError } from './read-csv';

/** At most this many errors are listed; the rest are counted (a wrong file can have one per cell). */
export const ERRORS_SHOWN = 1000;

export interface FileTally {
  rows_read: number;
  rows_valid: number;
  rows_to_create: number;
  rows_already_present: number;
}

export interface ImportReport {
  readonly mode: 'dry_run';
  readonly fund_id: string;
  readonly files: Partial<Record<ImportKind, FileTally>>;
  readonly errors: ImportError[];
  readonly errors_not_shown: number;
}

/** One file's errors and counts; a row is valid when nothing was reported on it. */
export interface FileChecks {
  readonly kind: ImportKind;
  readonly errors: ImportError[];
  readonly tally: FileTally;
  fail(row: number, rule: ErrorCode, column: string | null, message: string): void;
  /** The API's field errors, under the columns of the same names. */
  failFields(row: number, rule: ErrorCode, fields: readonly FieldError[]): void;
  hasFailed(row: number): boolean;
  /** Counts a row once its checks are done. */
  settle(row: number, present: boolean): void;
  /** An error found on a row to create after it was counted valid (the headroom, checked file-wide). */
  failSettled(row: number, rule: ErrorCode, column: string | null, message: string): void;
}

export function fileChecks(kind: ImportKind, rowsRead: number): FileChecks {
  const errors: ImportError[] = [];
  const tally: FileTally = {
    rows_read: rowsRead,
    rows_valid: 0,
    rows_to_create: 0,
    rows_already_present: 0,
  };
  const failed = new Set<number>();
  const fail = (row: number, rule: ErrorCode, column: string | null, message: string) => {
    errors.push({ file: kind, row, column, rule, message });
    failed.add(row);
  };
  return {
    kind,
    errors,
    tally,
    fail,
    failFields: (row, rule, fields) =>
      fields.forEach((field) => fail(row, rule, field.field || null, field.message)),
    hasFailed: (row) => failed.has(row),
    settle: (row, present) => {
      if (failed.has(row)) return;
      tally.rows_valid++;
      if (present) tally.rows_already_present++;
      else tally.rows_to_create++;
    },
    failSettled: (row, rule, column, message) => {
      if (!failed.has(row)) {
        tally.rows_valid--;
        tally.rows_to_create--;
      }
      fail(row, rule, column, message);
    },
  };
}

/** Every file's errors in file order (structures, loans, repayments), then line order; capped at ERRORS_SHOWN. */
export function reportOf(
  fundId: string,
  checks: FileChecks[],
  unreadable: ImportError[],
): ImportReport {
  const order = (error: ImportError) => IMPORT_KINDS.indexOf(error.file);
  const errors = [...unreadable, ...checks.flatMap((check) => check.errors)].sort(
    (a, b) => order(a) - order(b) || (a.row ?? 0) - (b.row ?? 0),
  );
  return {
    mode: 'dry_run',
    fund_id: fundId,
    files: Object.fromEntries(checks.map((check) => [check.kind, check.tally])),
    errors: errors.slice(0, ERRORS_SHOWN),
    errors_not_shown: Math.max(0, errors.length - ERRORS_SHOWN),
  };
}
