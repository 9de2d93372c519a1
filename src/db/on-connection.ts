import { sql } from 'kysely';
import type pg from 'pg';
import type { Db } from './connect';

/**
 * Work that needs the transaction's own node-postgres client (COPY's streams), which Kysely does not
 * expose: sent through Kysely as the only parameter of a statement, it is run on the client by the
 * pool's wrapper (preparingPool). PGlite has no such client: there it is not run.
 */
export class OnConnection<T> {
  constructor(readonly run: (client: pg.PoolClient) => Promise<T>) {}
}

/** What `run` answered on the client of `db`'s connection (the transaction's, if `db` is one), or `unsupported` (PGlite). */
export async function onConnection<T>(
  db: Db,
  run: (client: pg.PoolClient) => Promise<T>,
): Promise<{ readonly answer: T } | 'unsupported'> {
  const { rows } = await sql<{ answer: T }>`${new OnConnection(run)}`.execute(db);
  return rows[0] ?? 'unsupported';
}
