import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The newest PostgreSQL installed from Debian's packages (.ci/run installs one when missing). */
function binaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(a) - Number(b));
  if (versions.length === 0)
    throw new Error(`no PostgreSQL under ${root}: apt-get install postgresql`);
  return path.join(root, versions.at(-1)!, 'bin');
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user that the package made. */
const asPostgres = (program: string, args: string[]) =>
  process.getuid?.() === 0
    ? (['runuser', ['-u', 'postgres', '--', program, ...args]] as const)
    : ([program, args] as const);

/**
 * A PostgreSQL cluster of the test's own, in a temporary directory on a free port, so that a test
 * may restart or kill it without touching the shared server: initdb, then pg_ctl.
 */
export async function ownPostgres() {
  const bin = binaries();
  const dir = mkdtempSync(path.join(tmpdir(), 'loans-pg-'));
  if (process.getuid?.() === 0)
    chownSync(
      dir,
      Number((await run('id', ['-u', 'postgres'])).stdout),
      Number((await run('id', ['-g', 'postgres'])).stdout),
    );
  const data = path.join(dir, 'data');
  const port = await freePort();
  const pgCtl = async (...args: string[]) => {
    const [program, argv] = asPostgres(path.join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      path.join(dir, 'log'),
      ...args,
    ]);
    await run(program, [...argv], { timeout: 60_000 });
  };
  {
    const [program, argv] = asPostgres(path.join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    await run(program, [...argv], { timeout: 120_000 });
  }
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  /** Until PostgreSQL accepts a connection and answers a query. */
  const accepting = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch (error) {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  const start = async () => {
    // After a kill -9 of the postmaster, its orphaned backends may hold its shared memory a moment longer.
    for (let attempt = 1; ; attempt++) {
      try {
        await pgCtl('-o', options, '-w', 'start');
        return;
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };
  await start();
  await accepting();

  return {
    url,
    /** A URL to one database of the cluster. */
    databaseUrl: (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`,
    start,
    accepting,
    /** What a managed database does on a failover or a minor upgrade: every connection is ended. */
    restartFast: () => pgCtl('-m', 'fast', '-w', 'restart'),
    /** kill -9 of the postmaster: no shutdown at all. Resolves once nothing accepts connections any more. */
    kill: async () => {
      const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: () => pgCtl('-m', 'immediate', '-w', 'stop').catch(() => undefined),
    /** Stops the cluster and removes its directory. */
    remove: async () => {
      await pgCtl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type OwnPostgres = Awaited<ReturnType<typeof ownPostgres>>;
