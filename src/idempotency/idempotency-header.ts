import type { Request, Response } from 'express';
import { actorOf } from '../http/auth';
import type { IdempotentRequest, StoredResponse } from './run-idempotently';

/**
 * The request's `Idempotency-Key` (openapi.yaml checks its form), scoped to the calling API key, with
 * what makes two requests under it the same: method, path and body. Undefined without the header.
 */
export function idempotencyOf(req: Request): IdempotentRequest | undefined {
  const key = req.get('Idempotency-Key');
  if (key === undefined) return undefined;
  return { owner: actorOf(req).keyId, key, fingerprint: { method: req.method, path: req.path, body: (req.body as unknown) ?? null } };
}

/** Sends a use case's answer, first or replayed (then with `Idempotency-Replayed: true`), as it was. */
export function sendStored(res: Response, stored: StoredResponse): void {
  if (stored.replayed) res.setHeader('Idempotency-Replayed', 'true');
  res.status(stored.status).json(stored.body);
}
