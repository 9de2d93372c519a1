import Decimal from 'decimal.js';
import type { Money } from './money';

/**
 * Exact decimals that are neither amounts nor rates (jobs in FTE, funding percentages, ratios):
 * one configured clone of decimal.js, 40 significant digits, never an exponent in its text.
 */
export const ExactDecimal = Decimal.clone({
  precision: 40,
  rounding: Decimal.ROUND_HALF_UP,
  toExpNeg: -40,
  toExpPos: 40,
});
export type ExactDecimal = InstanceType<typeof ExactDecimal>;

/** An amount in euros, exactly (cents / 100): what ratios and shares of amounts divide. */
export const eurosOf = (amount: Money): ExactDecimal =>
  new ExactDecimal(amount.toString()).dividedBy(100);

/** Any decimal PostgreSQL prints ("-12.500", "3"), exactly; a text that is not one is a bug, and throws. */
export function parseExactDecimal(text: string): ExactDecimal {
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`);
  return new ExactDecimal(text);
}
