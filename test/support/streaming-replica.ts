import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, type OwnPostgres } from './own-postgres';
import { until } from './until';

const run = promisify(execFile);

/** As in own-postgres.ts: as root, PostgreSQL's programs run as `postgres`, from the newest version installed. */
async function postgresProgram(name: string, args: string[]) {
  const bin = path.join(
    '/usr/lib/postgresql',
    readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(a) - Number(b))
      .at(-1)!,
    'bin',
    name,
  );
  const [program, argv] =
    process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  await run(program, argv, { timeout: 60_000 });
}

async function query<T>(url: string, text: string): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(text)).rows[0] as T;
  } finally {
    await client.end();
  }
}

/**
 * A hot standby of `primary` (a cluster of the test's own, whose wal_level is PostgreSQL's default,
 * `replica`), streaming from it: `pg_basebackup -R` into a temporary directory, then `pg_ctl start`
 * on another free port. Its replay may be paused, to make it lag on purpose.
 */
export async function streamingReplica(primary: OwnPostgres) {
  const dir = mkdtempSync(path.join(tmpdir(), 'loans-standby-'));
  if (process.getuid?.() === 0)
    chownSync(
      dir,
      Number((await run('id', ['-u', 'postgres'])).stdout),
      Number((await run('id', ['-g', 'postgres'])).stdout),
    );
  const data = path.join(dir, 'data');
  const port = await freePort();
  const { hostname, port: primaryPort } = new URL(primary.url);
  await postgresProgram('pg_basebackup', [
    '-h',
    hostname,
    '-p',
    primaryPort,
    '-U',
    'postgres',
    '-D',
    data,
    '-R',
    '-X',
    'stream',
    '--no-sync',
  ]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const pgCtl = (...args: string[]) =>
    postgresProgram('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), ...args]);
  const start = async () => {
    await pgCtl('-o', options, '-w', 'start');
    await until(
      async () =>
        (
          await query<{ up: boolean }>(url, 'SELECT pg_is_in_recovery() AS up').catch(
            () => undefined,
          )
        )?.up === true,
      'the standby to accept connections',
      30_000,
      50,
    );
  };
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await start();
  return {
    url,
    start,
    stop: () => pgCtl('-m', 'fast', '-w', 'stop'),
    /** Until the standby has replayed everything the primary has written by now. */
    caughtUp: async () => {
      const { lsn } = await query<{ lsn: string }>(
        primary.url,
        'SELECT pg_current_wal_lsn()::text AS lsn',
      );
      await until(
        async () =>
          (
            await query<{ done: boolean }>(
              url,
              `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS done`,
            )
          ).done,
        'the standby to replay',
        20_000,
        20,
      );
    },
    /** Replay stops (WAL keeps arriving, unapplied): the standby shows the past until resumeReplay. */
    pauseReplay: async () => {
      await query(url, 'SELECT pg_wal_replay_pause()');
      await until(
        async () =>
          (await query<{ state: string }>(url, 'SELECT pg_get_wal_replay_pause_state() AS state'))
            .state === 'paused',
        'replay to pause',
        10_000,
        20,
      );
    },
    resumeReplay: () => query(url, 'SELECT pg_wal_replay_resume()'),
    /** A single-row query on the standby itself, to see what it holds. */
    query: <T>(text: string) => query<T>(url, text),
    remove: async () => {
      await pgCtl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type StreamingReplica = Awaited<ReturnType<typeof streamingReplica>>;
