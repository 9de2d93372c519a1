import type { Db } from '../db/connect';
import type { Actor } from '../http/auth';
import { findActorBySecretHash } from './api-keys.repository';

/** How long a key found stays trusted without asking the database again. */
const TRUSTED_FOR_MS = 2_000;
/** Keys remembered per database at most (the oldest is forgotten first). */
const MAX_KEYS = 10_000;

interface Remembered {
  readonly keys: Map<string, { actor: Actor; until: number }>;
  /** Moves on at every revocation: a lookup that began before one does not remember what it read. */
  revocations: number;
}

const remembered = new WeakMap<Db, Remembered>();

function rememberedOf(db: Db): Remembered {
  let state = remembered.get(db);
  if (!state) remembered.set(db, (state = { keys: new Map(), revocations: 0 }));
  return state;
}

/**
 * The caller behind an API key's hash (for authenticate()), if the key exists and is not revoked.
 * A key found is trusted for two seconds: a back office sending hundreds of requests a second costs
 * one lookup every two seconds, not one a request. Revoking a key forgets it at once in the process
 * that revoked it (forgetActor), lookups still running then included; another process serving the
 * same database refuses it at most two seconds later. Unknown keys are never remembered. The clock
 * is monotonic (performance.now), so that setting the wall clock back never stretches the trust.
 */
export async function findActor(db: Db, secretHash: string): Promise<Actor | undefined> {
  const state = rememberedOf(db);
  const now = performance.now();
  const known = state.keys.get(secretHash);
  if (known && known.until > now) return known.actor;
  state.keys.delete(secretHash);
  const revocations = state.revocations;
  const actor = await findActorBySecretHash(db, secretHash);
  if (actor && state.revocations === revocations) {
    if (state.keys.size >= MAX_KEYS) state.keys.delete(state.keys.keys().next().value!);
    state.keys.set(secretHash, { actor, until: now + TRUSTED_FOR_MS });
  }
  return actor;
}

/** Stops trusting a key at once (it was just revoked), and anything a lookup running now read. */
export function forgetActor(db: Db, keyId: string): void {
  const state = rememberedOf(db);
  state.revocations += 1;
  for (const [hash, { actor }] of state.keys) if (actor.keyId === keyId) state.keys.delete(hash);
}
