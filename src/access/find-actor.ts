import type { Db } from '../db/connect';
import type { Actor } from '../http/auth';
import { findActorBySecretHash } from './api-keys.repository';

/** The caller behind an API key's hash (for authenticate()), if the key exists and is not revoked. */
export function findActor(db: Db, secretHash: string): Promise<Actor | undefined> {
  return findActorBySecretHash(db, secretHash);
}
