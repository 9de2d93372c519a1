import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock';
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
const PREPARABLE = /^\s*(\/\* (reads only|commit follows) \*\/\s*)?(select|with|insert|update|delete)\b/i;

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
 * Put first in a statement's text, it says that the statement only reads (locks aside): it may go to
 * the server right behind its transaction's BEGIN, without waiting for BEGIN's answer (see
 * pipeliningTransactions). A claim of an Idempotency-Key with the loan's lock is such a statement.
 */
export const READS_ONLY = '/* reads only */ ';

/**
 * Put first in a statement's text, it says that the statement is its transaction's last: its
 * COMMIT is sent right behind it (see pipeliningTransactions).
 */
export const COMMIT_FOLLOWS = '/* commit follows */ ';

interface QueryResultLike { command: string; rowCount: number | null; rows: unknown[] }
type Callback = (error: Error | null, result?: unknown) => void;
type Send = (...args: unknown[]) => unknown;

/**
 * Saves a transaction two round trips, on a connection in pipeline mode (statements are sent
 * without waiting for the answers to those before them), and sends each pair in one write to the
 * socket (one wake-up of the server, not two):
 *
 * - BEGIN is held back until the transaction's first statement. A first statement marked READS_ONLY
 *   goes with BEGIN, and its result is handed over only if BEGIN succeeded: were BEGIN to fail on a
 *   live connection (a cancel landing on it), the statement ran on its own and, reading only, left
 *   nothing. Any other first statement is sent once BEGIN has answered. A transaction that sends
 *   nothing sends no BEGIN, COMMIT or ROLLBACK.
 * - A statement marked COMMIT_FOLLOWS is followed on the wire by COMMIT, unless node-postgres could
 *   not even send it (a value it cannot encode): then nothing is committed, and the caller's
 *   ROLLBACK goes as usual. If the statement fails in PostgreSQL, PostgreSQL answers the COMMIT
 *   with a ROLLBACK. The caller's own COMMIT then gets that answer; its ROLLBACK is not sent (the
 *   transaction is over); any other statement is refused, as it would run outside the transaction.
 */
export function pipeliningTransactions(client: { query: Send; connection: { stream: { cork(): void; uncork(): void } } }): void {
  const send = client.query.bind(client);
  const { stream } = client.connection;
  let beginHeld = false;
  let committed: Promise<unknown> | undefined;
  const nothing = (command: string): Promise<QueryResultLike> => Promise.resolve({ command, rowCount: null, rows: [] });
  /** Sends a statement; `failedAtOnce` if node-postgres could not even send it (it says so before returning). */
  const sendNow = (text: unknown, values: unknown) => {
    let sending = true;
    let failedAtOnce = false;
    const result = new Promise((resolve, reject) => {
      send(text, values, ((error, answer) => {
        if (!error) return resolve(answer);
        if (sending) failedAtOnce = true;
        reject(error);
      }) as Callback);
    });
    sending = false;
    return { result, failedAtOnce };
  };
  client.query = (text: unknown, ...rest: unknown[]) => {
    if (committed && text !== 'begin') {
      const ended = committed;
      if (text === 'commit') return ended.then((answer) => ((committed = undefined), answer)); // refused: a ROLLBACK follows
      committed = undefined;
      if (text === 'rollback') return ended.then(() => nothing('ROLLBACK'), () => nothing('ROLLBACK'));
      return Promise.reject(new Error('A statement after the one marked COMMIT_FOLLOWS would run outside its transaction'));
    }
    committed = undefined;
    if (text === 'begin') {
      beginHeld = true;
      return nothing('BEGIN');
    }
    const first = beginHeld;
    beginHeld = false;
    if (first && (text === 'commit' || text === 'rollback')) return nothing(text.toUpperCase());
    const last = typeof text === 'string' && text.startsWith(COMMIT_FOLLOWS);
    if (!first && !last) return send(text, ...rest);
    if (first && !(typeof text === 'string' && text.startsWith(READS_ONLY))) {
      return (send('begin') as Promise<unknown>).then(() => client.query(text, ...rest));
    }
    stream.cork();
    try {
      const begin = first ? send('begin') as Promise<unknown> : undefined;
      const statement = sendNow(text, rest[0]);
      if (last && !statement.failedAtOnce) {
        committed = send('commit') as Promise<unknown>;
        committed.catch(() => undefined); // the caller's COMMIT gets it
      }
      return begin ? Promise.all([begin, statement.result]).then(([, result]) => result) : statement.result;
    } finally {
      stream.uncork();
    }
  };
}

/**
 * PostgreSQL through node-postgres when a URL is given; otherwise PGlite, an embedded PostgreSQL
 * persisted under `dataDir`, so that the service runs with no database installed.
 */
export async function connectDatabase(options: { databaseUrl?: string; dataDir: string; poolSize?: number }): Promise<Db> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10, types, pipeline: true });
    // An idle connection lost (PostgreSQL restarted, or an administrator ended it): the pool drops it
    // and opens another for the next query. Without a listener, node would end the process.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      preparingStatements(client);
      pipeliningTransactions(client as unknown as Parameters<typeof pipeliningTransactions>[0]);
    });
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  if (options.dataDir.startsWith('memory://')) return new Kysely<Database>({ dialect: new PGliteDialect(await PGlite.create(options.dataDir)) });
  mkdirSync(options.dataDir, { recursive: true });
  const lock = lockDataDir(options.dataDir); // a second process would corrupt the directory
  const pglite = await PGlite.create(options.dataDir).catch((error: unknown) => {
    lock.release();
    throw error;
  });
  return new Kysely<Database>({ dialect: new PGliteDialect(pglite, lock.release) });
}
