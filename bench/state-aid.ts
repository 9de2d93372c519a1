/**
 * npm run bench:state-aid, part (a) of issue 15: the GGE of one 120-month loan (decimal.js at 40
 * digits, src/domain/gge.ts) against building its schedule with the engine alone (bigint cents), in
 * this process, interleaved round by round after a warm-up. Prints the median µs of each and the
 * ratio; the target is a disbursement's GGE under 2 ms. Part (b), the register against a bare SQL
 * aggregate over the 20,000-loan bench portfolio, is not written yet (docs/state-aid.md).
 */
import { grossGrantEquivalent } from '../src/domain/gge';
import { formatMoney } from '../src/domain/money';
import { buildSchedule } from '../src/domain/schedule';
import { parseScheduleTerms } from '../src/schedules/schedule-terms.input';

const ROUNDS = 41;
const PER_ROUND = 50;

const terms = parseScheduleTerms({
  principal: '50000.00', annual_rate_percent: '1', periodicity: 'monthly', term_periods: 120, method: 'annuity', disbursement_date: '2025-01-15',
});
const rows = buildSchedule(terms).rows;
const schedule = () => buildSchedule(terms);
const gge = () => grossGrantEquivalent({ principal: terms.principal, grantDate: terms.disbursementDate, rows, referenceRatePercent: '7.5', discountRatePercent: '4.5' });

let sink = 0;
function batch(run: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < PER_ROUND; i++) sink += run() === undefined ? 0 : 1;
  return Number(process.hrtime.bigint() - start) / PER_ROUND;
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

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
console.log(`loan: 50000.00 at 1 % over 120 months, reference 7.5 %, discount 4.5 %: GGE ${formatMoney(gge())}`);
console.log(`rounds: ${ROUNDS} × ${PER_ROUND}, interleaved; node ${process.version}`);
console.log(`schedule (engine, bigint cents): median ${us(s)}`);
console.log(`GGE (decimal.js, 40 digits):     median ${us(g)}   ratio GGE / schedule ${(g / s).toFixed(2)}   target: GGE < 2000 µs ${g < 2_000_000 ? 'met' : 'MISSED'}`);
if (sink < 0) console.log(sink);
