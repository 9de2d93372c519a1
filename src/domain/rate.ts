/**
 * An annual rate in percent, held exactly as an integer count of millionths of a percent
 * ("3.5" → 3_500_000n): PostgreSQL stores rates as numeric(9,6). A different brand from Money,
 * so an amount cannot be used where a rate is expected.
 */
export type Rate = bigint & { readonly __brand: 'Rate' };

const RATE_DIGITS = 6;
const SCALE = 10n ** BigInt(RATE_DIGITS);
/** rate units per whole (1 = 100 %): percent → fraction and millionths → units. */
const RATE_UNITS_PER_ONE = 100n * SCALE;

export const RATE_INPUT = /^(0|[1-9]\d{0,2})(\.\d{1,6})?$/;
/** 100 %, in the same millionths of a percent: the most a rate, or a share such as a guarantee coverage, can be. */
export const MAX_PERCENT = (100n * SCALE) as Rate;
export const MAX_ANNUAL_RATE = MAX_PERCENT;

export function parseRate(text: string): Rate {
  const match = RATE_INPUT.exec(text);
  if (!match) throw new RangeError(`not a rate: ${JSON.stringify(text)}`);
  const fraction = (match[2] ?? '.').slice(1).padEnd(RATE_DIGITS, '0');
  return (BigInt(match[1]!) * SCALE + BigInt(fraction)) as Rate;
}

/** The shortest exact decimal: 3_500_000n → "3.5", 0n → "0". */
export function formatRate(rate: Rate): string {
  const whole = rate / SCALE;
  const fraction = (rate % SCALE).toString().padStart(RATE_DIGITS, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/**
 * An exact fraction of a whole, numerator / denominator (an interest fraction of one period).
 * The doubled terms are kept for multiplyRounded, which applies the fraction to every schedule row.
 */
export interface Fraction {
  readonly numerator: bigint;
  readonly denominator: bigint;
  readonly twiceNumerator: bigint;
  readonly twiceDenominator: bigint;
}

export function fraction(numerator: bigint, denominator: bigint): Fraction {
  return {
    numerator,
    denominator,
    twiceNumerator: 2n * numerator,
    twiceDenominator: 2n * denominator,
  };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** The same fraction in lowest terms (keeps the big-integer powers of the level instalment small). */
export function reduce(given: Fraction): Fraction {
  const divisor = gcd(given.numerator, given.denominator);
  return divisor <= 1n ? given : fraction(given.numerator / divisor, given.denominator / divisor);
}

/** annual rate × days / daysInYear, as an exact fraction of the principal. */
export function rateForDays(rate: Rate, days: number, daysInYear: number): Fraction {
  return fraction(rate * BigInt(days), RATE_UNITS_PER_ONE * BigInt(daysInYear));
}

/** annual rate / periods a year: the fraction of a whole period under 30E/360. */
export function ratePerPeriod(rate: Rate, periodsPerYear: number): Fraction {
  return fraction(rate, RATE_UNITS_PER_ONE * BigInt(periodsPerYear));
}
