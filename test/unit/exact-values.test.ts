import { oneOf } from '../../src/domain/one-of';
import { parseExactDecimal } from '../../src/domain/exact-decimal';

describe('values read back from the database', () => {
  it('oneOf types a text of the list and refuses any other, naming the column', () => {
    expect(oneOf(['active', 'repaid'] as const, 'repaid', 'loans.status')).toBe('repaid');
    expect(() => oneOf(['active', 'repaid'] as const, 'Active', 'loans.status')).toThrow(
      /loans\.status: "Active" is not one of active, repaid/,
    );
  });

  it('parseExactDecimal reads any decimal exactly, signed and past 15 digits, and nothing else', () => {
    expect(parseExactDecimal('123456789012345678901234.000001').toFixed()).toBe(
      '123456789012345678901234.000001',
    );
    expect(parseExactDecimal('-0.5').toFixed(3)).toBe('-0.500');
    for (const bad of ['', '1e3', '1.', '.5', ' 1', 'NaN'])
      expect(() => parseExactDecimal(bad)).toThrow();
  });
});
