import { connectDatabase, type Db } from '../../src/db/connect';

let db: Promise<Db> | undefined;

/** The run's test database (see test/setup/global-setup.ts), one small pool per test file. */
export function testDb(): Promise<Db> {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl) throw new Error('TEST_DATABASE_URL is not set: run the tests with jest (npm test)');
  db ??= connectDatabase({ databaseUrl, dataDir: '', poolSize: 5 });
  return db;
}

export async function closeTestDb(): Promise<void> {
  const open = db;
  db = undefined;
  if (open) await (await open).destroy();
}
