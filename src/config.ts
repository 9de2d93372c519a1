/** Everything read from the environment, read once, here. */
export interface Config {
  readonly port: number;
  readonly logLevel: string;
  /** PostgreSQL URL; without it the service runs on an embedded PGlite stored in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** The platform administrator's API key (only its hash is kept in memory). */
  readonly adminApiKey: string | undefined;
  /** Redis for the BullMQ queues (the API enqueues through the outbox; the workers run the jobs). */
  readonly redisUrl: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const adminApiKey = env.ADMIN_API_KEY || undefined;
  if (adminApiKey !== undefined && adminApiKey.length < 24) throw new Error('ADMIN_API_KEY must be at least 24 characters long');
  return Object.freeze({
    port,
    logLevel: env.LOG_LEVEL ?? 'info',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR ?? './data/pglite',
    adminApiKey,
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
  });
}
