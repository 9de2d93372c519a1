import { loadConfig } from './config';
import { connectDatabase } from './db/connect';
import { migrate } from './db/migrate';

/** npm run migrate: applies pending migrations to DATABASE_URL (or the embedded PGlite) and exits. */
async function main() {
  const config = loadConfig();
  const db = await connectDatabase(config);
  try {
    const applied = await migrate(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply');
  } finally {
    await db.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
