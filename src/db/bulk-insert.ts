import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql, type Transaction } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import { onConnection } from './on-connection';
import type { Database } from './schema';

/** Rows per statement: one JSON parameter of a few MB at most. */
const CHUNK = 5000;

/**
 * Inserts many rows of one table in ONE statement: `COPY … FROM STDIN` on PostgreSQL (three to four
 * times faster than the JSON below, measured in docs/benchmarks.md), else a few thousand rows per
 * statement, each batch sent as ONE JSON parameter that PostgreSQL turns into rows of the table's
 * own type (jsonb_populate_recordset). Either way no column type is restated here. Only the columns
 * of the first row are written, so the others keep their defaults (a sequence, now()). Values are as
 * the API writes them: decimal strings, ISO dates, JSON for jsonb.
 */
export async function insertRows<T extends keyof Database & string>(
  trx: Transaction<Database>,
  table: T,
  rows: readonly object[],
): Promise<void> {
  if (rows.length === 0) return;
  if ((await copyRows(trx, table, rows)) !== 'unsupported') return;
  const columns = sql.join(Object.keys(rows[0]!).map((column) => sql.ref(column)));
  for (let start = 0; start < rows.length; start += CHUNK) {
    const json = JSON.stringify(rows.slice(start, start + CHUNK));
    await sql`INSERT INTO ${sql.table(table)} (${columns}) SELECT ${columns} FROM jsonb_populate_recordset(NULL::${sql.table(table)}, ${json}::jsonb)`.execute(
      trx,
    );
  }
}

/** The same, answering the rows as stored (with their defaults), in the order given. */
export async function insertRowsReturning<T extends keyof Database & string, R>(
  trx: Transaction<Database>,
  table: T,
  rows: readonly object[],
): Promise<R[]> {
  if (rows.length === 0) return [];
  const columns = sql.join(Object.keys(rows[0]!).map((column) => sql.ref(column)));
  const stored: R[] = [];
  for (let start = 0; start < rows.length; start += CHUNK) {
    const json = JSON.stringify(rows.slice(start, start + CHUNK));
    const { rows: returned } = await sql<R>`INSERT INTO ${sql.table(table)} (${columns})
      SELECT ${columns} FROM jsonb_populate_recordset(NULL::${sql.table(table)}, ${json}::jsonb) WITH ORDINALITY AS r ORDER BY r.ordinality
      RETURNING *`.execute(trx);
    stored.push(...returned);
  }
  return stored;
}

/** Rows encoded per chunk written to COPY's stream. */
const COPY_CHUNK = 1000;

function copyRows(
  trx: Transaction<Database>,
  table: string,
  rows: readonly object[],
): Promise<unknown> {
  const columns = Object.keys(rows[0]!);
  const statement = `COPY ${quoted(table)} (${columns.map(quoted).join(', ')}) FROM STDIN`;
  return onConnection(trx, (client) =>
    pipeline(Readable.from(copyText(columns, rows)), client.query(copyFrom(statement))),
  );
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The rows in COPY's text format, a chunk at a time: tab-separated, \N for null, backslash escapes. */
function* copyText(columns: readonly string[], rows: readonly object[]): Generator<string> {
  for (let start = 0; start < rows.length; start += COPY_CHUNK) {
    let text = '';
    for (const row of rows.slice(start, start + COPY_CHUNK) as Record<string, unknown>[])
      text += columns.map((column) => copyValue(row[column])).join('\t') + '\n';
    yield text;
  }
}

function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text =
    typeof value === 'string'
      ? value
      : value instanceof Date
        ? value.toISOString()
        : typeof value === 'object'
          ? JSON.stringify(value) // jsonb
          : String(value); // numbers, booleans
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, escapeChar) : text;
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeChar = (c: string) => ESCAPES[c]!;
