import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { CompiledQuery, Kysely, PostgresDialect, PostgresDriver, type DatabaseConnection, type PostgresDialectConfig, type TransactionSettings } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-dialect';
import type { Database } from './schema';

export type Db = Kysely<Database>;

const DATE_OID = 1082;

/** node-postgres turns `date` columns into JS Dates at local midnight; we keep "YYYY-MM-DD". */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === DATE_OID ? (value: string) => value : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Statements prepared per connection at most; beyond, new shapes are sent unprepared. */
const PREPARED_PER_CONNECTION = 300;
const PREPARABLE = /^\s*(\/\* commit follows \*\/\s*)?(select|with|insert|update|delete)\b/i;

/**
 * Makes a connection prepare each statement with parameters it is sent, once, under a name taken
 * from its text: the API runs a few shapes again and again (the key's lookup, a loan and its
 * schedule, a loan and its history, a repayment's writes), and PostgreSQL then parses and plans each
 * once per connection rather than on every request. The number kept per connection is bounded:
 * writes whose text varies with their rows would otherwise pile up.
 */
function preparingStatements(client: pg.PoolClient): void {
  const send = client.query.bind(client) as (...args: unknown[]) => unknown;
  const prepared = new Map<string, string>(); // text → name
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, values?: unknown, ...rest: unknown[]) => {
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || !PREPARABLE.test(text)) return send(text, values, ...rest);
    let name = prepared.get(text);
    if (name === undefined) {
      if (prepared.size >= PREPARED_PER_CONNECTION) return send(text, values, ...rest);
      prepared.set(text, name = `s${createHash('sha1').update(text).digest('hex')}`);
    }
    return send({ name, text, values }, ...rest);
  };
}

/**
 * Put first in a statement's text, it says that the transaction's COMMIT follows at once: the
 * statement is held back and written to the socket with the COMMIT (one write, one wake-up of the
 * server, not two). Holding never outlives the current turn of the event loop.
 */
export const COMMIT_FOLLOWS = '/* commit follows */ ';

/**
 * Writes a transaction's BEGIN with the statement after it, and a statement marked COMMIT_FOLLOWS
 * with the COMMIT after it, in one write to the socket each: on a loopback connection, each write
 * costs the sender the kernel's whole TCP path and a wake-up of the server process.
 */
function batchingWrites(client: pg.PoolClient): void {
  const send = client.query.bind(client) as (...args: unknown[]) => unknown;
  const stream = (client as unknown as { connection: { stream: { cork(): void; uncork(): void } } }).connection.stream;
  let held: 'next' | 'end' | undefined;
  const release = () => {
    if (held === undefined) return;
    held = undefined;
    stream.uncork();
  };
  const hold = (until: 'next' | 'end') => {
    if (held === undefined) {
      stream.cork();
      setImmediate(release); // whatever follows, or does not
    }
    held = until;
  };
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, ...rest: unknown[]) => {
    if (text === 'begin') {
      hold('next');
      return send(text, ...rest);
    }
    if (typeof text === 'string' && text.startsWith(COMMIT_FOLLOWS)) {
      hold('end');
      return send(text, ...rest);
    }
    const result = send(text, ...rest);
    if (held === 'next' || text === 'commit' || text === 'rollback') release();
    return result;
  };
}

const begun = new WeakMap<DatabaseConnection, Promise<unknown>>();

/**
 * Kysely's driver for node-postgres, but BEGIN does not wait for its answer: the connections are in
 * pipeline mode, so the transaction's first statement follows BEGIN on the wire and a transaction
 * costs one round trip less. BEGIN fails only on a dead connection or one left in a failed
 * transaction, where the statements after it fail too; the commit still checks it.
 */
class PipeliningPostgresDriver extends PostgresDriver {
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.isolationLevel || settings.accessMode) return super.beginTransaction(connection, settings);
    const begin = connection.executeQuery(CompiledQuery.raw('begin'));
    begin.catch(() => undefined); // reported by the commit
    begun.set(connection, begin);
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await begun.get(connection);
    return super.commitTransaction(connection);
  }
}

class PipeliningPostgresDialect extends PostgresDialect {
  constructor(private readonly config: PostgresDialectConfig) {
    super(config);
  }

  override createDriver() {
    return new PipeliningPostgresDriver(this.config);
  }
}

/**
 * PostgreSQL through node-postgres when a URL is given; otherwise PGlite, an embedded PostgreSQL
 * persisted under `dataDir`, so that the service runs with no database installed.
 */
export async function connectDatabase(options: { databaseUrl?: string; dataDir: string; poolSize?: number }): Promise<Db> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10, types, pipeline: true });
    pool.on('connect', (client) => {
      preparingStatements(client);
      batchingWrites(client);
    });
    return new Kysely<Database>({ dialect: new PipeliningPostgresDialect({ pool }) });
  }
  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true });
  const pglite = await PGlite.create(options.dataDir);
  return new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
}
