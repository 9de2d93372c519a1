import pg from 'pg';
import { connectDatabase, type Db } from '../../src/db/connect';
import { migrate } from '../../src/db/migrate';

let db: Promise<Db> | undefined;

/** The run's test database (see test/setup/global-setup.ts), one small pool per test file. */
export function testDb(): Promise<Db> {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl)
    throw new Error('TEST_DATABASE_URL is not set: run the tests with jest (npm test)');
  db ??= connectDatabase({ databaseUrl, dataDir: '', poolSize: 5 });
  return db;
}

export async function closeTestDb(): Promise<void> {
  const open = db;
  db = undefined;
  if (open) await (await open).destroy();
}

/**
 * A database of the file's own, migrated, for tests whose workers process every job they find (the
 * run's database holds other files' reminders and outbox rows). Dropped by `drop()`, or with the
 * run's database by global-teardown's sweep of abandoned ones.
 */
export async function isolatedDatabase(
  suffix: string,
): Promise<{ url: string; db: Db; drop(): Promise<void> }> {
  const runUrl = process.env.TEST_DATABASE_URL;
  if (!runUrl) throw new Error('TEST_DATABASE_URL is not set: run the tests with jest (npm test)');
  const name = `${process.env.TEST_DATABASE_NAME}_${suffix}`;
  const admin = new URL(runUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client(admin.toString());
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.query(`CREATE DATABASE ${name}`);
  const url = new URL(runUrl);
  url.pathname = `/${name}`;
  const db = await connectDatabase({ databaseUrl: url.toString(), dataDir: '', poolSize: 5 });
  await migrate(db);
  return {
    url: url.toString(),
    db,
    drop: async () => {
      await db.destroy();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
