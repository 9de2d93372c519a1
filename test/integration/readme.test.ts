/**
 * The README's "Quick start" and "Try it", run as a reader pastes them: every ```sh block from the
 * "## Quick start" heading to the next "## " heading, in order, in ONE bash process, at the
 * repository's root, on a fresh PGlite directory (DATA_DIR in a temp dir, no DATABASE_URL).
 *
 * What the test changes, and nothing else:
 * - the text: `localhost:3000` becomes `localhost:<a free port>` (the service is given that PORT);
 * - the blocks marked ```sh norun are skipped — the install and the whole suite, which CI runs —
 *   and the test checks they are exactly NORUN_COMMANDS, so no other block can be skipped;
 * - the shell runs with `set -eo pipefail` (a failed command ends the run) and prints a marker
 *   before each block, so that each answer can be told apart;
 * - its environment is PATH, DATA_DIR, PORT and a QUEUE_PREFIX of its own (the Redis keys of the
 *   service's queues and rate limits, kept apart from other runs' and deleted at the end).
 * At the end the service the README leaves running is stopped, with anything else the shell started
 * (bash without job control keeps its background jobs in its process group: the test kills the group).
 *
 * Most of its time is the seed's (200 loans and about 1,000 repayments on PGlite, half a minute of
 * CPU); the rest is two starts of the service, the first one migrating, and a build.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../support/own-postgres';
import { until } from '../support/until';

const ROOT = join(__dirname, '..', '..');
const NORUN = 'sh norun';
const NORUN_COMMANDS = ['npm ci && npm start', 'npm test'];
const MARKER = '### README block';

interface Block {
  info: string;
  code: string;
}

/** The fenced blocks between "## Quick start" and the next second-level heading. */
function walkThrough(readme: string): Block[] {
  const start = readme.indexOf('\n## Quick start\n');
  const end = readme.indexOf('\n## ', start + 1);
  const part = readme.slice(start, end === -1 ? undefined : end);
  return [...part.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    info: m[1]!.trim(),
    code: m[2]!,
  }));
}

/** The commands of a block, without their comments. */
const commands = (code: string) =>
  code
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);

/** Every top-level JSON object in `text` (the answers of curl, which end without a newline). */
function jsonObjects(text: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  let depth = 0;
  let from = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"' && depth > 0) inString = true;
    else if (c === '{' && depth++ === 0) from = i;
    else if (c === '}' && depth > 0 && --depth === 0)
      found.push(JSON.parse(text.slice(from, i + 1)) as Record<string, unknown>);
  }
  return found;
}

/** Whether any process of the group is left. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the README's quick start and walk-through", () => {
  const dir = mkdtempSync(join(tmpdir(), 'readme-'));
  const serviceLog = join(ROOT, 'service.log'); // where the README writes it
  const prefix = `test-readme-${randomUUID()}`;
  let pgid: number | undefined;

  afterAll(async () => {
    if (pgid !== undefined && groupAlive(pgid)) {
      process.kill(-pgid, 'SIGTERM'); // the service finishes what is under way, then exits
      await until(
        () => !groupAlive(pgid!),
        'the README shell and its service to stop',
        15_000,
        100,
      ).catch(() => process.kill(-pgid!, 'SIGKILL'));
      await until(
        () => !groupAlive(pgid!),
        'the README shell and its service to be killed',
        5_000,
        100,
      );
    }
    const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    await redis.connect();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
    rmSync(serviceLog, { force: true });
  });

  it('runs every command as written, in order, and the answers say what the README says', async () => {
    const blocks = walkThrough(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(blocks.every((block) => block.info === 'sh' || block.info === NORUN)).toBe(true);
    expect(
      blocks.filter((block) => block.info === NORUN).flatMap((block) => commands(block.code)),
    ).toEqual(NORUN_COMMANDS);
    const run = blocks.filter((block) => block.info === 'sh');
    expect(run.length).toBeGreaterThanOrEqual(5);

    const port = await freePort();
    const script = [
      'set -eo pipefail',
      ...run.map(
        (block, i) =>
          `echo; echo "${MARKER} ${i + 1} at \${SECONDS} s"\n${block.code.replaceAll('localhost:3000', `localhost:${port}`)}`,
      ),
    ].join('\n');
    writeFileSync(join(dir, 'readme.sh'), script);
    const out = openSync(join(dir, 'stdout'), 'w');
    const err = openSync(join(dir, 'stderr'), 'w');
    const started = Date.now();
    const shell = spawn('bash', [join(dir, 'readme.sh')], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', out, err],
      env: {
        PATH: process.env.PATH,
        DATA_DIR: join(dir, 'pglite'),
        PORT: String(port),
        QUEUE_PREFIX: prefix,
      },
    });
    pgid = shell.pid!;
    const code = await new Promise<number | null>((resolve) => shell.on('close', resolve));
    closeSync(out);
    closeSync(err);
    const seconds = (Date.now() - started) / 1000;
    const stdout = readFileSync(join(dir, 'stdout'), 'utf8');
    // The service logs a request once its answer has gone: the last curl may return before its line is
    // written. The service still runs; wait (at most 5 s) for the line of the walk-through's last read.
    const lastRead = /"method":"GET","url":"\/v1\/funds\/[0-9a-f-]{36}"/;
    if (code === 0)
      await until(
        () => existsSync(serviceLog) && lastRead.test(readFileSync(serviceLog, 'utf8')),
        'the last request in service.log',
        5_000,
        50,
      ).catch(() => undefined);
    const log = existsSync(serviceLog) ? readFileSync(serviceLog, 'utf8') : '';
    const context = `after ${seconds} s\n--- stdout\n${stdout}\n--- stderr\n${readFileSync(join(dir, 'stderr'), 'utf8')}\n--- service.log (end)\n${log.slice(-3000)}`;
    if (code !== 0) throw new Error(`the README's commands failed (exit code ${code}) ${context}`); // all of it: a diff would cut it

    // No answer is a problem, whether shown by curl or logged by the service (the second start's log).
    const output = stdout.split(new RegExp(`^${MARKER} \\d+ at \\d+ s$`, 'm')).slice(1);
    expect(output).toHaveLength(run.length);
    const answers = jsonObjects(stdout);
    expect(
      answers.filter((answer) => typeof answer.status === 'number' && answer.status >= 400),
    ).toEqual([]);
    const requests = log
      .split('\n')
      .filter((line) => line.includes('"req"'))
      .map(
        (line) =>
          JSON.parse(line) as { req: { method: string; url: string }; res: { status: number } },
      );
    expect(requests.filter((line) => line.res.status >= 400)).toEqual([]);
    const statusOf = (method: string, url: string) =>
      requests
        .filter((line) => line.req.method === method && line.req.url === url)
        .map((line) => line.res.status);

    // The preview: 12 instalments, and no key asked.
    expect(
      answers.find((answer) => 'instalments' in answer && !('loan_id' in answer)),
    ).toMatchObject({
      instalments: expect.arrayContaining([expect.objectContaining({ number: 12 })]),
    });

    // The seed's output, with --silent, is its own lines only: comments and the variables the README uses.
    const seedLines = output
      .find((text) => text.includes('export LOAN_ID='))!
      .trim()
      .split('\n');
    expect(seedLines.filter((line) => !/^(#.*|export [A-Z_]+=[\w-]+)$/.test(line))).toEqual([]);
    const demo = Object.fromEntries(
      seedLines
        .map((line) => /^export ([A-Z_]+)=(.*)$/.exec(line))
        .filter((match) => match !== null)
        .map((match) => [match[1]!, match[2]!]),
    );
    expect(Object.keys(demo).sort()).toEqual([
      'AUDITOR_KEY',
      'FUND_ID',
      'LOAN_ID',
      'MANAGER_KEY',
      'STRUCTURE_ID',
      'STRUCTURE_KEY',
    ]);

    // The reads: the list is of active loans, the structure key reads its loan's schedule, the chains verify.
    expect(answers.find((answer) => 'items' in answer)).toMatchObject({
      items: [
        expect.objectContaining({ status: 'active' }),
        expect.objectContaining({ status: 'active' }),
      ],
    });
    expect(statusOf('GET', `/v1/loans/${demo.LOAN_ID}/schedule`)).toEqual([200]);
    expect(answers.find((answer) => 'anchor' in answer)).toMatchObject({
      fund_id: demo.FUND_ID,
      valid: true,
      broken_chains: [],
    });

    // The servicing: the repayment of the amount sent, the statement, the moratorium made (201).
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
    expect(answers.find((answer) => answer.amount === '900.00')).toMatchObject({
      loan_id: demo.LOAN_ID,
      value_date: today,
    });
    expect(statusOf('POST', `/v1/loans/${demo.LOAN_ID}/repayments`)).toEqual([201]);
    expect(statusOf('GET', `/v1/loans/${demo.LOAN_ID}/statement`)).toEqual([200]);
    expect(statusOf('POST', `/v1/loans/${demo.LOAN_ID}/restructurings`)).toEqual([201]);
    expect(answers.find((answer) => answer.type === 'moratorium')).toMatchObject({
      effective_date: today,
      loan: { id: demo.LOAN_ID, restructured: true },
    });

    // The admin's fund, read with the manager key the admin made for it.
    const fund = answers.find((answer) => answer.name === 'Fonds de relance');
    expect(fund).toMatchObject({ region_code: '84', department_codes: ['69', '38'] });
    expect(statusOf('GET', `/v1/funds/${fund!.id}`)).toEqual([200]);
    console.log(
      `the README's walk-through ran in ${seconds} s: ${stdout
        .split('\n')
        .filter((line) => line.startsWith(MARKER))
        .join(', ')}`,
    );
  }, 300_000);
});
