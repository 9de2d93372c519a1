/**
 * npm run bench:state-aid — (a) one loan's GGE against building its schedule; (b) the fund's state-aid
 * register (JSON, CSV) against bare SQL over the same rows. Method and figures: docs/benchmarks.md,
 * "State aid". Knobs: BENCH_STATE_AID_COPIES, BENCH_STATE_AID_ROUNDS, BENCH_STATE_AID_PROFILE=<file>.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { sql } from 'kysely';
import { connectDatabase, type Db } from '../src/db/connect';
import { grossGrantEquivalent } from '../src/domain/gge';
import { formatMoney } from '../src/domain/money';
import { buildSchedule } from '../src/domain/schedule';
import { ADMIN } from '../src/http/auth';
import { parseScheduleTerms } from '../src/schedules/schedule-terms.input';
import { fundAidRegister, registerCsv } from '../src/state-aid/structure-state-aid';
import { withDatabase } from './database';
import { generatePortfolio, PORTFOLIO_TODAY } from './portfolio';

const ROUNDS = 41;
const PER_ROUND = 50;

const terms = parseScheduleTerms({
  principal: '50000.00',
  annual_rate_percent: '1',
  periodicity: 'monthly',
  term_periods: 120,
  method: 'annuity',
  disbursement_date: '2025-01-15',
});
const rows = buildSchedule(terms).rows;
const schedule = () => buildSchedule(terms);
const gge = () =>
  grossGrantEquivalent({
    principal: terms.principal,
    grantDate: terms.disbursementDate,
    rows,
    referenceRatePercent: '7.5',
    discountRatePercent: '4.5',
  });

let sink = 0;
function batch(run: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < PER_ROUND; i++) sink += run() === undefined ? 0 : 1;
  return Number(process.hrtime.bigint() - start) / PER_ROUND;
}
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

for (let i = 0; i < 5; i++) {
  batch(schedule);
  batch(gge);
}
const scheduleNs: number[] = [];
const ggeNs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  if (round % 2 === 0) {
    scheduleNs.push(batch(schedule));
    ggeNs.push(batch(gge));
  } else {
    ggeNs.push(batch(gge));
    scheduleNs.push(batch(schedule));
  }
}
const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;
const s = median(scheduleNs);
const g = median(ggeNs);
console.log(
  `loan: 50000.00 at 1 % over 120 months, reference 7.5 %, discount 4.5 %: GGE ${formatMoney(gge())}`,
);
console.log(`rounds: ${ROUNDS} × ${PER_ROUND}, interleaved; node ${process.version}`);
console.log(`schedule (engine, bigint cents): median ${us(s)}`);
console.log(
  `GGE (decimal.js, 40 digits):     median ${us(g)}   ratio GGE / schedule ${(g / s).toFixed(2)}   target: GGE < 2000 µs ${g < 2_000_000 ? 'met' : 'MISSED'}`,
);

// ---- Part (b): the fund's register against bare SQL over the same rows ----

const TEMPLATES = 200;
const COPIES = Number(process.env.BENCH_STATE_AID_COPIES ?? 99); // 200 × (1 + 99) = 20,000 loans
const REGISTER_ROUNDS = Number(process.env.BENCH_STATE_AID_ROUNDS ?? 9);
const FROM = '2021-01-01';
const context = { actor: ADMIN, requestId: 'bench-state-aid' };

/** Each measure returns its output's size: bytes of the body, or rows fetched. */
function measures(db: Db, fundId: string): Record<string, () => Promise<number>> {
  return {
    'register, JSON': async () =>
      JSON.stringify(await fundAidRegister(db, context, fundId, FROM, PORTFOLIO_TODAY)).length,
    'register, CSV': async () =>
      registerCsv(await fundAidRegister(db, context, fundId, FROM, PORTFOLIO_TODAY)).length,
    // The same rows and columns as the register's query, nothing done to them in JavaScript.
    'bare SQL, same rows': async () =>
      (
        await sql`SELECT left(s.siret, 9) AS siren, s.rna, s.legal_name, g.structure_id, g.loan_id, g.grant_date, g.amount, g.reason, g.legal_basis
      FROM aid_grants g JOIN structures s ON s.id = g.structure_id
      WHERE g.fund_id = ${fundId}::uuid AND g.grant_date BETWEEN ${FROM}::date AND ${PORTFOLIO_TODAY}::date ORDER BY g.grant_date, g.seq`.execute(
          db,
        )
      ).rows.length,
    // The aggregate the national register could do with: aid per beneficiary, day and legal basis.
    'bare SQL, GROUP BY': async () =>
      (
        await sql`SELECT left(s.siret, 9) AS siren, s.rna, g.grant_date, sum(g.amount) AS amount, g.legal_basis
      FROM aid_grants g JOIN structures s ON s.id = g.structure_id
      WHERE g.fund_id = ${fundId}::uuid AND g.grant_date BETWEEN ${FROM}::date AND ${PORTFOLIO_TODAY}::date
      GROUP BY 1, 2, 3, 5 ORDER BY 3, 1`.execute(db)
      ).rows.length,
  };
}

async function partB(): Promise<void> {
  await withDatabase('loans_bench_state_aid', async (databaseUrl) => {
    const db = await connectDatabase({ databaseUrl, dataDir: '' });
    try {
      const portfolio = await generatePortfolio(db, databaseUrl, {
        templates: TEMPLATES,
        copies: COPIES,
        concurrency: 4,
      });
      const {
        rows: [grants],
      } = await sql<{
        count: number;
        total: string;
        structures: number;
      }>`SELECT count(*)::int AS count, sum(amount)::text AS total,
        count(DISTINCT structure_id)::int AS structures FROM aid_grants WHERE fund_id = ${portfolio.fundId}::uuid`.execute(
        db,
      );
      console.log(
        `\nportfolio: ${portfolio.counts.loans} loans; ${grants!.count} aid grants (${grants!.structures} structures, GGE total ${grants!.total}); ` +
          `generated in ${(portfolio.templateSeconds + portfolio.cloneSeconds).toFixed(1)} s`,
      );
      const runs = measures(db, portfolio.fundId);
      const names = Object.keys(runs);
      const sizes = new Map<string, number>();
      for (const name of names) sizes.set(name, await runs[name]!()); // warm-up
      const times = new Map<string, number[]>(names.map((name) => [name, []]));
      // BENCH_STATE_AID_PROFILE=file.cpuprofile: a CPU profile of the timed rounds alone, not of the portfolio's generation.
      const profile = process.env.BENCH_STATE_AID_PROFILE;
      const session = new Session();
      if (profile) {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      for (let round = 0; round < REGISTER_ROUNDS; round++) {
        // Each round starts with a different measure, so none always runs first.
        for (let i = 0; i < names.length; i++) {
          const name = names[(round + i) % names.length]!;
          const started = performance.now();
          await runs[name]!();
          times.get(name)!.push(performance.now() - started);
        }
      }
      if (profile) {
        writeFileSync(profile, JSON.stringify((await session.post('Profiler.stop')).profile));
        session.disconnect();
      }
      const base = median(times.get('bare SQL, same rows')!);
      const aggregate = median(times.get('bare SQL, GROUP BY')!);
      console.log(
        `register ${FROM} to ${PORTFOLIO_TODAY}, ${REGISTER_ROUNDS} interleaved rounds after a warm-up (fundAidRegister called directly, same pg pool)`,
      );
      for (const name of names) {
        const ms = median(times.get(name)!);
        const size = name.startsWith('register')
          ? `${(sizes.get(name)! / 1048576).toFixed(2)} MiB`
          : `${sizes.get(name)} rows`;
        console.log(
          `${name.padEnd(20)} median ${ms.toFixed(1).padStart(7)} ms  (${size}; runs ${times
            .get(name)!
            .map((t) => t.toFixed(0))
            .join(', ')})` +
            `  ×${(ms / base).toFixed(2)} same rows  ×${(ms / aggregate).toFixed(2)} GROUP BY`,
        );
      }
      for (const name of ['register, JSON', 'register, CSV']) {
        const ratio = median(times.get(name)!) / base;
        console.log(
          `${name} / bare SQL same rows: ${ratio.toFixed(2)}  target ≤ 2: ${ratio <= 2 ? 'met' : 'MISSED'}`,
        );
      }
    } finally {
      await db.destroy();
    }
  });
}

if (sink < 0) console.log(sink);
if (process.env.BENCH_STATE_AID_PART !== 'a') {
  partB().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
