/**
 * One process at a time on a PGlite DATA_DIR (issue 11): a second writer used to corrupt it for
 * good. First the lock itself, held by real processes where it matters; then the entry points —
 * the service, migrate and seed, run through tsx as `npm start` runs them — on one DATA_DIR.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataDirInUseError,
  LOCK_FILE,
  lockDataDir,
  type LockHolder,
} from '../../src/db/data-dir-lock';
import { until } from '../support/until';

const ROOT = join(__dirname, '..', '..');
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => jest.restoreAllMocks());

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'data-dir-lock-'));
  dirs.push(dir);
  return dir;
}

/** A node process with tsx, as the entry points run in development; its output kept, its end awaitable. */
function tsx(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', REDIS_URL: 'redis://127.0.0.1:1', ...env },
  });
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const closed = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  return { child, pid: child.pid!, output, closed };
}

/** Runs an entry point to its end, or kills it after 15 s (then `code` is null). */
async function run(script: string, env: Record<string, string>) {
  const started = Date.now();
  const { child, output, closed } = tsx([script], env);
  const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await closed;
  clearTimeout(deadline);
  return { code, ...output, ms: Date.now() - started };
}

async function healthy(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/healthz`).then(
    (response) => response.ok,
    () => false,
  );
}

/** The pid of a process that has exited (the kernel may give it again, but not within a test). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

const lockPath = (dir: string) => join(dir, LOCK_FILE);
const readLockFile = (dir: string) => JSON.parse(readFileSync(lockPath(dir), 'utf8')) as LockHolder;
const writeLockFile = (dir: string, holder: Partial<LockHolder>) =>
  writeFileSync(
    lockPath(dir),
    JSON.stringify({
      pid: process.pid,
      hostname: hostname(),
      command: 'node dist/src/main.js',
      started_at: new Date().toISOString(),
      ...holder,
    }),
  );

describe('the DATA_DIR lock', () => {
  it('names its process in DATA_DIR, and its release removes it', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(readLockFile(dir)).toEqual({
      pid: process.pid,
      hostname: hostname(),
      command: expect.any(String),
      started_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
    lockDataDir(dir).release(); // free again
  });

  it('refuses a second process while the first lives, naming it; the first one’s exit frees DATA_DIR', async () => {
    const dir = tempDir();
    const holder = tsx([
      '-e',
      "require('./src/db/data-dir-lock').lockDataDir(process.argv[1]); console.log('locked'); process.stdin.resume();",
      dir,
    ]);
    await until(
      () => holder.output.stdout === 'locked\n' || holder.child.exitCode !== null,
      'the other process to take the lock',
      10_000,
    );
    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    expect(() => lockDataDir(dir)).toThrow(
      new RegExp(
        `^DATA_DIR ${dir} is in use by process ${holder.pid} \\(node .*\\): PGlite allows one process at a time\\. Stop it first`,
      ),
    );
    holder.child.stdin!.end();
    expect(await holder.closed).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes over, with a warning, the lock of a process that died without removing it', async () => {
    const dir = tempDir();
    const dead = await deadPid();
    writeLockFile(dir, { pid: dead, started_at: '2026-12-07T10:00:00.000Z' });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const lock = lockDataDir(dir);
    expect(warn).toHaveBeenCalledWith(
      `DATA_DIR ${dir}: process ${dead} (node dist/src/main.js, started 2026-12-07T10:00:00.000Z) died without removing its lock: taking it over.`,
    );
    expect(readLockFile(dir).pid).toBe(process.pid);
    lock.release();
  });

  it('refuses this very process a second time: two PGlite instances on one directory would corrupt it', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    lock.release();
  });

  it('takes over a lock naming its own pid: an earlier life of a restarted container', () => {
    const dir = tempDir();
    const earlier = new Date(Date.now() - 1000).toISOString();
    writeLockFile(dir, { pid: process.pid, started_at: earlier });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const lock = lockDataDir(dir);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining(
        `process ${process.pid} (node dist/src/main.js, started ${earlier}) died without removing its lock`,
      ),
    );
    expect(readLockFile(dir).started_at).not.toBe(earlier);
    lock.release();
  });

  it('takes over a lock written before the machine started, though its pid runs again', () => {
    const dir = tempDir();
    writeLockFile(dir, { pid: 1, started_at: '2000-01-01T00:00:00.000Z' }); // pid 1 always runs
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    lockDataDir(dir).release();
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining(
        'process 1 (node dist/src/main.js, started 2000-01-01T00:00:00.000Z) died without removing its lock',
      ),
    );
  });

  it('refuses a lock written on another host, which it cannot check, and says how to remove it', () => {
    const dir = tempDir();
    writeLockFile(dir, { pid: 4242, hostname: 'elsewhere.example' });
    expect(() => lockDataDir(dir)).toThrow(
      `DATA_DIR ${dir} is locked by process 4242 on host elsewhere.example (node dist/src/main.js, started `,
    );
    expect(() => lockDataDir(dir)).toThrow(
      `cannot check: PGlite allows one process at a time. Stop it first; if you are sure it no longer runs, delete ${lockPath(dir)}.`,
    );
    expect(readLockFile(dir).hostname).toBe('elsewhere.example');
  });

  it('of four processes racing for a dead process’s lock, gives it to one; the others refuse, naming one of them', async () => {
    const dir = tempDir();
    writeLockFile(dir, { pid: await deadPid() });
    const racer =
      "const { lockDataDir } = require('./src/db/data-dir-lock'); console.log('ready');" +
      "process.stdin.once('data', () => { try { lockDataDir(process.argv[1]); console.log('won'); } catch (error) { console.log(error.message); } });";
    const racers = [1, 2, 3, 4].map(() => tsx(['-e', racer, dir]));
    await until(
      () => racers.every((r) => r.output.stdout === 'ready\n'),
      'the racers to be ready',
      20_000,
    );
    for (const r of racers) r.child.stdin!.write('go\n');
    await until(
      () => racers.every((r) => r.output.stdout.split('\n').length === 3),
      'every racer to try',
      10_000,
    );

    const results = racers.map((r) => r.output.stdout.split('\n')[1]!);
    expect(results.filter((result) => result === 'won')).toHaveLength(1);
    for (const result of results.filter((r) => r !== 'won')) {
      expect(racers.map((r) => r.pid)).toContain(
        Number(/^DATA_DIR \S+ is in use by process (\d+) /.exec(result)?.[1]),
      );
    }
    for (const r of racers) r.child.stdin!.end();
    expect(await Promise.all(racers.map((r) => r.closed))).toEqual([0, 0, 0, 0]);
    expect(readdirSync(dir)).toEqual([]); // no lock, draft or claim left
  }, 30_000);
});

describe('the entry points on one DATA_DIR', () => {
  let dataDir: string;
  beforeAll(() => (dataDir = join(tempDir(), 'pglite')));

  async function freePort(): Promise<number> {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    return port;
  }

  /** `npm start` on DATA_DIR, once it answers /healthz. */
  async function startService(port: number) {
    const service = tsx(['src/main.ts'], { DATA_DIR: dataDir, PORT: String(port) });
    await until(
      async () => service.child.exitCode !== null || (await healthy(port)),
      'the service to answer /healthz',
      30_000,
    );
    if (service.child.exitCode !== null)
      throw new Error(`the service exited: ${service.output.stderr}`);
    return service;
  }

  it('while the service runs, migrate, seed and a second service refuse at once, naming it; stopped, migrate runs', async () => {
    const port = await freePort();
    const service = await startService(port);

    const refusal = new RegExp(
      `^DATA_DIR ${dataDir} is in use by process ${service.pid} \\(node src/main\\.ts, started [^)]+\\): ` +
        'PGlite allows one process at a time\\. Stop it first \\(the seed and migrate commands need the service stopped\\)\\.\\n$',
    );
    const [migrate, seed, second] = await Promise.all([
      run('src/migrate.ts', { DATA_DIR: dataDir }),
      run('src/seed.ts', { DATA_DIR: dataDir }),
      run('src/main.ts', { DATA_DIR: dataDir, PORT: String(await freePort()) }),
    ]);
    for (const refused of [migrate, seed, second]) {
      expect(refused).toMatchObject({
        code: 1,
        stdout: '',
        stderr: expect.stringMatching(refusal),
      }); // the message alone: no stack
      expect(refused.ms).toBeLessThan(8000); // tsx compiling three entry points at once on a busy machine; the lock itself takes milliseconds
    }
    expect(await healthy(port)).toBe(true);

    service.child.kill('SIGTERM');
    expect(await service.closed).toBe(0);
    expect(existsSync(lockPath(dataDir))).toBe(false);
    expect(await run('src/migrate.ts', { DATA_DIR: dataDir })).toMatchObject({
      code: 0,
      stdout: 'nothing to apply\n',
      stderr: '',
    });
  }, 60_000);

  it('a service killed with SIGKILL leaves its lock, which the next start takes over', async () => {
    const port = await freePort();
    const killed = await startService(port);
    killed.child.kill('SIGKILL');
    await killed.closed;
    expect(readLockFile(dataDir).pid).toBe(killed.pid);

    const next = await startService(port);
    expect(next.output.stderr).toContain(
      `DATA_DIR ${dataDir}: process ${killed.pid} (node src/main.ts, started `,
    );
    expect(next.output.stderr).toContain(') died without removing its lock: taking it over.');
    expect(readLockFile(dataDir).pid).toBe(next.pid);
    next.child.kill('SIGTERM');
    expect(await next.closed).toBe(0);
  }, 60_000);
});
