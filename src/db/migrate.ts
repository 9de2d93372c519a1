import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Db } from './connect';

/** migrations/ at the repository root, from src/db or dist/src/db. */
const MIGRATIONS_DIR =
  ['../..', '../../..']
    .map((up) => path.resolve(__dirname, up, 'migrations'))
    .find((dir) => {
      try {
        return readdirSync(dir).length > 0;
      } catch {
        return false;
      }
    }) ?? 'migrations';

/** Any fixed number: the advisory lock that keeps two processes from migrating at once. */
const MIGRATION_LOCK = 7_318_021;

/**
 * Applies, in name order, every migrations/NNN_*.sql not applied yet, each in its own transaction
 * with its schema_migrations row. Forward only: a landed migration is never edited.
 */
export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  // Under the lock too: two processes starting at once on an empty database would both create it.
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`.execute(
      trx,
    );
  });
  // One read answers the usual start, where every migration is in: no transaction per file (on PGlite
  // the dozen of them took about a second and a half). What is pending is checked again under the lock.
  const present = new Set(
    (await db.selectFrom('schema_migrations').select('version').execute()).map(
      (row) => row.version,
    ),
  );
  const applied: string[] = [];
  const files = readdirSync(dir)
    .filter((name) => /^\d+_.*\.sql$/.test(name))
    .sort();
  for (const file of files) {
    const version = file.replace(/\.sql$/, '');
    if (present.has(version)) continue;
    const done = await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
      const existing = await trx
        .selectFrom('schema_migrations')
        .select('version')
        .where('version', '=', version)
        .executeTakeFirst();
      if (existing) return false;
      await sql.raw(readFileSync(path.join(dir, file), 'utf8')).execute(trx);
      await trx.insertInto('schema_migrations').values({ version }).execute();
      return true;
    });
    if (done) applied.push(version);
  }
  return applied;
}
