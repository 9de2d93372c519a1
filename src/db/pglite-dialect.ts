import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import { OnConnection } from './on-connection';

/**
 * Read as node-postgres reads them here: calendar dates as "YYYY-MM-DD" (PGlite makes JS Dates)
 * and bigints as strings (PGlite makes JS numbers, which lose precision past 2^53).
 */
const PARSERS = { 1082: (value: string) => value, 20: (value: string) => value };

/**
 * A Kysely dialect for PGlite, the embedded PostgreSQL that runs the service when no DATABASE_URL
 * is given. PGlite has one connection, so connections are handed out one at a time. `afterClose`
 * runs once PGlite has closed (destroy): it releases the data directory's lock.
 */
export class PGliteDialect implements Dialect {
  constructor(
    private readonly pglite: PGlite,
    private readonly afterClose: () => void = () => undefined,
  ) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pglite, this.afterClose);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
}

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly pglite: PGlite) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (query.parameters.some((value) => value instanceof OnConnection))
      throw new Error(
        'PGlite has no node-postgres client: work on the connection is not supported',
      );
    if (query.parameters.length === 0 && query.sql.includes(';')) {
      // A script (migrations): several statements, only possible without parameters.
      const results = await this.pglite.exec(query.sql, { parsers: PARSERS });
      return { rows: (results.at(-1)?.rows ?? []) as R[] };
    }
    const result = await this.pglite.query<R>(query.sql, [...query.parameters], {
      parsers: PARSERS,
    });
    return { rows: result.rows, numAffectedRows: BigInt(result.affectedRows ?? 0) };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite does not stream');
  }
}

class PGliteDriver implements Driver {
  private queue: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;
  private readonly connection: PGliteConnection;

  constructor(
    private readonly pglite: PGlite,
    private readonly afterClose: () => void,
  ) {
    this.connection = new PGliteConnection(pglite);
  }

  async init() {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise((resolve) => (release = resolve));
    await previous;
    this.release = release;
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection() {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  async destroy() {
    await this.pglite.close();
    this.afterClose();
  }
}
