import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { DomainError, type FieldError } from '../domain/errors';

/**
 * What a JSON body may hold, beyond its 100 kB: no operation takes more than a few levels, a few
 * hundred values or a few dozen members, and bounding them bounds what parsing and validation can
 * cost (a body of 50,000 nested arrays took 50 ms to parse; 10,000 unknown members, 250 ms to validate).
 */
export const BODY_LIMITS = Object.freeze({ depth: 32, values: 1000, members: 100 });

const tooComplex = (message: string) =>
  new DomainError('invalid_request', `The request body is too complex: it ${message}.`, [
    { field: '', message },
  ]);

/**
 * Checks the raw JSON text against BODY_LIMITS before it is parsed: nesting depth, values in all,
 * members of one object. It reads the text once and does not validate it (JSON.parse does); inside
 * strings nothing counts.
 */
export function checkJsonStructure(text: string): void {
  const containers: { object: boolean; members: number }[] = [];
  let values = 0;
  let awaitingFirst = true; // the next non-blank character starts the document's, or a container's, first value
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    const closing = c === 0x5d || c === 0x7d;
    if (awaitingFirst && !closing) {
      values++;
      const top = containers.at(-1);
      if (top) top.members = 1;
    }
    awaitingFirst = false;
    if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (containers.push({ object: c === 0x7b, members: 0 }) > BODY_LIMITS.depth)
        throw tooComplex(`is nested deeper than ${BODY_LIMITS.depth} levels`);
      awaitingFirst = true;
    } else if (closing) {
      containers.pop();
    } else if (c === 0x2c) {
      values++;
      const top = containers.at(-1);
      if (top && ++top.members > BODY_LIMITS.members && top.object)
        throw tooComplex(`has an object with more than ${BODY_LIMITS.members} members`);
      awaitingFirst = false;
    }
    if (values > BODY_LIMITS.values)
      throw tooComplex(`holds more than ${BODY_LIMITS.values} values`);
  }
}

/**
 * express.json's `verify` hook: the structure check on the body's text. Only UTF-8 is taken (JSON
 * exchanged between systems is UTF-8, RFC 8259): a body in another charset would be read one way
 * here and another by the parser (UTF-16's byte order is guessed), and slip past the limits.
 */
export function verifyJsonStructure(
  _req: IncomingMessage,
  _res: unknown,
  body: Buffer,
  encoding: string,
): void {
  if (encoding.toLowerCase() !== 'utf-8' && encoding.toLowerCase() !== 'utf8') {
    throw new DomainError(
      'unsupported_media_type',
      `The request body's charset ${encoding} is not supported: send UTF-8.`,
    );
  }
  checkJsonStructure(body.toString('utf8'));
}

/** A NUL, or half of a UTF-16 surrogate pair: neither can be stored in PostgreSQL text or jsonb. */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorableFields(value: unknown, path: string, found: FieldError[]): void {
  if (typeof value === 'string') {
    if (UNSTORABLE.test(value))
      found.push({ field: path, message: 'contains a NUL character or an unpaired surrogate' });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) =>
      unstorableFields(item, path ? `${path}.${index}` : String(index), found),
    );
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const field = path ? `${path}.${key}` : key;
      if (UNSTORABLE.test(key))
        found.push({
          field,
          message: 'the name contains a NUL character or an unpaired surrogate',
        });
      unstorableFields(item, field, found);
    }
  }
}

/**
 * Refuses, as a 400 naming the field, any string of the parsed JSON body that the database could
 * not store, whatever the body's charset: such a string would otherwise fail half-way through a
 * transaction as a 500. (The body is at most BODY_LIMITS.depth deep: the recursion is bounded.)
 */
export const rejectUnstorableStrings: RequestHandler = (req, _res, next) => {
  const found: FieldError[] = [];
  unstorableFields(req.body, '', found);
  if (found.length > 0)
    throw new DomainError(
      'invalid_request',
      'The request body holds text that cannot be stored.',
      found,
    );
  next();
};
