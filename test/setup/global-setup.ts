import pg from 'pg';
import { connectDatabase } from '../../src/db/connect';
import { migrate } from '../../src/db/migrate';

/**
 * Each test run gets a database of its own on the PostgreSQL server (127.0.0.1:5432 unless
 * TEST_DATABASE_ADMIN_URL says otherwise), migrated once; global-teardown drops it.
 */
export default async function globalSetup(): Promise<void> {
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `loans_test_${process.pid}_${Date.now()}`;
  const client = new pg.Client(adminUrl);
  await client.connect();
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
