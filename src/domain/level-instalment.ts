import { roundToMultiple, type Money, type Rounding } from './money';
import { reduce, type Fraction } from './rate';

/**
 * The level instalment A that repays `balance` over periods with interest fractions f_k
 * (DOMAIN.md rule 4): balance = Σ_k A / Π_{j≤k} (1 + f_j), rounded once, to `multiple` cents.
 *
 * A is the quotient of two big integers, rounded exactly: never a float, and no fixed number of
 * digits that a tie could fall beyond. With f = p/q for every period the closed form
 * A = B·r / (1 − (1+r)^−n) is A = B·p·(q+p)^n / (q·((q+p)^n − q^n)).
 */
export function levelInstalment(
  balance: Money,
  fractions: readonly Fraction[],
  multiple: Money,
  rounding: Rounding,
): Money {
  const n = fractions.length;
  const first = fractions[0]!;
  if (
    fractions.every(
      (f) => f === first || f.numerator * first.denominator === first.numerator * f.denominator,
    )
  ) {
    const { numerator: p, denominator: q } = reduce(first);
    if (p === 0n) return roundToMultiple(balance, BigInt(n), multiple, rounding);
    const quick = roundedFromFixedPoint(balance, p, q, n, multiple);
    if (quick !== undefined) return quick;
    const grown = (q + p) ** BigInt(n);
    return roundToMultiple(balance * p * grown, q * (grown - q ** BigInt(n)), multiple, rounding);
  }
  // Horner's scheme from the last period back: S = d_1 (1 + d_2 (1 + … d_n)), d = q / (q + p),
  // then A = B / S, S kept as the exact fraction s / t.
  let s = 0n;
  let t = 1n;
  for (let k = n - 1; k >= 0; k--) {
    const { numerator: p, denominator: q } = reduce(fractions[k]!);
    [s, t] = [q * (t + s), (q + p) * t];
  }
  return roundToMultiple(balance * t, s, multiple, rounding);
}

const FRACTION_BITS = 192n;
const ONE = 1n << FRACTION_BITS;
/** log2 of the relative error allowed for the fixed-point estimate: above its worst case, 2^-145. */
const SAFETY_BITS = 140n;

/**
 * The same closed form with (1 + p/q)^n in 192-bit fixed point: five times faster than the exact
 * powers, whose integers reach thousands of digits. The truncated base raised to n ≤ 600 and the
 * ≤ 20 truncated products err by less than 2^-181 relatively; dividing by (1+r)^n − 1 ≥ r > 2^-36
 * (one day at 0.000001 % a year) costs 36 bits more, so the estimate is within 2^-145 of
 * A / multiple. It is kept only when no
 * rounding boundary (a half multiple) lies within 2^-140 of it: exact A then rounds the same way in
 * either mode, since a tie sits on a boundary. Otherwise undefined, and the caller computes exactly.
 */
function roundedFromFixedPoint(
  balance: Money,
  p: bigint,
  q: bigint,
  n: number,
  multiple: Money,
): Money | undefined {
  let power = ONE;
  let base = ((q + p) << FRACTION_BITS) / q;
  for (let e = n; e > 0; e >>= 1) {
    if (e & 1) power = (power * base) >> FRACTION_BITS;
    if (e > 1) base = (base * base) >> FRACTION_BITS;
  }
  const numerator = balance * p * power; // A / multiple ≈ numerator / denominator
  const denominator = q * (power - ONE) * multiple;
  const units = (2n * numerator + denominator) / (2n * denominator);
  // 2·denominator × (estimate − (units − ½)): where the estimate sits between the two boundaries
  const aboveBoundary = 2n * numerator + denominator - units * 2n * denominator;
  const margin = numerator >> (SAFETY_BITS - 1n); // 2·denominator × estimate × 2^-140
  if (aboveBoundary <= margin || 2n * denominator - aboveBoundary <= margin) return undefined;
  return (units * multiple) as Money;
}
