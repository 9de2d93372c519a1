import pino from 'pino';
import { createApp } from './app';
import { loadConfig } from './config';
import { connectDatabase } from './db/connect';
import { migrate } from './db/migrate';
import { hashSecret } from './http/auth';

async function main() {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization'] });
  const db = await connectDatabase(config);
  const applied = await migrate(db);
  logger.info({ database: config.databaseUrl ? 'postgresql' : `pglite:${config.dataDir}`, migrations_applied: applied }, 'database ready');
  if (!config.adminApiKey) logger.warn('ADMIN_API_KEY is not set: no one can create funds or keys');
  const app = createApp({ logger, db, adminKeyHash: config.adminApiKey ? hashSecret(config.adminApiKey) : undefined });
  const server = app.listen(config.port, () => logger.info({ port: config.port }, 'listening'));

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close(() => {
      db.destroy().finally(() => process.exit(0));
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
