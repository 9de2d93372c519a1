/** PostgreSQL's unique_violation (23505) on the named constraint: a race that a prior check lost. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pgError = error as { code?: unknown; constraint?: unknown } | null;
  return pgError?.code === '23505' && pgError.constraint === constraint;
}

/**
 * SQLSTATEs that say PostgreSQL is away or going away, or that the transaction lost a race and may
 * simply be run again: class 08 (connection exception), 57P01–57P03 (administrator or crash
 * shutdown, cannot connect now: a restart or a failover), 53300 (too many connections), 25006 (a
 * write reaching a standby, or a primary being demoted, during a failover), and
 * CONCURRENT_CHANGE_SQLSTATE.
 */
const TRANSIENT_SQLSTATE = /^(08...|57P0[123]|53300|25006|40001|40P01)$/;
/** 40001 and 40P01: serialization failure and deadlock, the transaction undone, to be run again. */
const CONCURRENT_CHANGE_SQLSTATE = /^(40001|40P01)$/;
/** Node's own words for a connection that could not be made or was cut. */
const LOST_CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** node-postgres, pg-pool and Kysely say it in words, without a code. */
const LOST_CONNECTION_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Postgres connection has been discarded)/;

/**
 * Whether the error says that the database could not be reached or dropped the connection (or the
 * transaction may succeed if simply tried again): the request gets a 503 with Retry-After, a job
 * is retried later, rather than a 500 or a failure for good.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (
    typeof code === 'string' &&
    (TRANSIENT_SQLSTATE.test(code) || LOST_CONNECTION_CODES.has(code))
  )
    return true;
  return typeof message === 'string' && LOST_CONNECTION_MESSAGE.test(message);
}

/** Whether the transaction was undone for a concurrent one (serialization failure, deadlock): nothing was applied. */
export function conflictsWithAnother(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return typeof code === 'string' && CONCURRENT_CHANGE_SQLSTATE.test(code);
}
