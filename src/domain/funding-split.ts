import { ExactDecimal as D, eurosOf } from './exact-decimal';
import type { Money } from './money';

/**
 * The arithmetic of funding splits (docs/funding.md): exact decimals (ExactDecimal), rounded with a
 * named mode at the one place each rule says.
 */

/** Percentages carry at most 6 decimals (numeric(9,6) in SQL). */
export const PERCENT_DECIMALS = 6;
const HUNDRED = new D(100);
const UNIT = new D(1).dividedBy(new D(10).pow(PERCENT_DECIMALS));

/** A percentage, exact: as stored (read by the repository) or as fundMix and a request give its text. */
export type Percent = D | string;

export interface Share {
  readonly sourceId: string;
  readonly percent: Percent;
}

/** Whether the shares sum to exactly 100. */
export function sumsToHundred(shares: readonly Share[]): boolean {
  return shares.reduce((sum, s) => sum.plus(s.percent), new D(0)).equals(HUNDRED);
}

/** "12.500000" → "12.5", "100.000000" → "100": a percentage in its shortest form, as rates are shown. */
/** A percentage (a decimal string) above 0, compared exactly. */
export const isPositivePercent = (percent: Percent) => new D(percent).gt(0);

export const shortPercent = (percent: Percent) => new D(percent).toFixed();

/** The numeric(9,6) text a percentage is stored as ("12.5" → "12.500000", exact: it has at most 6 decimals). */
export const storedPercent = (percent: Percent) => new D(percent).toFixed(PERCENT_DECIMALS);

/** An amount in euros, exactly: from its text, or from Money's cents. */
const euros = (amount: string | Money) =>
  typeof amount === 'bigint' ? eurosOf(amount) : new D(amount);

/**
 * The fund's mix: each source's share of the committed amounts, in percent with 6 decimals, summing
 * to exactly 100 by the largest-remainder method: every share is first cut down to 6 decimals, then
 * the millionths of a percent left over go one each to the shares that lost the most to the cut (ties:
 * the source listed first, i.e. the oldest). A source whose share is still 0 (under a millionth of a
 * percent of the fund) gets none: a share is above 0.
 */
export function fundMix(
  sources: readonly { readonly sourceId: string; readonly committed: string | Money }[],
): { readonly sourceId: string; readonly percent: string }[] {
  const committed = sources.map((s) => euros(s.committed));
  const total = committed.reduce((sum, c) => sum.plus(c), new D(0));
  if (sources.length === 0 || total.isZero()) return [];
  const exact = committed.map((c) => c.times(HUNDRED).dividedBy(total));
  const cut = exact.map((p) => p.toDecimalPlaces(PERCENT_DECIMALS, D.ROUND_DOWN));
  let left = HUNDRED.minus(cut.reduce((sum, p) => sum.plus(p), new D(0)))
    .dividedBy(UNIT)
    .toNumber(); // < sources.length
  const byRemainder = exact
    .map((p, i) => ({ i, lost: p.minus(cut[i]!) }))
    .sort((a, b) => b.lost.comparedTo(a.lost) || a.i - b.i);
  const percents = [...cut];
  for (const { i } of byRemainder) {
    if (left <= 0) break;
    percents[i] = percents[i]!.plus(UNIT);
    left -= 1;
  }
  return sources
    .map((s, i) => ({ sourceId: s.sourceId, percent: percents[i]!.toFixed(PERCENT_DECIMALS) }))
    .filter((s) => !new D(s.percent).isZero());
}

/**
 * Σ figure × percent, exact, / 100: a source's exact share of a figure (docs/funding.md). Round once
 * per source with `toCents`: the rounded sources may then differ from the rounded total by at most
 * half a cent per source, and the remainders are not moved between sources.
 */
export const hundredth = (sumTimesPercent: D): D => sumTimesPercent.dividedBy(HUNDRED);

/** a / b at 40 significant digits (an average outstanding over b days); 0 when b is 0. */
export const perDay = (a: D, b: number): D => (b === 0 ? new D(0) : a.dividedBy(b));

/**
 * An exact amount, half-up to the cent, as the report writes it. Not Money's formatMoney: an exact
 * figure negative by less than half a cent prints "-0.00" here, as the report always has printed it.
 */
export const toCents = (exact: D): string => exact.toFixed(2, D.ROUND_HALF_UP);
