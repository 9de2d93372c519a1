import pg from 'pg';
import { connectDatabase } from '../../src/db/connect';
import { migrate } from '../../src/db/migrate';

/**
 * Each test run gets a database of its own on the PostgreSQL server (127.0.0.1:5432 unless
 * TEST_DATABASE_ADMIN_URL says otherwise), migrated once; global-teardown drops it.
 */
export default async function globalSetup(): Promise<void> {
  const adminUrl =
    process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `loans_test_${process.pid}_${Date.now()}`;
  const client = new pg.Client(adminUrl);
  await client.connect();
  await dropAbandonedDatabases(client);
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  process.env.TEST_DATABASE_URL = url.toString();
  process.env.TEST_DATABASE_NAME = name;
  const db = await connectDatabase({ databaseUrl: url.toString(), dataDir: '' });
  await migrate(db);
  await db.destroy();
}

/** Databases of runs that died before their teardown, an hour or more ago (never a run in progress). */
async function dropAbandonedDatabases(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname ~ '^loans_test_[0-9]+_[0-9]+(_[a-z]+)?$'",
  );
  for (const { datname } of rows) {
    const startedAt = Number(datname.split('_')[3]);
    if (Date.now() - startedAt > 3_600_000)
      await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  }
}
