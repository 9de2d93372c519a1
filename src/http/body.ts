import type { RequestHandler } from 'express';
import { DomainError, type FieldError } from '../domain/errors';

/** A NUL, or half of a UTF-16 surrogate pair: neither can be stored in PostgreSQL text or jsonb. */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorableFields(value: unknown, path: string, found: FieldError[]): void {
  if (typeof value === 'string') {
    if (UNSTORABLE.test(value)) found.push({ field: path, message: 'contains a NUL character or an unpaired surrogate' });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => unstorableFields(item, path ? `${path}.${index}` : String(index), found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const field = path ? `${path}.${key}` : key;
      if (UNSTORABLE.test(key)) found.push({ field, message: 'the name contains a NUL character or an unpaired surrogate' });
      unstorableFields(item, field, found);
    }
  }
}

/**
 * Refuses, as a 400 naming the field, any string of the parsed JSON body that the database could
 * not store, whatever the body's charset: such a string would otherwise fail half-way through a
 * transaction as a 500.
 */
export const rejectUnstorableStrings: RequestHandler = (req, _res, next) => {
  const found: FieldError[] = [];
  unstorableFields(req.body, '', found);
  if (found.length > 0) throw new DomainError('invalid_request', 'The request body holds text that cannot be stored.', found);
  next();
};
