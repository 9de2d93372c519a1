/**
 * npm run bench:export — the auditor's export bundle against `psql \copy` of the same tables, each
 * bundle built in a child process that reports its time and peak RSS. Method and figures:
 * docs/benchmarks.md, "Export bundle". Knobs: BENCH_EXPORT_COPIES, BENCH_EXPORT_ROUNDS.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase } from '../src/db/connect';
import { buildExport } from '../src/exports/build-export';
import { findExportById } from '../src/exports/exports.repository';
import { requestExport } from '../src/exports/request-export';
import { ADMIN } from '../src/http/auth';
import { withDatabase } from './database';
import { generatePortfolio, PORTFOLIO_TODAY } from './portfolio';

const TEMPLATES = 200;
const COPIES = Number(process.env.BENCH_EXPORT_COPIES ?? 99); // 200 × (1 + 99) = 20,000 loans
const ROUNDS = Number(process.env.BENCH_EXPORT_ROUNDS ?? 3);

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const list = (values: number[], digits = 0) => values.map((v) => v.toFixed(digits)).join(', ');

/** The child: builds one export as the worker does, then prints its time and peak RSS as JSON. */
async function child(databaseUrl: string, exportId: string): Promise<void> {
  const db = await connectDatabase({ databaseUrl, dataDir: '' });
  try {
    const started = performance.now();
    const outcome = await buildExport(db, exportId, true);
    const ms = performance.now() - started;
    const row = await findExportById(db, exportId);
    console.log(
      JSON.stringify({
        outcome,
        ms,
        maxRssMiB: process.resourceUsage().maxRSS / 1024,
        size: Number(row?.size ?? 0),
        error: row?.error ?? null,
      }),
    );
  } finally {
    await db.destroy();
  }
}

/** The baseline: each table the bundle reads, whole (the database holds this fund only), to a CSV file, by psql's \copy. */
const TABLES = [
  'loans',
  'instalments',
  'repayments',
  'allocations',
  'restructurings',
  'arrears_settlements',
  'journal_entries',
  'journal_lines',
  'audit_events',
];
function copyTables(databaseUrl: string): { ms: number; bytes: number } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-export-'));
  try {
    const started = performance.now();
    execFileSync('psql', [
      databaseUrl,
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      ...TABLES.flatMap((table) => [
        '-c',
        `\\copy ${table} TO '${join(dir, `${table}.csv`)}' WITH (FORMAT csv, HEADER)`,
      ]),
    ]);
    const ms = performance.now() - started;
    return {
      ms,
      bytes: readdirSync(dir).reduce((sum, file) => sum + statSync(join(dir, file)).size, 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]!, process.argv[4]!);
  await withDatabase('loans_bench_export', async (databaseUrl) => {
    const db = await connectDatabase({ databaseUrl, dataDir: '' });
    try {
      const portfolio = await generatePortfolio(db, databaseUrl, {
        templates: TEMPLATES,
        copies: COPIES,
        concurrency: 4,
      });
      const { counts } = portfolio;
      console.log(
        `portfolio: ${counts.loans} loans, ${counts.active} active; ${counts.instalments} instalments, ${counts.repayments} repayments, ` +
          `${counts.journalLines} journal lines; generated in ${(portfolio.templateSeconds + portfolio.cloneSeconds).toFixed(1)} s; node ${process.version}`,
      );
      const bundle = async () => {
        const made = await requestExport(
          db,
          { actor: ADMIN, requestId: 'bench-export' },
          { fund_id: portfolio.fundId, as_of: PORTFOLIO_TODAY },
          PORTFOLIO_TODAY,
        );
        const run = spawnSync(
          process.execPath,
          [__filename, '--child', databaseUrl, made.body.id],
          { encoding: 'utf8' },
        );
        if (run.status !== 0) throw new Error(`the export's child failed: ${run.stderr}`);
        const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
          outcome: string;
          ms: number;
          maxRssMiB: number;
          size: number;
          error: string | null;
        };
        if (result.outcome !== 'done') throw new Error(`the export was not built: ${result.error}`);
        return result;
      };
      await bundle();
      copyTables(databaseUrl);
      const bundles: Awaited<ReturnType<typeof bundle>>[] = [];
      const copies: ReturnType<typeof copyTables>[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        if (round % 2 === 0) {
          bundles.push(await bundle());
          copies.push(copyTables(databaseUrl));
        } else {
          copies.push(copyTables(databaseUrl));
          bundles.push(await bundle());
        }
      }
      const times = bundles.map((b) => b.ms);
      const rss = bundles.map((b) => b.maxRssMiB);
      const copyTimes = copies.map((c) => c.ms);
      console.log(
        `export bundle as of ${PORTFOLIO_TODAY} (buildExport in a child process, as the worker runs it); ${ROUNDS} interleaved rounds after a warm-up of each`,
      );
      console.log(
        `bundle      median ${(median(times) / 1000).toFixed(2)} s  (runs: ${list(
          times.map((t) => t / 1000),
          2,
        )}); ZIP ${(bundles[0]!.size / 1048576).toFixed(1)} MiB`,
      );
      console.log(
        `psql \\copy  median ${(median(copyTimes) / 1000).toFixed(2)} s  (runs: ${list(
          copyTimes.map((t) => t / 1000),
          2,
        )}); ${TABLES.length} tables, CSV ${(copies[0]!.bytes / 1048576).toFixed(1)} MiB`,
      );
      console.log(
        `ratio bundle/\\copy ${(median(times) / median(copyTimes)).toFixed(2)}  (target ≤ 2)`,
      );
      console.log(
        `worker peak RSS: median ${median(rss).toFixed(1)} MiB (runs: ${list(rss, 1)})  (target < 200 MB)`,
      );
    } finally {
      await db.destroy();
    }
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
