import Decimal from 'decimal.js';
import fc from 'fast-check';
import { parseExactDecimal } from '../../src/domain/exact-decimal';
import { fundMix, hundredth, perDay, sumsToHundred, toCents } from '../../src/domain/funding-split';

describe("the fund's mix (largest remainder, 6 decimals)", () => {
  it('three equal sources: the first listed gets the last millionth', () => {
    const mix = fundMix([
      { sourceId: 'a', committed: '100.00' },
      { sourceId: 'b', committed: '100.00' },
      { sourceId: 'c', committed: '100.00' },
    ]);
    expect(mix.map((s) => s.percent)).toEqual(['33.333334', '33.333333', '33.333333']);
  });

  it('the millionth goes to the share that lost most to the cut, not to the first', () => {
    // 1/7 = 14.2857142857…%, 2/7 = 28.5714285714…%, 4/7 = 57.1428571428…%: cuts lose 0.28…, 0.57…, 0.14… millionths
    const mix = fundMix([
      { sourceId: 'a', committed: '1' },
      { sourceId: 'b', committed: '2' },
      { sourceId: 'c', committed: '4' },
    ]);
    expect(mix.map((s) => s.percent)).toEqual(['14.285714', '28.571429', '57.142857']);
  });

  it('no source, or nothing committed: no split', () => {
    expect(fundMix([])).toEqual([]);
  });

  it('a source under a millionth of a percent of the fund gets no share (a share is above 0)', () => {
    const mix = fundMix([
      { sourceId: 'big', committed: '999999999999.99' },
      { sourceId: 'tiny', committed: '1.00' },
    ]);
    expect(mix).toEqual([{ sourceId: 'big', percent: '100.000000' }]);
  });

  it('always sums to exactly 100, each share within a millionth of its exact value (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 99_999_999_999 }), { minLength: 1, maxLength: 12 }),
        (amounts) => {
          const sources = amounts.map((cents, i) => ({
            sourceId: String(i),
            committed: new Decimal(cents).dividedBy(100).toFixed(2),
          }));
          const mix = fundMix(sources);
          const total = amounts.reduce((sum, a) => sum.plus(a), new Decimal(0));
          expect(sumsToHundred(mix)).toBe(true);
          const percentOf = new Map(mix.map((s) => [s.sourceId, s.percent]));
          amounts.forEach((cents, i) => {
            // a source left out had a share of 0: under a millionth
            const exact = new Decimal(cents).times(100).dividedBy(total);
            expect(
              new Decimal(percentOf.get(String(i)) ?? 0).minus(exact).abs().lessThan('0.000001'),
            ).toBe(true);
          });
          expect(mix.every((s) => new Decimal(s.percent).greaterThan(0))).toBe(true);
        },
      ),
    );
  });
});

describe("a source's share of a figure", () => {
  it('is exact (Σ figure × percent / 100), rounded half-up once: sources may miss the total by a cent', () => {
    // Two loans, 755500.00 at 60 / 40 and 380000.00 at 33.333333 / 66.666667: the SQL sums figure × percent.
    const erdf = hundredth(parseExactDecimal('57996666.54000000')); // 755500.00 × 60 + 380000.00 × 33.333333
    const region = hundredth(parseExactDecimal('55553333.46000000')); // 755500.00 × 40 + 380000.00 × 66.666667
    expect([erdf.toFixed(), region.toFixed()]).toEqual(['579966.6654', '555533.3346']);
    expect([toCents(perDay(erdf, 90)), toCents(perDay(region, 90))]).toEqual([
      '6444.07',
      '6172.59',
    ]);
    expect(toCents(perDay(parseExactDecimal('1135500'), 90))).toBe('12616.67'); // the total: one cent more than the sources' sum
    expect(toCents(parseExactDecimal('-0.005'))).toBe('-0.01');
    expect(toCents(parseExactDecimal('-0.000001'))).toBe('-0.00'); // a negative share under half a cent keeps its sign
  });
});
