import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { DomainError } from '../domain/errors';
import {
  clientAddress,
  countAgainstQuotas,
  refuseIfBlocked,
  type Counted,
  type RateLimiters,
} from './rate-limit';

export type Role = 'admin' | 'manager' | 'auditor' | 'structure';

/** Who is calling: the key and its scope (a fund for managers and auditors, a structure for structures). */
export interface Actor {
  readonly keyId: string;
  readonly role: Role;
  readonly fundId: string | null;
  readonly structureId: string | null;
}

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}

export const ADMIN: Actor = Object.freeze({
  keyId: 'admin',
  role: 'admin',
  fundId: null,
  structureId: null,
});

/** Keys are 256-bit random secrets, so a plain SHA-256 is enough to store and look them up. */
export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

export type KeyLookup = (secretHash: string) => Promise<Actor | undefined>;

const BEARER = /^Bearer +([\x21-\x7e]{1,256})$/i; // the scheme is case-insensitive (RFC 9110)

/**
 * The family a presented key is counted in: its first 7 characters, "sk_" and 4 of the random ones
 * (one family in 64⁴, about 16.7 million). "sk_" alone would make one counter for every key, which
 * anyone could fill to lock every client out; the whole key would never repeat for someone trying
 * keys at random. Four characters catch the same wrong, revoked or half-known key tried from many
 * addresses, while locking a key out this way takes knowing 4 of its secret characters. They are
 * part of the secret: never logged, and hashed before they name a Redis key (which keeps them out of
 * key listings, not from someone who reads Redis and tries the 64⁴ families).
 */
const keyFamily = (secret: string) => hashSecret(secret.slice(0, 7)).slice(0, 32);

/**
 * The API: the paths under /v1/, in any case (Express matches routes without it). Only there is a
 * key asked for, whatever the path, so that a 401 or a 404 never tells who has no key which API
 * routes exist; elsewhere nothing needs a key, and an unknown path is a plain 404.
 */
export const isApiPath = (path: string) => /^\/v1(\/|$)/i.test(path);

/**
 * Sets req.actor from `Authorization: Bearer <key>`, or answers 401; public paths pass untouched.
 * Only failures count (no counter is reset by a success: one valid key must not clear an address's
 * failures), against the client's address and, when a key was given, its family. Past a limit:
 * - an address gets 429 for its failures only: its valid keys are still served, for many clients may
 *   share one address (a proxy, an office) and one stale key must not lock them all out;
 * - a key family gets 429 before its lookup, a correct key included (as an account is locked after
 *   failed logins), which takes knowing 4 of the key's secret characters to provoke.
 * The check of a block reads this process's memory, so a successful authentication costs no Redis
 * call. With several API processes on one Redis, a process learns of a block from its own next
 * failure, which Redis counts over the quota (a 429): at most one more failure per process gets a 401.
 */
export function authenticate(options: {
  adminKeyHash: string | undefined;
  lookup: KeyLookup;
  publicPaths: ReadonlySet<string>;
  limiters: RateLimiters;
}): RequestHandler {
  const admin = options.adminKeyHash ? Buffer.from(options.adminKeyHash) : undefined;
  return async (req, res, next) => {
    if (options.publicPaths.has(req.path)) {
      next();
      return;
    }
    const secret = BEARER.exec(req.headers.authorization ?? '')?.[1];
    const byFamily: Counted[] =
      secret === undefined
        ? []
        : [{ limiter: options.limiters.authFailuresPerKeyPrefix, key: keyFamily(secret) }];
    refuseIfBlocked(res, byFamily);
    const hash = secret === undefined ? undefined : hashSecret(secret);
    const actor =
      hash === undefined
        ? undefined
        : admin && timingSafeEqual(Buffer.from(hash), admin)
          ? ADMIN
          : await options.lookup(hash);
    if (actor) {
      req.actor = actor;
      next();
      return;
    }
    const failed = [
      { limiter: options.limiters.authFailuresPerAddress, key: clientAddress(req) },
      ...byFamily,
    ];
    refuseIfBlocked(res, failed);
    await countAgainstQuotas(res, failed);
    if (secret === undefined) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new DomainError(
        'unauthenticated',
        'An API key is required: Authorization: Bearer <key>.',
      );
    }
    res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
    throw new DomainError('unauthenticated', 'This API key is unknown or revoked.');
  };
}

export function actorOf(req: Request): Actor {
  if (!req.actor) throw new Error('route mounted without authenticate()');
  return req.actor;
}

/** What a route needs from the request besides its input: who, and under which request id. */
export interface RequestContext {
  readonly actor: Actor;
  readonly requestId: string;
}

export const contextOf = (req: Request): RequestContext => ({
  actor: actorOf(req),
  requestId: String(req.id ?? ''),
});

/** May this key read the fund's data (its products, structures, loans, ledger, audit trail)? */
export function seesFund(actor: Actor, fundId: string): boolean {
  return (
    actor.role === 'admin' ||
    ((actor.role === 'manager' || actor.role === 'auditor') && actor.fundId === fundId)
  );
}

/** May this key read this structure and its loans? */
export function seesStructure(actor: Actor, fundId: string, structureId: string): boolean {
  return (
    seesFund(actor, fundId) || (actor.role === 'structure' && actor.structureId === structureId)
  );
}

/** May this key read what belongs to the fund itself (`structureId` null) or to one of its structures? */
export function seesOwner(actor: Actor, fundId: string, structureId: string | null): boolean {
  return structureId === null ? seesFund(actor, fundId) : seesStructure(actor, fundId, structureId);
}

/** Writes are for admins and managers; inside its scope, any other role gets a 403. */
export function assertCanWrite(actor: Actor): void {
  if (actor.role !== 'admin' && actor.role !== 'manager')
    throw new DomainError('forbidden', `A ${actor.role} key is read-only.`);
}

/**
 * What part of a list a key may see: one fund (a manager's or auditor's own, or the one an admin
 * names), its own structure (a structure key), or everything (an admin naming no fund). Naming a
 * fund outside the key's scope is a 404.
 */
export function listScope(
  actor: Actor,
  requestedFundId: string | undefined,
): { fundId?: string; structureId?: string } {
  const ownStructureFund = actor.role === 'structure' && actor.fundId === requestedFundId;
  if (requestedFundId !== undefined && !seesFund(actor, requestedFundId) && !ownStructureFund)
    throw new DomainError('not_found', 'No such fund.');
  if (actor.role === 'structure') return { structureId: actor.structureId ?? undefined };
  const fundId = requestedFundId ?? actor.fundId ?? undefined;
  return fundId === undefined ? {} : { fundId };
}
