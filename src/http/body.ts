import type { IncomingMessage } from 'node:http';

/**
 * PostgreSQL text cannot hold the NUL character: a body that escapes one ("\u0000") is refused
 * up front as a 400 rather than failing half-way through a transaction.
 */
export function rejectNulCharacters(_req: IncomingMessage, _res: unknown, raw: Buffer): void {
  if (/\\u0000/i.test(raw.toString('utf8'))) {
    throw Object.assign(new Error('strings must not contain the NUL character (\\u0000)'), { status: 400, expose: true, type: 'entity.verify.failed' });
  }
}
