import * as repository from '../../src/access/api-keys.repository';
import { findActor, forgetActor } from '../../src/access/find-actor';
import type { Db } from '../../src/db/connect';

// The cache's own logic, with the repository's lookup held back to order events; the integration
// tests (test/integration/api-keys.test.ts) show it on PostgreSQL.
describe('trusting API keys for two seconds (src/access/find-actor.ts)', () => {
  const actor = { keyId: 'k1', role: 'manager' as const, fundId: 'f', structureId: null };
  afterEach(() => jest.restoreAllMocks());

  it('a lookup still running when the key is revoked does not remember what it read', async () => {
    const db = {} as Db;
    let release!: (found: typeof actor | undefined) => void;
    const lookup = jest.spyOn(repository, 'findActorBySecretHash').mockImplementationOnce(
      () =>
        new Promise((resolve) => {
          release = resolve;
        }),
    );
    const inFlight = findActor(db, 'hash'); // its SELECT began before the revocation committed
    forgetActor(db, 'k1'); // the revocation committed and answered
    release(actor); // the SELECT answers with the key as its snapshot saw it
    expect(await inFlight).toEqual(actor);
    lookup.mockResolvedValue(undefined); // the database now says: revoked
    expect(await findActor(db, 'hash')).toBeUndefined();
  });

  it('a key found is asked for again only after two seconds, and an unknown key every time', async () => {
    const db = {} as Db;
    const lookup = jest
      .spyOn(repository, 'findActorBySecretHash')
      .mockImplementation(async (_db, hash) => (hash === 'known' ? actor : undefined));
    const start = performance.now();
    const clock = jest.spyOn(performance, 'now').mockReturnValue(start);
    await findActor(db, 'known');
    clock.mockReturnValue(start + 1_999);
    expect(await findActor(db, 'known')).toEqual(actor);
    expect(lookup).toHaveBeenCalledTimes(1);
    clock.mockReturnValue(start + 2_001);
    await findActor(db, 'known');
    expect(lookup).toHaveBeenCalledTimes(2);
    await findActor(db, 'unknown');
    await findActor(db, 'unknown');
    expect(lookup).toHaveBeenCalledTimes(4);
  });
});
