/**
 * npm run bench:import — a CSV portfolio's dry run and commit (src/imports) against a bare `COPY` of
 * the same rows. Method and figures: docs/benchmarks.md, "Import vs a bare COPY". Knobs:
 * BENCH_IMPORT_LOANS, BENCH_IMPORT_FRENCH=0, BENCH_IMPORT_BATCH_MB, BENCH_IMPORT_ROUNDS, BENCH_PROFILE=<dir>.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { connectDatabase, type Db } from '../src/db/connect';
import { migrate } from '../src/db/migrate';
import { formatMoney } from '../src/domain/money';
import { createFund } from '../src/funds/create-fund';
import { ADMIN, type RequestContext } from '../src/http/auth';
import { getTrialBalance } from '../src/ledger/get-trial-balance';
import { commitImport } from '../src/imports/commit-import';
import { dryRunImport, type ImportBody } from '../src/imports/dry-run-import';
import { IMPORT_KINDS } from '../src/imports/import-columns';
import { requestImport } from '../src/imports/request-import';
import { createProduct } from '../src/products/create-product';
import { withDatabase } from './database';
import { importFiles, type ImportBatch } from './import-files';
import { PLACES, PORTFOLIO_TODAY } from './portfolio';

const LOANS = Number(process.env.BENCH_IMPORT_LOANS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_IMPORT_ROUNDS ?? 3);
const WARM_UP_LOANS = Math.min(LOANS, 1_000);
const FRENCH = process.env.BENCH_IMPORT_FRENCH !== '0';
const BATCH_BYTES = Number(process.env.BENCH_IMPORT_BATCH_MB ?? 16) * 1024 * 1024;
/** The route's limit (IMPORT_BODY_LIMIT, '20mb': bytes counts a megabyte as 1024²). */
const BODY_LIMIT = 20 * 1024 * 1024;
const TODAY = PORTFOLIO_TODAY;
/** Stands for the product's id in the generated files until each round's product exists. */
const SOME_PRODUCT = '00000000-0000-7000-8000-0000000000aa';

const context: RequestContext = { actor: ADMIN, requestId: 'bench-import' };
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const seconds = (values: number[]) => values.map((v) => (v / 1000).toFixed(2)).join(', ');
const fileOf = (dir: string, batch: number, kind: string) => join(dir, `${batch}-${kind}.csv`);
const textColumns = (columns: string) => columns.replace(/ (numeric|integer|date)/g, ' text');

/** Times in ms; cpuMs the child's CPU (user + system, every thread: V8's collector and compiler threads too) over both. */
interface CommitResult {
  requestMs: number;
  commitMs: number;
  cpuMs: number;
  maxRssMiB: number;
}

/** The child: each request's files read from `dir`, then requested and committed as the API and the worker would; prints its times and peak RSS. */
async function child(
  databaseUrl: string,
  dir: string,
  fundId: string,
  batches: number,
): Promise<void> {
  const db = await connectDatabase({ databaseUrl, dataDir: '' });
  try {
    const result: CommitResult = { requestMs: 0, commitMs: 0, cpuMs: 0, maxRssMiB: 0 };
    const cpu = process.cpuUsage();
    for (let batch = 0; batch < batches; batch++) {
      const files = Object.fromEntries(
        IMPORT_KINDS.map((kind) => [kind, readFileSync(fileOf(dir, batch, kind), 'utf8')]),
      );
      const started = performance.now();
      const requested = await requestImport(
        db,
        context,
        { fund_id: fundId, mode: 'commit', ...files },
        TODAY,
      );
      const committing = performance.now();
      if (requested.status !== 202)
        throw new Error(
          `the import was not accepted: ${requested.status} ${JSON.stringify(requested.body).slice(0, 2000)}`,
        );
      const importId = (requested.body as { id: string }).id;
      const outcome = await commitImport(db, importId, TODAY);
      if (outcome !== 'done') {
        const { rows } = await sql<{
          status: string;
          errors: unknown;
          error: string | null;
        }>`SELECT * FROM imports WHERE id = ${importId}::uuid`.execute(db);
        throw new Error(
          `the import was not committed: ${outcome}, ${JSON.stringify(rows[0]).slice(0, 3000)}`,
        );
      }
      result.requestMs += committing - started;
      result.commitMs += performance.now() - committing;
    }
    const used = process.cpuUsage(cpu);
    result.cpuMs = (used.user + used.system) / 1000;
    result.maxRssMiB = process.resourceUsage().maxRSS / 1024;
    console.log(JSON.stringify(result));
  } finally {
    await db.destroy();
  }
}

const STAGING_COLUMNS = {
  structures:
    'legal_name text, siret text, legal_form text, naf_code text, commune_code text, department_code text, region_code text, jobs_fte numeric, contact_email text',
  loans: `external_reference text, structure_siret text, product_id text, principal numeric, annual_rate_percent numeric, periodicity text, term_periods integer,
    method text, disbursement_date date`,
  repayments:
    'loan_external_reference text, value_date date, amount numeric, reference text, prepayment text',
};
const STAGING = IMPORT_KINDS.map(
  (kind) =>
    `CREATE TABLE staging_${kind} (${STAGING_COLUMNS[kind]}); CREATE TABLE staging_${kind}_fr (${textColumns(STAGING_COLUMNS[kind])});`,
).join('\n');

/** The baseline: every file into its staging table by psql's \copy, in one psql run. */
function copyFiles(databaseUrl: string, dir: string, batches: readonly ImportBatch[]): number {
  const copies = batches.flatMap((batch, i) =>
    IMPORT_KINDS.map((kind) =>
      batch.conventions === 'en'
        ? `\\copy staging_${kind} FROM '${fileOf(dir, i, kind)}' WITH (FORMAT csv, HEADER)`
        : `\\copy staging_${kind}_fr FROM '${fileOf(dir, i, kind)}' WITH (FORMAT csv, HEADER, DELIMITER ';')`,
    ),
  );
  const started = performance.now();
  execFileSync('psql', [
    databaseUrl,
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    ...copies.flatMap((copy) => ['-c', copy]),
  ]);
  return performance.now() - started;
}

/** What the fund holds after the commit (structures, active loans, repayments), or without a fund what the COPY loaded: each must equal the files' rows. */
async function counts(db: Db, fundId?: string) {
  const {
    rows: [row],
  } = fundId
    ? await sql<{ structures: number; loans: number; repayments: number }>`SELECT
        (SELECT count(*)::int FROM structures WHERE fund_id = ${fundId}::uuid) AS structures,
        (SELECT count(*)::int FROM loans WHERE fund_id = ${fundId}::uuid AND status = 'active') AS loans,
        (SELECT count(*)::int FROM repayments r JOIN loans l ON l.id = r.loan_id WHERE l.fund_id = ${fundId}::uuid) AS repayments`.execute(
        db,
      )
    : await sql<{ structures: number; loans: number; repayments: number }>`SELECT
        (SELECT count(*)::int FROM staging_structures) + (SELECT count(*)::int FROM staging_structures_fr) AS structures,
        (SELECT count(*)::int FROM staging_loans) + (SELECT count(*)::int FROM staging_loans_fr) AS loans,
        (SELECT count(*)::int FROM staging_repayments) + (SELECT count(*)::int FROM staging_repayments_fr) AS repayments`.execute(
        db,
      );
  return row!;
}

/** The tables a commit writes to, counted after it (the database holds that fund only). */
const WRITTEN = [
  'structures',
  'loans',
  'schedule_versions',
  'instalments',
  'repayments',
  'allocations',
  'journal_entries',
  'journal_lines',
  'audit_events',
];

/** dryCpuMs: this process's CPU over the dry run (all threads), a figure the machine's other load disturbs less than the time. */
interface Round {
  copyMs: number;
  dryMs: number;
  dryCpuMs: number;
  commit: CommitResult;
  written: Record<string, number>;
}

/** One round in a fresh database: the files written for its product, then the COPY, the dry run and the commit, checked. */
async function round(
  template: readonly ImportBatch[],
  copyFirst: boolean,
  name: string,
): Promise<Round> {
  const expected = template.reduce(
    (sum, b) => ({
      structures: sum.structures + b.counts.structures,
      loans: sum.loans + b.counts.loans,
      repayments: sum.repayments + b.counts.repayments,
    }),
    { structures: 0, loans: 0, repayments: 0 },
  );
  return withDatabase('loans_bench_import', async (databaseUrl) => {
    const db = await connectDatabase({ databaseUrl, dataDir: '' });
    const dir = mkdtempSync(join(tmpdir(), 'bench-import-'));
    try {
      await migrate(db);
      const fund = (
        await createFund(db, context, {
          name: 'Bench import fund',
          region_code: '84',
          department_codes: PLACES.map(([department]) => department),
        })
      ).body;
      const product = (
        await createProduct(db, context, {
          fund_id: fund.id,
          name: 'Common-law loan',
          kind: 'common_law',
          principal_min: '1000',
          principal_max: '500000',
          annual_rate_percent_min: '0',
          annual_rate_percent_max: '10',
          term_periods_min: 12,
          term_periods_max: 120,
          deferral_periods_max: 12,
          methods: ['annuity', 'linear'],
          periodicities: ['monthly'],
        })
      ).body;
      const batches = template.map((batch) => ({
        ...batch,
        loans: batch.loans.replaceAll(SOME_PRODUCT, product.id),
      }));
      batches.forEach((batch, i) =>
        IMPORT_KINDS.forEach((kind) => writeFileSync(fileOf(dir, i, kind), batch[kind])),
      );
      execFileSync('psql', [databaseUrl, '-q', '-v', 'ON_ERROR_STOP=1', '-c', STAGING]);

      let copyMs = copyFirst ? copyFiles(databaseUrl, dir, batches) : 0;
      const profile = process.env.BENCH_PROFILE;
      const session = new Session();
      if (profile) {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      const started = performance.now();
      const cpu = process.cpuUsage();
      for (const batch of batches) {
        const body: ImportBody = {
          fund_id: fund.id,
          mode: 'dry_run',
          structures: batch.structures,
          loans: batch.loans,
          repayments: batch.repayments,
        };
        const report = await dryRunImport(db, context, body, TODAY);
        const wrong = report.errors.length + report.errors_not_shown;
        const toCreate = IMPORT_KINDS.map((kind) => report.files[kind]?.rows_to_create);
        if (wrong > 0 || toCreate.some((n, i) => n !== batch.counts[IMPORT_KINDS[i]!])) {
          throw new Error(
            `the dry run found ${wrong} error(s), ${toCreate.join('/')} rows to create: ${JSON.stringify(report.errors.slice(0, 5))}`,
          );
        }
      }
      const dryMs = performance.now() - started;
      const dryCpu = process.cpuUsage(cpu);
      if (profile) {
        writeFileSync(
          join(profile, `dry-run-${name}.cpuprofile`),
          JSON.stringify((await session.post('Profiler.stop')).profile),
        );
        session.disconnect();
      }
      if (!copyFirst) copyMs = copyFiles(databaseUrl, dir, batches);
      const copied = await counts(db);
      if (JSON.stringify(copied) !== JSON.stringify(expected))
        throw new Error(`COPY loaded ${JSON.stringify(copied)}, not ${JSON.stringify(expected)}`);

      const profiling = profile
        ? ['--cpu-prof', '--cpu-prof-dir', profile, '--cpu-prof-name', `commit-${name}.cpuprofile`]
        : [];
      const run = spawnSync(
        process.execPath,
        [...profiling, __filename, '--child', databaseUrl, dir, fund.id, String(batches.length)],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      if (run.status !== 0) throw new Error(`the commit's child failed: ${run.stderr}`);
      const commit = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as CommitResult;
      const created = await counts(db, fund.id);
      if (JSON.stringify(created) !== JSON.stringify(expected)) {
        throw new Error(
          `the commit left ${JSON.stringify(created)} in the fund, not ${JSON.stringify(expected)}`,
        );
      }
      const receivable = (await getTrialBalance(db, ADMIN, fund.id, TODAY)).lines.find(
        (l) => l.account === 'loans_receivable',
      )!.balance;
      const {
        rows: [outstanding],
      } = await sql<{
        sum: string;
      }>`SELECT sum(outstanding_principal)::text AS sum FROM loans WHERE fund_id = ${fund.id}::uuid`.execute(
        db,
      );
      if (formatMoney(receivable) !== outstanding!.sum)
        throw new Error(
          `loans receivable ${formatMoney(receivable)} in the ledger, ${outstanding!.sum} outstanding on the loans`,
        );
      const written = Object.fromEntries(
        await Promise.all(
          WRITTEN.map(
            async (table) =>
              [
                table,
                Number(
                  (
                    await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(
                      db,
                    )
                  ).rows[0]!.n,
                ),
              ] as const,
          ),
        ),
      );
      return { copyMs, dryMs, dryCpuMs: (dryCpu.user + dryCpu.system) / 1000, commit, written };
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.destroy();
    }
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child')
    return child(process.argv[3]!, process.argv[4]!, process.argv[5]!, Number(process.argv[6]));
  const generating = performance.now();
  const batches = importFiles(LOANS, SOME_PRODUCT, BATCH_BYTES, FRENCH);
  const generated = performance.now() - generating;
  const bodyBytes = batches.map((b) =>
    Buffer.byteLength(
      JSON.stringify({
        fund_id: SOME_PRODUCT,
        mode: 'commit',
        structures: b.structures,
        loans: b.loans,
        repayments: b.repayments,
      }),
    ),
  );
  if (bodyBytes.some((bytes) => bytes >= BODY_LIMIT))
    throw new Error(`a request's body is over the route's 20 MB: ${bodyBytes.join(', ')} bytes`);
  const total = (kind: keyof ImportBatch['counts']) =>
    batches.reduce((sum, b) => sum + b.counts[kind], 0);
  console.log(
    `bench:import — ${total('loans')} loans, ${total('structures')} structures, ${total('repayments')} repayments in ${batches.length} request(s) (${batches.map((b) => `${b.counts.loans} loans ${b.conventions}`).join(', ')}) ` +
      `(JSON bodies ${bodyBytes.map((b) => (b / 1048576).toFixed(1)).join(', ')} MiB; route limit 20 MiB); files generated in ${(generated / 1000).toFixed(1)} s; ` +
      `use cases called directly, no HTTP; today ${TODAY}; node ${process.version}`,
  );

  await round(importFiles(WARM_UP_LOANS, SOME_PRODUCT, BATCH_BYTES, FRENCH), true, 'warm-up');
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const done = await round(batches, r % 2 === 0, String(r + 1));
    rounds.push(done);
    console.log(
      `  round ${r + 1}: COPY ${(done.copyMs / 1000).toFixed(2)} s, dry run ${(done.dryMs / 1000).toFixed(2)} s (CPU ${(done.dryCpuMs / 1000).toFixed(2)})` +
        `, commit ${((done.commit.requestMs + done.commit.commitMs) / 1000).toFixed(2)} s (request ${(done.commit.requestMs / 1000).toFixed(2)}, worker ${(done.commit.commitMs / 1000).toFixed(2)}; child CPU ${(done.commit.cpuMs / 1000).toFixed(2)}), peak RSS ${done.commit.maxRssMiB.toFixed(0)} MiB`,
    );
  }
  const loans = total('loans');
  const line = (name: string, times: number[]) =>
    `${name} median ${(median(times) / 1000).toFixed(2)} s = ${Math.round(loans / (median(times) / 1000))} loans/s  (runs: ${seconds(times)})`;
  const copy = median(rounds.map((r) => r.copyMs));
  const dry = median(rounds.map((r) => r.dryMs));
  console.log(
    `${ROUNDS} rounds, each in a fresh database, after a warm-up round of ${WARM_UP_LOANS} loans`,
  );
  console.log(
    line(
      'COPY (psql \\copy into staging tables)  ',
      rounds.map((r) => r.copyMs),
    ),
  );
  console.log(
    line(
      'dry run (dryRunImport)                  ',
      rounds.map((r) => r.dryMs),
    ),
  );
  const commits = rounds.map((r) => r.commit);
  const commitTimes = commits.map((c) => c.requestMs + c.commitMs);
  console.log(line('commit (requestImport + commitImport)   ', commitTimes));
  console.log(
    line(
      '  of which requestImport (the dry run again, the files stored)',
      commits.map((c) => c.requestMs),
    ),
  );
  console.log(
    line(
      '  of which commitImport (the worker, one transaction)        ',
      commits.map((c) => c.commitMs),
    ),
  );
  const written = rounds.at(-1)!.written;
  console.log(
    `rows the commit wrote: ${Object.entries(written)
      .map(([table, n]) => `${table} ${n}`)
      .join(', ')}; ${Object.values(written).reduce((a, b) => a + b, 0)} in all, ` +
      `against ${total('structures') + loans + total('repayments')} rows COPY loads`,
  );
  console.log(
    `dry run: CPU of this process (all its threads) median ${(median(rounds.map((r) => r.dryCpuMs)) / 1000).toFixed(2)} s for ${(dry / 1000).toFixed(2)} s of wall time`,
  );
  console.log(
    `commit's child: CPU (all its threads) median ${(median(commits.map((c) => c.cpuMs)) / 1000).toFixed(2)} s for ${(median(commitTimes) / 1000).toFixed(2)} s of wall time`,
  );
  console.log(
    `commit's peak RSS (child process): median ${median(commits.map((c) => c.maxRssMiB)).toFixed(1)} MiB (runs: ${commits.map((c) => c.maxRssMiB.toFixed(1)).join(', ')})`,
  );
  console.log(
    `ratio dry run/COPY ${(dry / copy).toFixed(2)}  (target ≤ 3); commit/COPY ${(median(commitTimes) / copy).toFixed(2)}  (target ≤ 20)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
