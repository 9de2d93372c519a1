/**
 * Migrations when several processes start at once on an empty database (an API and a worker, or
 * `docker compose up --scale api=2`): each migration is applied once, by one of them, and none fails
 * (schema_migrations itself is created under the same advisory lock as the migrations).
 */
import pg from 'pg';
import { connectDatabase, type Db } from '../../src/db/connect';
import { migrate } from '../../src/db/migrate';

const SUFFIXES = ['miga', 'migb', 'migc']; // letters only: global-setup's sweep knows them as this run's

function urlOf(name: string): string {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(urlOf('postgres'));
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const names = SUFFIXES.map((suffix) => `${process.env.TEST_DATABASE_NAME}_${suffix}`);

afterAll(async () => {
  await onAdmin(async (client) => {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
});

it.each(names)(
  'three processes migrating the empty database %s at once: each migration applied once, none fails',
  async (name) => {
    await onAdmin((client) => client.query(`CREATE DATABASE ${name}`));
    const processes: Db[] = await Promise.all(
      [1, 2, 3].map(() => connectDatabase({ databaseUrl: urlOf(name), dataDir: '', poolSize: 2 })),
    );
    try {
      const applied = await Promise.all(processes.map((db) => migrate(db)));
      const all = applied.flat().sort();
      expect(all.length).toBeGreaterThan(0);
      expect(new Set(all).size).toBe(all.length); // none applied twice
      const rows = await processes[0]!
        .selectFrom('schema_migrations')
        .select('version')
        .orderBy('version')
        .execute();
      expect(rows.map((row) => row.version)).toEqual(all);
    } finally {
      await Promise.all(processes.map((db) => db.destroy()));
    }
  },
);
