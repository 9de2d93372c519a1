import { DomainError } from '../domain/errors';

/** An instant from the query, as a Date: the contract lets a leap second through (…T23:59:60Z), which Date cannot read. */
export function instantFromQuery(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const instant = new Date(value);
  if (!Number.isNaN(instant.getTime())) return instant;
  throw new DomainError('invalid_request', `${field} is not an instant this service can read.`, [
    {
      field,
      in: 'query',
      message: 'must be an RFC 3339 instant without a leap second, e.g. 2025-01-31T23:59:59Z',
    },
  ]);
}
