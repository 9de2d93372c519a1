import { DomainError } from '../domain/errors';

/** `limit` and `cursor` of a list request (limits are bounded by openapi.yaml). */
export interface Page {
  readonly limit: number;
  readonly after: string | undefined;
}

const DEFAULT_LIMIT = 50;

/** Cursors are opaque to clients: the last key of the previous page, base64url-encoded. */
const encodeCursor = (lastKey: string): string =>
  Buffer.from(lastKey, 'utf8').toString('base64url');

export const UUID_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const SERIAL_KEY = /^[1-9][0-9]{0,17}$/; // below PostgreSQL's bigint maximum

/** `keyPattern` is what a key of this list looks like: anything else in a cursor is forged. */
export function pageOf(query: { limit?: unknown; cursor?: unknown }, keyPattern: RegExp): Page {
  const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit);
  if (query.cursor === undefined) return { limit, after: undefined };
  const after = Buffer.from(String(query.cursor), 'base64url').toString('utf8');
  if (!keyPattern.test(after) || encodeCursor(after) !== query.cursor) {
    throw new DomainError('invalid_request', 'The cursor is not one this API gave.', [
      { field: 'cursor', message: 'is not a cursor from a previous page', in: 'query' },
    ]);
  }
  return { limit, after };
}

/** Fetch limit + 1 rows: the extra one tells whether there is a next page. */
export function pageResult<T>(
  rows: T[],
  page: Page,
  keyOf: (row: T) => string,
): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, page.limit);
  const next = rows.length > page.limit ? encodeCursor(keyOf(items[items.length - 1]!)) : null;
  return { items, next_cursor: next };
}
