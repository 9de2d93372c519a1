import fc from 'fast-check';
import {
  divideRounded,
  formatMoney,
  multiplyRounded,
  parseDecimalAmount,
  parseMoney,
  roundToMultiple,
  type Money,
} from '../../src/domain/money';
import { formatRate, fraction, parseRate } from '../../src/domain/rate';

describe('money', () => {
  it.each([
    ['0', '0.00'],
    ['0.01', '0.01'],
    ['1250', '1250.00'],
    ['1250.5', '1250.50'],
    ['99999999.99', '99999999.99'],
    ['999999999999.99', '999999999999.99'],
  ])('parses %s and writes it back as %s', (input, output) => {
    expect(formatMoney(parseMoney(input))).toBe(output);
  });

  it.each([
    '1e3',
    '-5.00',
    '+5',
    '1.234',
    '01.00',
    '.5',
    '5.',
    ' 5',
    '5 ',
    '',
    '1,00',
    'NaN',
    '1000000000000.00',
  ])('refuses %j as an amount', (input) => {
    expect(() => parseMoney(input)).toThrow(RangeError);
  });

  it('writes negative amounts with a leading minus', () => {
    expect(formatMoney(-5n as Money)).toBe('-0.05');
    expect(formatMoney(-123456n as Money)).toBe('-1234.56');
  });

  it('round-trips every amount with two decimals', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 99_999_999_999_999n }), (units) => {
        expect(parseMoney(formatMoney(units as Money))).toBe(units);
      }),
    );
  });
});

describe('sums and totals as PostgreSQL prints them', () => {
  it('are read exactly whatever their size and sign, past what one amount column holds', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), (units) => {
        expect(parseDecimalAmount(formatMoney(units as Money))).toBe(units);
      }),
    );
    expect(parseDecimalAmount('1200000000000')).toBe(120000000000000n);
    expect(parseDecimalAmount('-0.5')).toBe(-50n);
  });

  it.each(['', '-', '1.234', '1e3', '+5', ' 5', '5.', '.5', 'NaN'])('refuses %j', (input) => {
    expect(() => parseDecimalAmount(input)).toThrow(RangeError);
  });
});

describe('rounding to an integer', () => {
  it.each([
    // numerator, denominator, half_up, half_even
    [5n, 10n, 1n, 0n], // 0.5
    [15n, 10n, 2n, 2n], // 1.5
    [25n, 10n, 3n, 2n], // 2.5: half_even goes to the even neighbour
    [-5n, 10n, -1n, 0n], // -0.5: half_up is away from zero
    [-25n, 10n, -3n, -2n],
    [14n, 10n, 1n, 1n],
    [16n, 10n, 2n, 2n],
    [-16n, 10n, -2n, -2n],
    [0n, 7n, 0n, 0n],
  ])('%d / %d → %d (half_up), %d (half_even)', (n, d, up, even) => {
    expect(divideRounded(n, d, 'half_up')).toBe(up);
    expect(divideRounded(n, d, 'half_even')).toBe(even);
  });

  it('multiplyRounded agrees with divideRounded for every sign and tie', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }),
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.bigInt({ min: 1n, max: 10n ** 11n }),
        fc.constantFrom('half_up' as const, 'half_even' as const),
        (amount, numerator, denominator, rounding) => {
          expect(multiplyRounded(amount as Money, fraction(numerator, denominator), rounding)).toBe(
            divideRounded(amount * numerator, denominator, rounding),
          );
        },
      ),
    );
  });

  it('stays within half a unit of the exact quotient', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        (n, d) => {
          for (const rounding of ['half_up', 'half_even'] as const) {
            const error = divideRounded(n, d, rounding) * d - n; // d × (rounded − exact)
            expect(2n * (error < 0n ? -error : error) <= d).toBe(true);
          }
        },
      ),
    );
  });

  it('rounds to a multiple: 888.4878… to whole euros is 888.00, 1250.50 is 1251.00 half up and 1250.00 half even', () => {
    expect(roundToMultiple(8884878n, 100n, 100n as Money, 'half_up')).toBe(88800n); // 88848.78 cents
    expect(roundToMultiple(125050n, 1n, 100n as Money, 'half_up')).toBe(125100n);
    expect(roundToMultiple(125050n, 1n, 100n as Money, 'half_even')).toBe(125000n);
  });
});

describe('rates', () => {
  it.each([
    ['3.5', '3.5'],
    ['0', '0'],
    ['100', '100'],
    ['3.500000', '3.5'],
    ['0.000001', '0.000001'],
    ['12.25', '12.25'],
  ])('parses %s exactly and writes it as %s', (input, output) => {
    expect(formatRate(parseRate(input))).toBe(output);
  });

  it.each(['1e1', '-1', '3.1234567', '1000', '.5', ''])('refuses %j as a rate', (input) => {
    expect(() => parseRate(input)).toThrow(RangeError);
  });
});
