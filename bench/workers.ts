/**
 * npm run bench:workers — (a) the resilience report and (b) the daily reminder scan on the 20,000-loan
 * portfolio, each against a hand-written query over the same tables, ratios printed against targets.
 * Method, baselines and figures: docs/benchmarks.md, "Workers". BENCH_TRACE=1 times the cloning.
 */
import { sql } from 'kysely';
import { connectDatabase, type Db } from '../src/db/connect';
import type { CalendarDate } from '../src/domain/dates';
import { createDueReminders } from '../src/reminders/reminders.repository';
import { computeReportIndicators, type ReportIndicators } from '../src/reports/report-indicators';
import { withDatabase } from './database';
import { generatePortfolio, type Portfolio } from './portfolio';

const ROUNDS = 5;
const TEMPLATES = 200;
const COPIES = 99; // 200 × (1 + 99) = 20,000 loans

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
const ms = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000)
    .toISOString()
    .slice(0, 10) as CalendarDate;

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

/** Runs `first` and `second` ROUNDS times, alternating which goes first, after a warm-up of each. */
async function interleaved(
  first: () => Promise<number>,
  second: () => Promise<number>,
): Promise<[number[], number[]]> {
  await first();
  await second();
  const [a, b]: [number[], number[]] = [[], []];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      a.push(await first());
      b.push(await second());
    } else {
      b.push(await second());
      a.push(await first());
    }
  }
  return [a, b];
}

async function benchReport(db: Db, { fundId, asOf, receivable }: Portfolio): Promise<void> {
  let indicators: ReportIndicators | undefined;
  const report = async () => {
    const { ms, value } = await timed(() =>
      db
        .transaction()
        .setIsolationLevel('repeatable read')
        .setAccessMode('read only')
        .execute((trx) => computeReportIndicators(trx, fundId, asOf)),
    );
    indicators = value;
    return ms;
  };
  const ledger = sql<{ kind: string; loans: string; principal: string }>`
    SELECT l.kind, count(DISTINCT l.id) AS loans, sum(jl.debit - jl.credit)::text AS principal FROM loans l
    JOIN journal_entries e ON e.loan_id = l.id JOIN journal_lines jl ON jl.entry_id = e.id
    WHERE l.fund_id = ${fundId}::uuid AND e.value_date <= ${asOf}::date AND jl.account = 'loans_receivable' GROUP BY l.kind ORDER BY l.kind`;
  const aggregate = sql<{ kind: string; loans: string; principal: string }>`
    SELECT l.kind, count(DISTINCT l.id) AS loans, sum(i.principal)::text AS principal FROM loans l
    JOIN instalments i ON i.loan_id = l.id AND i.version = l.schedule_version
    WHERE l.fund_id = ${fundId}::uuid AND l.status = 'active' AND i.due_date > ${asOf}::date GROUP BY l.kind ORDER BY l.kind`;
  const [reports, ledgers] = await interleaved(
    report,
    async () => (await timed(() => ledger.execute(db))).ms,
  );
  const [reportsAgain, aggregates] = await interleaved(
    report,
    async () => (await timed(() => aggregate.execute(db))).ms,
  );
  const byKind = async (query: typeof ledger) =>
    (await query.execute(db)).rows
      .map((r) => `${r.kind} ${r.loans} loans ${r.principal}`)
      .join('; ');
  console.log(
    `(a) resilience report of the fund as of ${asOf}: computeReportIndicators in a read-only REPEATABLE READ transaction, as the worker runs it; ` +
      `${ROUNDS} interleaved runs after a warm-up of each, against each baseline in turn`,
  );
  console.log(
    `    baseline 1, the outstanding principal by kind (ledger): ${oneLine(ledger.compile(db).sql)}`,
  );
  console.log(`report    median ${median(reports).toFixed(0)} ms  (runs: ${ms(reports)})`);
  console.log(
    `baseline  median ${median(ledgers).toFixed(0)} ms  (runs: ${ms(ledgers)}) → ${await byKind(ledger)}`,
  );
  console.log(
    `ratio report/baseline ${(median(reports) / median(ledgers)).toFixed(2)}  (target ≤ 3; > 10 is a defect)`,
  );
  console.log(
    `    baseline 2, the principal still scheduled by kind (instalments): ${oneLine(aggregate.compile(db).sql)}`,
  );
  console.log(
    `report    median ${median(reportsAgain).toFixed(0)} ms  (runs: ${ms(reportsAgain)})`,
  );
  console.log(
    `baseline  median ${median(aggregates).toFixed(0)} ms  (runs: ${ms(aggregates)}) → ${await byKind(aggregate)}`,
  );
  console.log(
    `ratio report/baseline ${(median(reportsAgain) / median(aggregates)).toFixed(2)}  (target ≤ 3; > 10 is a defect)`,
  );
  const {
    loan_count: loans,
    active_loan_count: active,
    outstanding_principal: outstanding,
    par30,
    par90,
  } = indicators!;
  console.log(
    `    the report: ${loans} loans, ${active} active, outstanding principal ${outstanding} (the trial balance's: ${receivable.ledger}), PAR30 ${par30}, PAR90 ${par90}`,
  );
}

async function benchScan(db: Db, { fundId, asOf }: Portfolio): Promise<void> {
  const fund = await db
    .selectFrom('funds')
    .select(['reminder_days_before', 'reminder_days_after'])
    .where('id', '=', fundId)
    .executeTakeFirstOrThrow();
  // The due dates whose reminders are sent on `day`: the day plus a before-due offset, minus an after-due one.
  const dueDatesOf = (day: CalendarDate) => [
    ...fund.reminder_days_before.map((d) => addDays(day, d)),
    ...fund.reminder_days_after.map((d) => addDays(day, -d)),
  ];
  const countQuery = (day: CalendarDate) => sql<{ due: number }>`
    SELECT count(*)::int AS due FROM loans l
    JOIN instalments i ON i.loan_id = l.id AND i.version = l.schedule_version
    WHERE l.fund_id = ${fundId}::uuid AND l.status = 'active' AND i.total > 0 AND i.due_date = ANY(${dueDatesOf(day)}::date[])
      AND i.total > coalesce((SELECT sum(a.fees + a.late_interest + a.interest + a.principal) FROM repayments r JOIN allocations a ON a.repayment_id = r.id
          WHERE r.loan_id = l.id AND r.reversed_at IS NULL AND a.number = i.number), 0)
        + coalesce((SELECT sum(s.interest + s.principal) FROM restructurings x JOIN arrears_settlements s ON s.restructuring_id = x.id
          WHERE x.loan_id = l.id AND x.effective_date <= ${day}::date AND s.number = i.number), 0)`;
  const count = async (day: CalendarDate) => (await countQuery(day).execute(db)).rows[0]!.due;

  const catchUp = await timed(() => createDueReminders(db, asOf, fundId));
  const days = Array.from({ length: ROUNDS + 1 }, (_, n) => addDays(asOf, n + 1)); // a warm-up day, then one a round
  const first: number[] = [];
  const again: number[] = [];
  const counts: number[] = [];
  const made: number[] = [];
  const counted: number[] = [];
  for (const [n, day] of days.entries()) {
    const scans = async () => {
      const fresh = await timed(() => createDueReminders(db, day, fundId));
      const repeated = await timed(() => createDueReminders(db, day, fundId));
      if (repeated.value !== 0)
        throw new Error(`the scan as of ${day} made ${repeated.value} reminders the second time`);
      return { fresh, repeated };
    };
    const baseline = () => timed(() => count(day));
    // Alternate which goes first, as in (a); the warm-up day (n = 0) is left out of the figures.
    const [{ fresh, repeated }, total] =
      n % 2 === 0
        ? [await scans(), await baseline()]
        : await (async () => {
            const t = await baseline();
            return [await scans(), t] as const;
          })();
    if (n === 0) continue;
    first.push(fresh.ms);
    again.push(repeated.ms);
    counts.push(total.ms);
    made.push(fresh.value);
    counted.push(total.value);
  }
  console.log(
    `(b) reminder scan of the fund, createDueReminders (offsets before ${fund.reminder_days_before.join(', ')}, after ${fund.reminder_days_after.join(', ')} days): ` +
      `a catch-up scan as of ${asOf} made ${catchUp.value} reminders in ${catchUp.ms.toFixed(0)} ms (not in the figures); then ${ROUNDS} days from ${days[1]}, after a warm-up day`,
  );
  console.log(
    `    baseline, the day's due instalments ($2: the dates due that day's reminders are sent for): ${oneLine(countQuery(asOf).compile(db).sql)}`,
  );
  console.log(
    `scan, first of the day (b1)  median ${median(first).toFixed(0)} ms  (runs: ${ms(first)}; reminders made: ${made.join(', ')})`,
  );
  console.log(
    `scan, nothing new (b2)       median ${median(again).toFixed(0)} ms  (runs: ${ms(again)})`,
  );
  console.log(
    `baseline                     median ${median(counts).toFixed(0)} ms  (runs: ${ms(counts)}; instalments counted: ${counted.join(', ')})`,
  );
  console.log(
    `ratio scan/baseline: first of the day ${(median(first) / median(counts)).toFixed(2)}, nothing new ${(median(again) / median(counts)).toFixed(2)}  (target ≤ 1.5)`,
  );
  if (made.some((m, i) => m !== counted[i])) {
    console.error(
      `the scan made ${made.join(', ')} reminders where the count found ${counted.join(', ')} due instalments`,
    );
    process.exitCode = 1;
  }
}

async function main() {
  await withDatabase('loans_bench_workers', async (databaseUrl) => {
    const db = await connectDatabase({ databaseUrl, dataDir: '' });
    try {
      const portfolio = await generatePortfolio(db, databaseUrl, {
        templates: TEMPLATES,
        copies: COPIES,
        concurrency: 4,
      });
      const { counts, receivable } = portfolio;
      const behaviours = [...portfolio.behaviours]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([b, n]) => `${b} ${n}`)
        .join(', ');
      console.log(
        `portfolio: ${TEMPLATES} template loans (${behaviours}) × ${COPIES + 1} = ${counts.loans} loans, ${counts.active} active; ` +
          `${counts.instalments} instalments, ${counts.repayments} repayments, ${counts.journalLines} journal lines; node ${process.version}`,
      );
      console.log(
        `generated in ${(portfolio.templateSeconds + portfolio.cloneSeconds).toFixed(1)} s (templates through the use cases ${portfolio.templateSeconds.toFixed(1)} s, ` +
          `cloning in SQL ${portfolio.cloneSeconds.toFixed(1)} s)`,
      );
      console.log(
        `trial balance loans_receivable as of ${portfolio.asOf}: ${receivable.ledger}  (templates' × ${COPIES + 1}: ${receivable.expected}; ` +
          `loans' outstanding principal: ${receivable.outstanding})`,
      );
      if (
        receivable.ledger !== receivable.expected ||
        receivable.ledger !== receivable.outstanding
      ) {
        console.error('the ledger does not add up after cloning');
        process.exitCode = 1;
      }
      await benchReport(db, portfolio);
      await benchScan(db, portfolio);
    } finally {
      await db.destroy();
    }
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
