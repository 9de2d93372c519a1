import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { DomainError } from '../domain/errors';

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

/** Sets req.actor from `Authorization: Bearer <key>`, or answers 401; public paths pass untouched. */
export function authenticate(options: { adminKeyHash: string | undefined; lookup: KeyLookup; publicPaths: ReadonlySet<string> }): RequestHandler {
  const admin = options.adminKeyHash ? Buffer.from(options.adminKeyHash) : undefined;
  return async (req, res, next) => {
    if (options.publicPaths.has(req.path)) {
      next();
      return;
    }
    const secret = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (secret === undefined) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new DomainError('unauthenticated', 'An API key is required: Authorization: Bearer <key>.');
    }
    const hash = hashSecret(secret);
    const actor = admin && timingSafeEqual(Buffer.from(hash), admin) ? ADMIN : await options.lookup(hash);
    if (!actor) {
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
