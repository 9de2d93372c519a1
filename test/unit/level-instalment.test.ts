import fc from 'fast-check';
import { levelInstalment } from '../../src/domain/level-instalment';
import { divideRounded, type Money, type Rounding } from '../../src/domain/money';
import { fraction, ratePerPeriod, type Rate } from '../../src/domain/rate';

/** A = B·p·(q+p)^n / (q·((q+p)^n − q^n)) rounded to the multiple, with nothing but exact integers. */
function exactLevel(
  balance: bigint,
  p: bigint,
  q: bigint,
  n: number,
  multiple: bigint,
  rounding: Rounding,
): bigint {
  if (p === 0n) return divideRounded(balance, BigInt(n) * multiple, rounding) * multiple;
  const grown = (q + p) ** BigInt(n);
  return (
    divideRounded(balance * p * grown, q * (grown - q ** BigInt(n)) * multiple, rounding) * multiple
  );
}

describe('the level instalment', () => {
  it('equals the exact closed form for random balances, rates, terms and multiples, in both rounding modes', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 100_000_000n }),
        fc.constantFrom(1, 2, 4, 12),
        fc.integer({ min: 1, max: 600 }),
        fc.constantFrom(1n, 5n, 8n, 100n, 1000n),
        fc.constantFrom('half_up' as const, 'half_even' as const),
        (balance, rate, periodsPerYear, n, multiple, rounding) => {
          const f = ratePerPeriod(rate as Rate, periodsPerYear);
          const got = levelInstalment(
            balance as Money,
            new Array(n).fill(f),
            multiple as Money,
            rounding,
          );
          expect(got).toBe(exactLevel(balance, f.numerator, f.denominator, n, multiple, rounding));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('settles exact ties by the rounding mode, where an estimate could not tell (0.03 at 100 %/yr over 2 years, multiple 0.08: A = 0.04)', () => {
    const yearly100 = [fraction(1n, 1n), fraction(1n, 1n)];
    expect(levelInstalment(3n as Money, yearly100, 8n as Money, 'half_up')).toBe(8n);
    expect(levelInstalment(3n as Money, yearly100, 8n as Money, 'half_even')).toBe(0n);
    // one period of 100 %: A = 2 × 0.25 = 0.50, exactly half of the 1.00 multiple
    expect(levelInstalment(25n as Money, [fraction(1n, 1n)], 100n as Money, 'half_up')).toBe(100n);
    expect(levelInstalment(25n as Money, [fraction(1n, 1n)], 100n as Money, 'half_even')).toBe(0n);
  });

  it('with periods of different lengths, solves B = Σ A / Π(1 + f_j) exactly (two periods: 1 % then 2 %)', () => {
    // 10,000 = A/1.01 + A/(1.01·1.02) → A = 10,000 · 1.01 · 1.02 / 2.02 = 5100.00
    expect(
      levelInstalment(
        1_000_000n as Money,
        [fraction(1n, 100n), fraction(2n, 100n)],
        1n as Money,
        'half_up',
      ),
    ).toBe(510_000n);
  });
});
