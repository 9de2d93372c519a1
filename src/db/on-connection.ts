import { sql } from 'kysely';
import type pg from 'pg';
import type { Db } from './connect';

/**
 * Work for the raw node-postgres client of the connection a statement runs on (a COPY, which Kysely
 * cannot send): `sql\`${new OnConnection(run)}\`.execute(trx)` runs `run(client)` on the
 * transaction's own connection (preparingPool in src/db/connect.ts) and answers one row, its result. PGlite has
 * no such client: its dialect refuses it (src/db/pglite-dialect.ts).
 */
export class OnConnection<T> {
  constructor(readonly run: (client: pg.PoolClient) => Promise<T>) {}
}

/** Runs `task` on `db`'s connection (the transaction's, if `db` is one) and gives its result. */
export async function onConnection<T>(db: Db, task: OnConnection<T>): Promise<T> {
  const { rows } = await sql<{ result: T }>`${task}`.execute(db);
  return rows[0]!.result;
}
