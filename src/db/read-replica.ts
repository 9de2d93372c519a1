import { sql, type PostgresPool } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import { connectDatabase, kyselyOn, postgresPool, preparingPool, type Db } from './connect';
import { isDatabaseUnavailable } from './errors';

/**
 * READ_DATABASE_URL, a streaming replica of the primary, for the heavy reads that tolerate a few
 * seconds' lag (docs/read-replica.md says which). `up`: those reads go to it; `lagging` (it has not
 * replayed what the primary had written `maxLagMs` ago) or `down` (no answer, or not a standby):
 * they go to the primary, as they did before there was a replica, rather than fail or read stale data.
 */
export type ReplicaState = 'up' | 'lagging' | 'down';

export interface ReadReplica {
  /** What the last probe found (one a second). */
  state(): ReplicaState;
}

export interface Databases {
  /** The primary: every write, and every read that a write or a just-made resource depends on. */
  readonly db: Db;
  /** The replica while it is `up`, else the primary; `db` itself without READ_DATABASE_URL. */
  readonly reads: Db;
  readonly replica: ReadReplica | undefined;
  /** Closes both (and stops watching the replica). */
  close(): Promise<void>;
}

export interface ReplicaOptions {
  readonly maxLagMs?: number;
  readonly probeEveryMs?: number;
  /** Told when the replica's state changes, since reads then change database. */
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
}

const MAX_LAG_MS = 5_000;
const PROBE_EVERY_MS = 1_000;
const PROBE_TIMEOUT_MS = 1_000;
/** How long a read that must see the primary's latest commits waits for the replica to replay them. */
const REPLAY_WAIT_MS = 10_000;

/**
 * The check's answer, or undefined if it failed or took longer than `ms`. When the timer fires, the
 * answers already received are read first (setImmediate runs after the I/O phase): after a stall of
 * our own event loop the timer and the answer are both due, and the service that answered is up.
 */
export async function answerWithin<T>(
  check: () => Promise<T>,
  ms = PROBE_TIMEOUT_MS,
): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>(
    (resolve) => (timer = setTimeout(() => setImmediate(() => resolve(undefined)), ms)),
  );
  try {
    return await Promise.race([check().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A WAL position ("16/B374D848") as a number, to compare. */
const lsnOf = (text: string): bigint => {
  const [high = '0', low = '0'] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
};

const lsnFrom = async (pool: pg.Pool, query: string) =>
  (await answerWithin(() => pool.query<{ lsn: string | null }>(query)))?.rows[0];

const SAID: Record<ReplicaState, string> = {
  up: 'read replica up: the heavy reads go to it',
  lagging:
    'read replica behind the primary by more than the lag allowed: its reads go to the primary',
  down: 'read replica does not answer, or is not a standby: its reads go to the primary',
};

/**
 * Probes the replica every `probeEveryMs`. Its lag is measured in the primary's WAL: each probe
 * notes the primary's position and when; the replica lags by the age of the oldest position noted
 * that it has not replayed yet. (pg_last_xact_replay_timestamp() would say "behind" of a replica
 * that is merely idle.)
 */
async function watchReplica(primary: pg.Pool, replica: pg.Pool, options: ReplicaOptions) {
  const { maxLagMs = MAX_LAG_MS, probeEveryMs = PROBE_EVERY_MS, logger } = options;
  let state: ReplicaState | undefined; // unknown until the first probe, which is awaited
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const owed: { at: number; lsn: bigint }[] = []; // the primary's positions not replayed yet, oldest first
  const become = (next: ReplicaState) => {
    if (next === state) return;
    if (next === 'up') logger?.info({ replica: next }, SAID[next]);
    else logger?.warn({ replica: next }, SAID[next]);
    state = next;
  };
  const probe = async (): Promise<ReplicaState> => {
    const now = performance.now();
    const written = await lsnFrom(primary, 'SELECT pg_current_wal_lsn()::text AS lsn');
    if (written?.lsn) owed.push({ at: now, lsn: lsnOf(written.lsn) });
    // One position older than the limit is proof enough of lag: the older ones are not kept.
    while (owed.length > 1 && now - owed[1]!.at > maxLagMs) owed.shift();
    // A promoted server keeps its last replayed position: only a standby's counts.
    const replayed = await lsnFrom(
      replica,
      'SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END AS lsn',
    );
    if (!replayed?.lsn) return 'down';
    const position = lsnOf(replayed.lsn);
    while (owed.length > 0 && owed[0]!.lsn <= position) owed.shift();
    return owed.length > 0 && now - owed[0]!.at > maxLagMs ? 'lagging' : 'up';
  };
  const tick = async () => {
    become(await probe());
    if (!stopped) timer = setTimeout(() => void tick(), probeEveryMs).unref();
  };
  await tick();
  return {
    state: (): ReplicaState => state ?? 'down',
    /** A connection refused: no use waiting for the next probe to say so. */
    lost: () => become('down'),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * The pool of `reads`: a connection to the replica while it is up, else one of the primary's own
 * pool (so that falling back never opens more connections to the primary than DATABASE_URL's).
 * Both pools are ended by Databases.close.
 */
function replicaOrPrimary(
  replica: PostgresPool,
  primary: PostgresPool,
  watch: { state(): ReplicaState; lost(): void },
): PostgresPool {
  return {
    connect: async () => {
      if (watch.state() === 'up') {
        try {
          return await replica.connect();
        } catch (error) {
          if (!isDatabaseUnavailable(error)) throw error;
          watch.lost();
        }
      }
      return primary.connect();
    },
    end: () => replica.end(), // the primary's pool is db's to end
  };
}

/**
 * The primary (`DATABASE_URL`, or PGlite) and, with `readDatabaseUrl`, the replica behind `reads`;
 * without it `reads` is the primary. Each node-postgres pool holds up to `poolSize` connections.
 */
export async function connectDatabases(
  options: {
    databaseUrl?: string;
    readDatabaseUrl?: string;
    dataDir: string;
    poolSize?: number;
  } & ReplicaOptions,
): Promise<Databases> {
  if (!options.readDatabaseUrl) {
    const db = await connectDatabase(options);
    return { db, reads: db, replica: undefined, close: () => db.destroy() };
  }
  if (!options.databaseUrl)
    throw new Error('a read replica needs its primary on PostgreSQL (databaseUrl)');
  const primaryPool = postgresPool(options.databaseUrl, options.poolSize);
  const replicaPool = postgresPool(options.readDatabaseUrl, options.poolSize);
  const primary = preparingPool(primaryPool);
  const replica = preparingPool(replicaPool);
  const watch = await watchReplica(primaryPool, replicaPool, options);
  const db = kyselyOn(primary, primaryPool);
  const reads = kyselyOn(replicaOrPrimary(replica, primary, watch));
  return {
    db,
    reads,
    replica: { state: watch.state },
    close: async () => {
      watch.stop();
      await Promise.all([reads.destroy(), db.destroy()]);
    },
  };
}

/**
 * Runs `work` where everything the primary has committed by now is visible: on one connection of
 * `reads` once it has replayed the primary's present WAL position (waiting at most `waitMs`), else
 * on the primary. For a read on the replica that must not miss the last seconds (a report asked for
 * just after a repayment). `from` says where it ran.
 */
export async function readAfterPrimary<T>(
  db: Db,
  reads: Db,
  work: (source: Db) => Promise<T>,
  waitMs = REPLAY_WAIT_MS,
): Promise<{ result: T; from: 'primary' | 'replica' }> {
  if (reads === db) return { result: await work(db), from: 'primary' };
  const {
    rows: [written],
  } = await sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`.execute(db);
  const deadline = performance.now() + waitMs;
  const done = await reads.connection().execute(async (connection) => {
    for (;;) {
      const {
        rows: [at],
      } = await sql<{ standby: boolean; replayed: boolean }>`SELECT pg_is_in_recovery() AS standby,
        coalesce(pg_last_wal_replay_lsn() >= ${written!.lsn}::pg_lsn, false) AS replayed`.execute(
        connection,
      );
      // Not a standby: the primary's pool lent while the replica is away, or a replica promoted
      // behind our back whose data may have left the primary's: either way, the primary does the work.
      if (!at!.standby) return undefined;
      // Replay only moves forward: a snapshot taken after this on the same server sees the position.
      if (at!.replayed) return { result: await work(connection), from: 'replica' as const };
      if (performance.now() > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  return done ?? { result: await work(db), from: 'primary' };
}

/**
 * After the migrations, before serving: waits (as readAfterPrimary does) until the replica has
 * replayed them, so that no list is sent to a replica without the tables and columns it reads.
 */
export async function untilReplicaHasMigrations(db: Db, reads: Db): Promise<void> {
  await readAfterPrimary(db, reads, async () => undefined);
}
