import type { Request, Response } from 'express';
import { DomainError } from '../domain/errors';

/**
 * Strong ETags from a row's `version` (moved by a trigger whenever the stored row changes, so the
 * tag changes exactly when the resource does, not when its view is rendered differently).
 */
export const etagOf = (version: number) => `"v${version}"`;

export const setEtag = (res: Response, version: number): Response =>
  res.set('ETag', etagOf(version));

/** What the client sent in If-Match: undefined when absent (a PATCH without it applies). */
export const ifMatchOf = (req: Request): string | undefined => req.get('If-Match');

/**
 * RFC 9110 §13.1.1: `*` matches any current representation; otherwise one of the listed tags must
 * equal the current one under strong comparison (a weak `W/"…"` tag never matches). Call it on the
 * locked row, inside the transaction that writes it, so that the check and the write are one step.
 */
export function assertIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((tag) => tag.trim());
  if (tags.includes('*') || tags.includes(etagOf(version))) return;
  throw new DomainError(
    'precondition_failed',
    'The resource changed since it was read: read it again (its ETag) and repeat the change.',
    [{ field: 'If-Match', in: 'header', message: 'matches no current ETag of the resource' }],
  );
}
