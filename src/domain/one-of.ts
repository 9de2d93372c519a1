/**
 * A stored text that must be one of a closed list (a column with a CHECK or a domain), typed: a row
 * with anything else is a bug, so it throws, naming the column.
 */
export function oneOf<const T extends string>(
  allowed: readonly T[],
  value: string,
  what: string,
): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new RangeError(`${what}: ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  return value as T;
}
