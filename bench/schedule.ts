/**
 * npm run bench:schedule — our exact engine against loanjs (float arithmetic) on the same loan:
 * a 360-instalment monthly annuity, 250,000.00 at 3.5 %. Both run in this process, interleaved
 * round by round (alternating which goes first), after a warm-up; we print the median time of one
 * schedule for each, the ratio ours / loanjs (target ≤ 1.0, above 3 is a defect) and peak memory.
 */
import { Loan } from 'loanjs';
import { formatMoney } from '../src/domain/money';
import { buildSchedule } from '../src/domain/schedule';
import { parseScheduleTerms } from '../src/schedules/schedule-terms.input';

const ROUNDS = 61;
const SCHEDULES_PER_ROUND = 300;

const terms = parseScheduleTerms({
  principal: '250000.00',
  annual_rate_percent: '3.5',
  periodicity: 'monthly',
  term_periods: 360,
  method: 'annuity',
  disbursement_date: '2025-01-15',
});
const ours = () => buildSchedule(terms);
const theirs = () => Loan(250000, 360, 3.5, 'annuity');

/** Results counted here, so that the work cannot be optimised away. */
let sink = 0;

/** Mean nanoseconds per schedule over one batch. */
function batch(run: () => object): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < SCHEDULES_PER_ROUND; i++) sink += run() === undefined ? 0 : 1;
  return Number(process.hrtime.bigint() - start) / SCHEDULES_PER_ROUND;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

// Same instalment, or the comparison means nothing: loanjs rounds its float instalment to the cent.
const ourInstalment = formatMoney(ours().instalmentAmount);
const theirInstalment = theirs().installments[0]!.installment.toFixed(2);
if (ourInstalment !== theirInstalment)
  throw new Error(`instalments differ: ours ${ourInstalment}, loanjs ${theirInstalment}`);

for (let i = 0; i < 10; i++) {
  batch(ours);
  batch(theirs);
}
const oursNs: number[] = [];
const theirsNs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  if (round % 2 === 0) {
    oursNs.push(batch(ours));
    theirsNs.push(batch(theirs));
  } else {
    theirsNs.push(batch(theirs));
    oursNs.push(batch(ours));
  }
}

const oursMedian = median(oursNs);
const theirsMedian = median(theirsNs);
const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;
console.log(
  `schedule: 360 monthly instalments, 250000.00 at 3.5 %, instalment ${ourInstalment} (loanjs ${theirInstalment})`,
);
console.log(
  `rounds: ${ROUNDS} × ${SCHEDULES_PER_ROUND} schedules each, interleaved; node ${process.version}`,
);
console.log(`ours (exact, bigint cents):   median ${us(oursMedian)} per schedule`);
console.log(`loanjs (float):               median ${us(theirsMedian)} per schedule`);
console.log(
  `ratio ours/loanjs: ${(oursMedian / theirsMedian).toFixed(2)}  (target ≤ 1.0; > 3 is a defect)`,
);
console.log(
  `peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB; heap used now: ${(process.memoryUsage().heapUsed / 1048576).toFixed(1)} MiB`,
);
if (sink === 0) throw new Error('nothing ran');
