import type { Db } from '../db/connect';
import type { Actor } from '../http/auth';
import { findActorBySecretHash } from './api-keys.repository';

/** How long a key found stays trusted without asking the database again. */
const TRUSTED_FOR_MS = 2_000;
/** Keys remembered per database at most (the oldest is forgotten first). */
const MAX_KEYS = 10_000;

const remembered = new WeakMap<Db, Map<string, { actor: Actor; until: number }>>();

/**
 * The caller behind an API key's hash (for authenticate()), if the key exists and is not revoked.
 * A key found is trusted for two seconds: a back office sending hundreds of requests a second costs
 * one lookup every two seconds, not one a request. Revoking a key forgets it at once in the process
 * that revoked it (forgetActor); another process serving the same database refuses it at most two
 * seconds later. Unknown keys are never remembered.
 */
export async function findActor(db: Db, secretHash: string): Promise<Actor | undefined> {
  let keys = remembered.get(db);
  if (!keys) remembered.set(db, keys = new Map());
  const now = Date.now();
  const known = keys.get(secretHash);
  if (known && known.until > now) return known.actor;
  keys.delete(secretHash);
  const actor = await findActorBySecretHash(db, secretHash);
  if (actor) {
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!);
    keys.set(secretHash, { actor, until: now + TRUSTED_FOR_MS });
  }
  return actor;
}

/** Stops trusting a key at once (it was just revoked). */
export function forgetActor(db: Db, keyId: string): void {
  const keys = remembered.get(db);
  if (!keys) return;
  for (const [hash, { actor }] of keys) if (actor.keyId === keyId) keys.delete(hash);
}
