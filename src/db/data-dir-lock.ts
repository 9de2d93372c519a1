import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname, uptime } from 'node:os';
import { basename, isAbsolute, join, relative } from 'node:path';

/** The file in DATA_DIR naming the one process that has it open. */
export const LOCK_FILE = 'pglite.lock';

/** What the lock file holds, as JSON. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** `node dist/src/main.js`: what the process was started as. */
  command: string;
  started_at: string;
}

/** DATA_DIR is another process's: the message says which one and what to do. */
export class DataDirInUseError extends Error {}

export interface DataDirLock {
  /** Removes the lock file, if it is still ours. */
  release(): void;
}

/**
 * PGlite is PostgreSQL inside this process, without the postmaster that keeps a data directory to
 * one server: a second process writing the same directory corrupts it. So the first process writes
 * its pid here; another one refuses to start while that process lives, and takes over the lock of
 * one that died without removing it (SIGKILL, a crash). The process's exit removes its lock too.
 */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    command: commandLine(),
    started_at: STARTED_AT,
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(path, me)) return heldBy(path, me);
    const holder = readLock(path);
    if (holder === 'none') continue; // released meanwhile
    if (holder === 'unreadable') {
      throw new DataDirInUseError(
        `DATA_DIR ${dir} holds a ${LOCK_FILE} this service did not write. If no process uses DATA_DIR, delete ${path} and start again.`,
      );
    }
    if (mayStillRun(holder)) throw new DataDirInUseError(inUseMessage(dir, path, holder));
    removeDeadLock(dir, path, holder, me);
  }
  throw new Error(`DATA_DIR ${dir}: its lock kept changing hands; try again.`);
}

/**
 * Removes the lock a dead process left, unless another process is doing so: of processes racing
 * for it, the one that makes the claim removes it, then races for the lock like any other. While
 * the claim is there, no one else removes the lock, and no one makes one where it still stands:
 * what this process reads under the claim is still there when it removes it.
 */
function removeDeadLock(dir: string, path: string, dead: LockHolder, me: LockHolder): void {
  const claim = `${path}.takeover-${dead.pid}`;
  if (!create(claim, me)) {
    const claimant = readLock(claim);
    if (claimant === 'none') return; // done meanwhile
    if (claimant !== 'unreadable' && mayStillRun(claimant))
      throw new DataDirInUseError(inUseMessage(dir, path, claimant));
    throw new DataDirInUseError(
      `DATA_DIR ${dir}: a process died while taking over the lock that process ${dead.pid} left. ` +
        `If no process uses DATA_DIR, delete ${path} and ${claim}, and start again.`,
    );
  }
  try {
    if (!sameHolder(readLock(path), dead)) return;
    unlinkSync(path);
    console.warn(
      `DATA_DIR ${dir}: process ${dead.pid} (${dead.command}, started ${dead.started_at}) died without removing its lock: taking it over.`,
    );
  } finally {
    unlinkSync(claim);
  }
}

/**
 * Writes the lock whole and to disk, then links it in place: no one reads it half written (nor
 * empty after a power cut), and a link never replaces a file. The draft's name is this attempt's
 * alone (two containers sharing a volume may both be pid 1).
 */
function create(path: string, me: LockHolder): boolean {
  const draft = `${path}.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const fd = openSync(draft, 'wx');
  try {
    writeSync(fd, `${JSON.stringify(me)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(draft, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(draft);
  }
}

function heldBy(path: string, me: LockHolder): DataDirLock {
  const release = () => {
    process.off('exit', release);
    if (sameHolder(readLock(path), me)) unlinkSync(path);
  };
  process.on('exit', release);
  return { release };
}

function readLock(path: string): LockHolder | 'none' | 'unreadable' {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'none';
    throw error;
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isInteger(holder.pid) && typeof holder.hostname === 'string'
      ? holder
      : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** On another host (a shared volume) we cannot tell: it may. */
function mayStillRun(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return true;
  // Our own pid: this very process opened DATA_DIR already (it may not twice), or an earlier one
  // with the same pid left the lock (a restarted container gives its process the same pid).
  if (holder.pid === process.pid) return holder.started_at === STARTED_AT;
  // A lock from before the machine started: its pid may since belong to anything.
  if (Date.parse(holder.started_at) < Date.now() - uptime() * 1000 - 60_000) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH'; // EPERM: it runs, as another user
  }
}

function inUseMessage(dir: string, path: string, holder: LockHolder): string {
  const what = `(${holder.command}, started ${holder.started_at})`;
  if (holder.hostname === hostname()) {
    return (
      `DATA_DIR ${dir} is in use by process ${holder.pid} ${what}: PGlite allows one process at a time. ` +
      'Stop it first (the seed and migrate commands need the service stopped).'
    );
  }
  return (
    `DATA_DIR ${dir} is locked by process ${holder.pid} on host ${holder.hostname} ${what}, which this host (${hostname()}) cannot check: ` +
    `PGlite allows one process at a time. Stop it first; if you are sure it no longer runs, delete ${path}.`
  );
}

function sameHolder(found: ReturnType<typeof readLock>, holder: LockHolder): boolean {
  return (
    typeof found === 'object' &&
    found.pid === holder.pid &&
    found.hostname === holder.hostname &&
    found.started_at === holder.started_at
  );
}

/** `node dist/src/main.js` rather than the absolute paths in process.argv. */
function commandLine(): string {
  const shorten = (arg: string) =>
    isAbsolute(arg) && !relative(process.cwd(), arg).startsWith('..')
      ? relative(process.cwd(), arg)
      : arg;
  return [basename(process.argv0), ...process.argv.slice(1).map(shorten)].join(' ').slice(0, 200);
}

/** When this process started, computed once: two locks taken by it say the same. */
const STARTED_AT = new Date(Date.now() - Math.round(process.uptime() * 1000)).toISOString();

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}
