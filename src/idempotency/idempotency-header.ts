import type { Request, Response } from 'express';
import { DomainError } from '../domain/errors';
import { actorOf } from '../http/auth';
import type { IdempotentRequest, StoredResponse } from './run-idempotently';

/**
 * The request's `Idempotency-Key` (openapi.yaml checks its form), scoped to the calling API key, with
 * what makes two requests under it the same: method, path and body. Undefined without the header.
 */
export function idempotencyOf(req: Request): IdempotentRequest | undefined {
  const key = req.get('Idempotency-Key');
  if (key === undefined) return undefined;
  return {
    owner: actorOf(req).keyId,
    key,
    fingerprint: { method: req.method, path: req.path, body: (req.body as unknown) ?? null },
  };
}

/** Sends a use case's answer, first or replayed (then with `Idempotency-Replayed: true`), as it was. */
export function sendStored(res: Response, stored: StoredResponse): void {
  if (stored.replayed) res.setHeader('Idempotency-Replayed', 'true');
  res.status(stored.status).json(stored.body);
}

/**
 * A creation that shows a secret once (an API key, a webhook endpoint's signing secret) keeps its
 * answer without the secret: a bearer secret must not lie in plain text among stored responses. Its
 * replay is a 409 naming what the first request made, and how to get a secret again.
 */
export function refuseSecretReplay(
  stored: StoredResponse<{ id: string }>,
  what: string,
  advice: string,
): void {
  if (!stored.replayed) return;
  throw new DomainError(
    'conflict',
    `This Idempotency-Key already created ${what} ${stored.body.id}; its secret was shown once, in that answer, and is not kept: ${advice}.`,
  );
}
