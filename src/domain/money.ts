import type { Fraction } from './rate';

/**
 * Money is an exact count of minor units (cents for EUR) held in a `bigint`, branded so that
 * a bare bigint or a JS number cannot pass for it. Adding and subtracting cents is plain bigint
 * arithmetic; every operation that divides, and so rounds, is a named function below that takes
 * the rounding mode.
 *
 * Why integer minor units rather than decimal.js (DOMAIN.md allows either): every schedule row
 * does a few additions and one rounded multiplication, exact on bigints and several times faster
 * than Decimal objects; and the level instalment, the one formula with powers and division, is an
 * exact quotient of big integers (level-instalment.ts), so no amount ever depends on a precision
 * setting. A JS `number` never holds an amount.
 */
export type Money = bigint & { readonly __brand: 'Money' };

export const ROUNDINGS = ['half_up', 'half_even'] as const;
export type Rounding = (typeof ROUNDINGS)[number];

/** Digits after the decimal point of the currencies we support (EUR). */
const MINOR_DIGITS = 2;

/** Non-negative amount with at most two decimals, as accepted on input ("1250", "1250.5", "1250.50"). */
export const MONEY_INPUT = /^(0|[1-9]\d{0,11})(\.\d{1,2})?$/;

export const ZERO = 0n as Money;
/** The largest amount PostgreSQL's numeric(14,2) holds: 999,999,999,999.99. */
export const MAX_AMOUNT = 99_999_999_999_999n as Money;

export const cents = (value: bigint): Money => value as Money;

export function parseMoney(text: string): Money {
  if (!MONEY_INPUT.test(text)) throw new RangeError(`not an amount: ${JSON.stringify(text)}`);
  const dot = text.indexOf('.');
  // "1250.5" → 125050n: the digits with the fraction padded to the minor unit, read as one integer.
  return BigInt(
    dot < 0
      ? text + '0'.repeat(MINOR_DIGITS)
      : text.slice(0, dot) + text.slice(dot + 1).padEnd(MINOR_DIGITS, '0'),
  ) as Money;
}

/**
 * Any exact amount PostgreSQL prints with at most two decimals, signed and of any size: sums and
 * totals, which are not inputs and may exceed what one numeric(14,2) column holds.
 */
const DECIMAL_AMOUNT = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;
export function parseDecimalAmount(text: string): Money {
  const match = DECIMAL_AMOUNT.exec(text);
  if (!match) throw new RangeError(`not an amount: ${JSON.stringify(text)}`);
  const magnitude = BigInt(match[2]! + (match[3] ?? '').padEnd(MINOR_DIGITS, '0'));
  return (match[1] ? -magnitude : magnitude) as Money;
}

/** An amount that may be negative, as PostgreSQL prints a signed numeric ("-12.50"). */
export const parseSignedMoney = (text: string): Money =>
  text.startsWith('-') ? cents(-parseMoney(text.slice(1))) : parseMoney(text);

/** "1250.00": always exactly two decimals, a leading "-" for negatives. */
export function formatMoney(amount: Money): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(MINOR_DIGITS + 1, '0');
  const cut = digits.length - MINOR_DIGITS;
  return `${negative ? '-' : ''}${digits.slice(0, cut)}.${digits.slice(cut)}`;
}

/**
 * numerator / denominator rounded to an integer with the loan's rounding mode:
 * half_up rounds ties away from zero (0.005 → 0.01), half_even to the even neighbour.
 */
export function divideRounded(numerator: bigint, denominator: bigint, rounding: Rounding): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  if (numerator < 0n) return -divideRounded(-numerator, denominator, rounding); // both modes are symmetric
  // floor((2n + d) / 2d) is n/d rounded half up: one big-integer division instead of two (hot path).
  const shifted = 2n * numerator + denominator;
  const twice = 2n * denominator;
  const quotient = shifted / twice;
  if (rounding === 'half_even' && (quotient & 1n) === 1n && quotient * twice === shifted)
    return quotient - 1n;
  return quotient;
}

/**
 * amount × fraction rounded to the cent: how a period's interest is computed.
 * Deliberately not a call to divideRounded, which also sees the thousand-digit integers of the
 * level instalment: V8 compiles a function's bigint arithmetic to machine integers only while every
 * value it has met fits in 64 bits, and this runs once per schedule row (4× faster for it).
 */
export function multiplyRounded(amount: Money, by: Fraction, rounding: Rounding): Money {
  if (amount < 0n) return -multiplyRounded(-amount as Money, by, rounding) as Money;
  const shifted = amount * by.twiceNumerator + by.denominator;
  const quotient = shifted / by.twiceDenominator;
  if (
    rounding === 'half_even' &&
    (quotient & 1n) === 1n &&
    quotient * by.twiceDenominator === shifted
  )
    return (quotient - 1n) as Money;
  return quotient as Money;
}

/** Rounds an exact fraction of cents to the nearest multiple of `multiple` (e.g. 100n for whole euros). */
export function roundToMultiple(
  numerator: bigint,
  denominator: bigint,
  multiple: Money,
  rounding: Rounding,
): Money {
  return (divideRounded(numerator, denominator * multiple, rounding) * multiple) as Money;
}
