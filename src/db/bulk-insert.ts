import { sql, type Transaction } from 'kysely';
import type { Database } from './schema';

/** Rows per statement: one JSON parameter of a few MB at most. */
const CHUNK = 5000;

/**
 * Inserts many rows of one table, a few thousand per statement, each batch sent as ONE JSON
 * parameter that PostgreSQL turns into rows of the table's own type (jsonb_populate_recordset): no
 * limit of 65,535 placeholders, and no column type to restate here. Only the columns of the first row
 * are written, so the others keep their defaults (a sequence, now()). Values are as the API writes
 * them: decimal strings, ISO dates, JSON for jsonb.
 */
export async function insertRows<T extends keyof Database & string>(
  trx: Transaction<Database>,
  table: T,
  rows: readonly object[],
): Promise<void> {
  if (rows.length === 0) return;
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
