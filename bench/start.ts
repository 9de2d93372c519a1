/**
 * npm run bench:start — how long a newcomer waits for the service: `npm start` on the embedded
 * PGlite, from the command to the first answer of /healthz, on a data directory made by a first
 * start (the second start is the one measured: the build is already done, the database exists).
 * Baseline, in the same run: a bare Node HTTP server answering /healthz, started the same way
 * through npm, so the ratio shows what our start adds to Node's and npm's own. Target: under 5 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_SECONDS = 5;
const ROOT = path.resolve(__dirname, '../..');
const BARE_SERVER =
  'require(\'node:http\').createServer((q, s) => s.end(\'{"status":"ok"}\')).listen(process.env.PORT)';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
      .listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      })
      .on('error', reject);
  });
}

async function untilHealthy(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the process exited (${child.exitCode}) before answering /healthz`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts `args` (its own process group, so that npm and its child stop together), times /healthz, stops it. */
async function timeStart(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(args[0]!, args.slice(1), {
    cwd: ROOT,
    env: { ...env, PORT: String(port) },
    stdio: 'ignore',
    detached: true,
  });
  try {
    await untilHealthy(port, child);
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGINT'); // the service closes PGlite cleanly: the next start needs no recovery
    await exited;
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-start-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    REDIS_URL: process.env.REDIS_URL,
  };
  try {
    const first = await timeStart(['npm', 'start'], env);
    console.log(`first start (a new database, its migrations): ${first.toFixed(2)} s`);
    const service: number[] = [];
    const compiled: number[] = [];
    const bare: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      service.push(await timeStart(['npm', 'start'], env));
      compiled.push(await timeStart(['node', 'dist/src/main.js'], env));
      bare.push(await timeStart(['npm', 'exec', '--', 'node', '-e', BARE_SERVER], env));
    }
    const second = median(service);
    console.log(
      `second start, npm start:            median ${second.toFixed(2)} s  (${service.map((s) => s.toFixed(2)).join(', ')})`,
    );
    console.log(`  of which node dist/src/main.js:   median ${median(compiled).toFixed(2)} s`);
    console.log(`baseline, a bare server through npm: median ${median(bare).toFixed(2)} s`);
    console.log(
      `ratio second start / baseline: ${(second / median(bare)).toFixed(2)}; target: under ${TARGET_SECONDS} s — ${second < TARGET_SECONDS ? 'met' : 'missed'}`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
