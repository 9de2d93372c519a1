import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import {
  Kysely,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock';
import { OnConnection } from './on-connection';
import { PGliteDialect } from './pglite-dialect';
import type { Database } from './schema';

export type Db = Kysely<Database>;

/** Runs `work` in `db` if it is a transaction already (a caller's), else in a transaction of its own. */
export function withinTransaction<T>(
  db: Db,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
}

const DATE_OID = 1082;

/** node-postgres turns `date` columns into JS Dates at local midnight; we keep "YYYY-MM-DD". */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === DATE_OID
      ? (value: string) => value
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** How long a request waits for a new connection while PostgreSQL does not answer, before it gets a 503. */
const CONNECT_TIMEOUT_MS = 5000;

/** Statements prepared per connection at most; beyond, new shapes are sent unprepared. */
const PREPARED_PER_CONNECTION = 300;

/**
 * Kysely's `PostgresPool`, sending each statement with parameters as a named (prepared) statement:
 * the API repeats a few shapes, which PostgreSQL then plans once per connection (bounded per connection).
 */
export function preparingPool(pool: pg.Pool): PostgresPool {
  const preparedBy = new WeakMap<pg.PoolClient, Map<string, string>>(); // per connection: text → name
  const statement = (
    client: pg.PoolClient,
    text: string,
    values: readonly unknown[],
  ): pg.QueryConfig => {
    if (values.length === 0) return { text };
    let prepared = preparedBy.get(client);
    if (!prepared) preparedBy.set(client, (prepared = new Map()));
    let name = prepared.get(text);
    if (name === undefined) {
      if (prepared.size >= PREPARED_PER_CONNECTION) return { text, values: [...values] };
      prepared.set(text, (name = `s${createHash('sha1').update(text).digest('hex')}`));
    }
    return { name, text, values: [...values] };
  };
  return {
    connect: async () => {
      const client = await pool.connect();
      const wrapped = {
        query: (text: string, values: readonly unknown[]) =>
          values.length === 1 && values[0] instanceof OnConnection
            ? values[0].run(client).then((result: unknown) => ({ rows: [{ result }] }))
            : client.query(statement(client, text, values)),
        release: (destroy?: boolean) => client.release(destroy),
      };
      return wrapped as unknown as PostgresPoolClient; // no cursors: Kysely's streaming is not used
    },
    end: () => pool.end(),
  };
}

/** A node-postgres pool's connections, for the metrics (PGlite has one connection and no pool). */
export interface PoolStats {
  readonly total: number;
  readonly idle: number;
  /** Requests waiting for a connection. */
  readonly waiting: number;
  readonly max: number;
}

const pools = new WeakMap<Db, pg.Pool>();

/** The pool's figures now, or undefined on PGlite. */
export function poolStats(db: Db): PoolStats | undefined {
  const pool = pools.get(db);
  return (
    pool && {
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: pool.options.max ?? 10,
    }
  );
}

/** A node-postgres pool on `url` that lives through PostgreSQL's restarts (see the listeners below). */
export function postgresPool(url: string, poolSize = 10): pg.Pool {
  // Keep-alive: a server gone without a word (a failover dropping packets) is found dead, not waited on.
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // A lost connection emits 'error' on its client, which would end the process unheard: each client
  // listens for its whole life, so the query under way fails (a 503) and the next one reconnects.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}

/**
 * Kysely over a pool (of `preparingPool`, or the read replica's in src/db/read-replica.ts); the
 * node-postgres pool behind it, when given, is the one `poolStats` reports.
 */
export function kyselyOn(pool: PostgresPool, counted?: pg.Pool): Db {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  if (counted) pools.set(db, counted);
  return db;
}

/**
 * PostgreSQL through node-postgres when a URL is given; otherwise PGlite, an embedded PostgreSQL
 * persisted under `dataDir`, so that the service runs with no database installed.
 */
export async function connectDatabase(options: {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
}): Promise<Db> {
  if (options.databaseUrl) {
    const pool = postgresPool(options.databaseUrl, options.poolSize);
    return kyselyOn(preparingPool(pool), pool);
  }
  if (options.dataDir.startsWith('memory://'))
    return new Kysely<Database>({
      dialect: new PGliteDialect(await PGlite.create(options.dataDir)),
    });
  mkdirSync(options.dataDir, { recursive: true });
  const lock = lockDataDir(options.dataDir); // a second process would corrupt the directory
  const pglite = await PGlite.create(options.dataDir).catch((error: unknown) => {
    lock.release();
    throw error;
  });
  return new Kysely<Database>({ dialect: new PGliteDialect(pglite, lock.release) });
}
