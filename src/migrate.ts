import { loadConfig } from './config';
import { connectDatabase } from './db/connect';
import { DataDirInUseError } from './db/data-dir-lock';
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
  console.error(error instanceof DataDirInUseError ? error.message : error); // a refusal, not a bug: no stack
  process.exit(1);
});
