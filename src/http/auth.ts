import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { DomainError } from '../domain/errors';
import { clientAddress, countAgainstQuotas, refuseIfBlocked, type Counted, type RateLimiters } from './rate-limit';

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

export const ADMIN: Actor = Object.freeze({ keyId: 'admin', role: 'admin', fundId: null, structureId: null });

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

/** What a failed authentication counts against: the client's address, and the key's family if a key was given. */
function failureCounters(limiters: RateLimiters, req: Request, secret: string | undefined): Counted[] {
  const byAddress = { limiter: limiters.authFailuresPerAddress, key: clientAddress(req) };
  return secret === undefined ? [byAddress] : [byAddress, { limiter: limiters.authFailuresPerKeyPrefix, key: keyFamily(secret) }];
}

/**
 * Sets req.actor from `Authorization: Bearer <key>`, or answers 401; public paths pass untouched.
 * Only failures count (no counter is reset by a success: one valid key must not clear an address's
 * failures). A client over a limit gets 429 before its key is looked up, a correct key included; that
 * check reads this process's memory, so a successful authentication costs no Redis call. With several
 * API processes on one Redis, a process learns of a block from its own next failure, which Redis
 * counts over the quota (a 429): until then, at most that one more try per process reaches the lookup,
 * and correct keys get through on it.
 */
export function authenticate(options: {
  adminKeyHash: string | undefined; lookup: KeyLookup; publicPaths: ReadonlySet<string>; limiters: RateLimiters;
}): RequestHandler {
  const admin = options.adminKeyHash ? Buffer.from(options.adminKeyHash) : undefined;
  return async (req, res, next) => {
    if (options.publicPaths.has(req.path)) {
      next();
      return;
    }
    const secret = BEARER.exec(req.headers.authorization ?? '')?.[1];
    const counted = failureCounters(options.limiters, req, secret);
    refuseIfBlocked(res, counted);
    if (secret === undefined) {
      await countAgainstQuotas(res, counted);
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new DomainError('unauthenticated', 'An API key is required: Authorization: Bearer <key>.');
    }
    const hash = hashSecret(secret);
    const actor = admin && timingSafeEqual(Buffer.from(hash), admin) ? ADMIN : await options.lookup(hash);
    if (!actor) {
      await countAgainstQuotas(res, counted);
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new DomainError('unauthenticated', 'This API key is unknown or revoked.');
    }
    req.actor = actor;
    next();
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

export const contextOf = (req: Request): RequestContext => ({ actor: actorOf(req), requestId: String(req.id ?? '') });

/** May this key read the fund's data (its products, structures, loans, ledger, audit trail)? */
export function seesFund(actor: Actor, fundId: string): boolean {
  return actor.role === 'admin' || ((actor.role === 'manager' || actor.role === 'auditor') && actor.fundId === fundId);
}

/** May this key read this structure and its loans? */
export function seesStructure(actor: Actor, fundId: string, structureId: string): boolean {
  return seesFund(actor, fundId) || (actor.role === 'structure' && actor.structureId === structureId);
}

/** Writes are for admins and managers; inside its scope, any other role gets a 403. */
export function assertCanWrite(actor: Actor): void {
  if (actor.role !== 'admin' && actor.role !== 'manager') throw new DomainError('forbidden', `A ${actor.role} key is read-only.`);
}

/**
 * What part of a list a key may see: one fund (a manager's or auditor's own, or the one an admin
 * names), its own structure (a structure key), or everything (an admin naming no fund). Naming a
 * fund outside the key's scope is a 404.
 */
export function listScope(actor: Actor, requestedFundId: string | undefined): { fundId?: string; structureId?: string } {
  const ownStructureFund = actor.role === 'structure' && actor.fundId === requestedFundId;
  if (requestedFundId !== undefined && !seesFund(actor, requestedFundId) && !ownStructureFund) throw new DomainError('not_found', 'No such fund.');
  if (actor.role === 'structure') return { structureId: actor.structureId ?? undefined };
  const fundId = requestedFundId ?? actor.fundId ?? undefined;
  return fundId === undefined ? {} : { fundId };
}
