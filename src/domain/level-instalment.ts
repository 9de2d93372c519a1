import { roundToMultiple, type Money, type Rounding } from './money';
import { reduce, type Fraction } from './rate';

/**
 * The level instalment A that repays `balance` over periods with interest fractions f_k
 * (DOMAIN.md rule 4): balance = Σ_k A / Π_{j≤k} (1 + f_j), rounded once, to `multiple` cents.
 *
 * It is computed as an exact fraction of two bigints, so the rounding is always right, not right
 * to some number of digits. With f = p/q for every period the closed form
 * A = B·r / (1 − (1+r)^−n) is A = B·p·(q+p)^n / (q·((q+p)^n − q^n)): a few big-integer powers,
 * faster than decimal.js at 40 digits on a 360-period loan and exact where it is not.
 */
export function levelInstalment(balance: Money, fractions: readonly Fraction[], multiple: Money, rounding: Rounding): Money {
  const n = BigInt(fractions.length);
  const first = fractions[0]!;
  let numerator: bigint;
  let denominator: bigint;
  if (fractions.every((f) => f === first || f.numerator * first.denominator === first.numerator * f.denominator)) {
    const { numerator: p, denominator: q } = reduce(first);
    if (p === 0n) return roundToMultiple(balance, n, multiple, rounding);
    const grown = (q + p) ** n;
    numerator = balance * p * grown;
    denominator = q * (grown - q ** n);
  } else {
    // Horner's scheme from the last period back: S = d_1 (1 + d_2 (1 + … d_n)), d = q / (q + p);
    // then A = B / S. S stays an exact fraction s / t.
    let s = 0n;
    let t = 1n;
    for (let k = fractions.length - 1; k >= 0; k--) {
      const { numerator: p, denominator: q } = reduce(fractions[k]!);
      [s, t] = [q * (t + s), (q + p) * t];
    }
    numerator = balance * t;
    denominator = s;
  }
  return roundToMultiple(numerator, denominator, multiple, rounding);
}
