import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { ADMIN_KEY, testApp } from '../support/app';
import { testDb } from '../support/db';
import {
  as,
  createKey,
  createStructure,
  fieldsOf,
  fundWithManager,
  unique,
} from '../support/portfolio';

let app: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  app = await testApp();
});

describe('issuing a key', () => {
  it('shows the secret once, in the 201; never in a GET or a list', async () => {
    const { fund } = await fundWithManager(app);
    const label = unique('Trésorière du fonds');
    const res = await as(app, ADMIN_KEY).post('/v1/api-keys', {
      role: 'manager',
      fund_id: fund.id,
      label,
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/api-keys/${res.body.id}`);
    expect(res.body).toMatchObject({
      role: 'manager',
      fund_id: fund.id,
      structure_id: null,
      label,
      revoked_at: null,
    });
    expect(res.body.secret).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);

    const fetched = await as(app, ADMIN_KEY).get(res.headers.location!);
    expect(fetched.status).toBe(200);
    expect(fetched.body).not.toHaveProperty('secret');
    const { secret, ...withoutSecret } = res.body;
    expect(fetched.body).toEqual(withoutSecret);
    const listed = await as(app, ADMIN_KEY).get(`/v1/api-keys?fund_id=${fund.id}`);
    expect(listed.body.items).toContainEqual(withoutSecret);
    expect(JSON.stringify([fetched.body, listed.body])).not.toContain(secret);
  });

  it('the new key works at once: a manager key reads its fund', async () => {
    const { fund, manager } = await fundWithManager(app);
    const res = await as(app, manager.secret).get(`/v1/funds/${fund.id}`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(fund.id);
  });

  it('a manager issues an auditor key and a structure key inside its own fund', async () => {
    const { fund, manager } = await fundWithManager(app);
    const structure = await createStructure(app, fund.id, manager.secret);
    const auditor = await as(app, manager.secret).post('/v1/api-keys', {
      role: 'auditor',
      fund_id: fund.id,
      label: unique('Commissaire aux comptes'),
    });
    expect(auditor.status).toBe(201);
    expect(auditor.body).toMatchObject({ role: 'auditor', fund_id: fund.id, structure_id: null });
    const portal = await as(app, manager.secret).post('/v1/api-keys', {
      role: 'structure',
      structure_id: structure.id,
      label: unique('Portail partenaire'),
    });
    expect(portal.status).toBe(201);
    expect(portal.body).toMatchObject({
      role: 'structure',
      fund_id: fund.id,
      structure_id: structure.id,
    });

    expect((await as(app, auditor.body.secret).get(`/v1/funds/${fund.id}`)).status).toBe(200);
    expect((await as(app, portal.body.secret).get(`/v1/structures/${structure.id}`)).status).toBe(
      200,
    );
  });

  it('a manager cannot issue a key for another fund, nor for its structures: 404 as if they did not exist', async () => {
    const { manager } = await fundWithManager(app);
    const other = await fundWithManager(app);
    const foreignStructure = await createStructure(app, other.fund.id, other.manager.secret);

    const forFund = await as(app, manager.secret).post('/v1/api-keys', {
      role: 'manager',
      fund_id: other.fund.id,
      label: 'takeover',
    });
    expect(forFund.status).toBe(404);
    expect(fieldsOf(forFund)).toEqual(['fund_id']);
    const forStructure = await as(app, manager.secret).post('/v1/api-keys', {
      role: 'structure',
      structure_id: foreignStructure.id,
      label: 'peek',
    });
    expect(forStructure.status).toBe(404);
    expect(fieldsOf(forStructure)).toEqual(['structure_id']);
    expect((await as(app, other.manager.secret).get('/v1/api-keys')).body.items).toHaveLength(1);
  });

  // Scope is checked after the structure's fund is compared with fund_id: a 422 tells a stranger
  // that the structure exists (in some other fund), where an unknown id answers 404.
  it('a stranger naming a structure of another fund learns nothing: the same 404 as an unknown structure', async () => {
    const { fund, manager } = await fundWithManager(app);
    const other = await fundWithManager(app);
    const foreignStructure = await createStructure(app, other.fund.id, other.manager.secret);
    const probe = (structureId: string) =>
      as(app, manager.secret).post('/v1/api-keys', {
        role: 'structure',
        structure_id: structureId,
        fund_id: fund.id,
        label: 'probe',
      });
    const unknown = await probe(randomUUID());
    expect(unknown.status).toBe(404);
    expect((await probe(foreignStructure.id)).status).toBe(404);
  });

  const mismatches: [
    string,
    (fundId: string, structureId: string) => Record<string, unknown>,
    string[],
  ][] = [
    ['a manager key without fund_id', () => ({ role: 'manager' }), ['fund_id']],
    ['an auditor key without fund_id', () => ({ role: 'auditor' }), ['fund_id']],
    [
      'a structure key without structure_id',
      (fundId) => ({ role: 'structure', fund_id: fundId }),
      ['structure_id'],
    ],
    [
      'a manager key naming a structure',
      (fundId, structureId) => ({ role: 'manager', fund_id: fundId, structure_id: structureId }),
      ['structure_id'],
    ],
  ];
  it.each(mismatches)('%s → 422 naming the field', async (_name, bodyFor, fields) => {
    const { fund, manager } = await fundWithManager(app);
    const structure = await createStructure(app, fund.id, manager.secret);
    const res = await as(app, manager.secret).post('/v1/api-keys', {
      ...bodyFor(fund.id, structure.id),
      label: 'mismatch',
    });
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(fields);
  });

  it('an admin role cannot be issued, nor an unknown field sent: 400', async () => {
    const { fund } = await fundWithManager(app);
    const res = await as(app, ADMIN_KEY).post('/v1/api-keys', {
      role: 'admin',
      fund_id: fund.id,
      label: 'root',
      scopes: ['*'],
    });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['role', 'scopes']);
  });

  it('read-only keys cannot issue keys: an auditor gets 403', async () => {
    const { fund, manager } = await fundWithManager(app);
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id }, manager.secret);
    const res = await as(app, auditor.secret).post('/v1/api-keys', {
      role: 'auditor',
      fund_id: fund.id,
      label: 'second pair of eyes',
    });
    expect(res.status).toBe(403);
    expect(res.body.type).toBe('/problems/forbidden');
  });
});

describe('revoking a key', () => {
  it('a revoked key is refused with 401; revoking twice answers 200 both times', async () => {
    const { fund, manager } = await fundWithManager(app);
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id }, manager.secret);
    expect((await as(app, auditor.secret).get(`/v1/funds/${fund.id}`)).status).toBe(200);

    const revoked = await as(app, manager.secret).delete(`/v1/api-keys/${auditor.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));

    const refused = await as(app, auditor.secret).get(`/v1/funds/${fund.id}`);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer error="invalid_token"');

    const again = await as(app, manager.secret).delete(`/v1/api-keys/${auditor.id}`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(revoked.body);
    expect((await as(app, manager.secret).get(`/v1/api-keys/${auditor.id}`)).body.revoked_at).toBe(
      revoked.body.revoked_at,
    );
  });

  it('a key revoked by another process (straight in the database) is refused within two seconds', async () => {
    const { fund, manager } = await fundWithManager(app);
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id }, manager.secret);
    expect((await as(app, auditor.secret).get(`/v1/funds/${fund.id}`)).status).toBe(200);
    await sql`UPDATE api_keys SET revoked_at = now() WHERE id = ${auditor.id}`.execute(
      await testDb(),
    );
    const now = performance.now();
    const clock = jest.spyOn(performance, 'now');
    try {
      clock.mockReturnValue(now + 1_000); // still trusted: this process looked it up less than two seconds ago
      expect((await as(app, auditor.secret).get(`/v1/funds/${fund.id}`)).status).toBe(200);
      clock.mockReturnValue(now + 2_500);
      expect((await as(app, auditor.secret).get(`/v1/funds/${fund.id}`)).status).toBe(401);
    } finally {
      clock.mockRestore();
    }
  });

  it('a manager cannot revoke another fund’s key (404), an auditor cannot revoke (403)', async () => {
    const { fund, manager } = await fundWithManager(app);
    const other = await fundWithManager(app);
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id }, manager.secret);

    expect((await as(app, other.manager.secret).delete(`/v1/api-keys/${manager.id}`)).status).toBe(
      404,
    );
    expect((await as(app, other.manager.secret).get(`/v1/api-keys/${manager.id}`)).status).toBe(
      404,
    );
    expect((await as(app, auditor.secret).delete(`/v1/api-keys/${manager.id}`)).status).toBe(403);
    expect((await as(app, ADMIN_KEY).delete(`/v1/api-keys/${randomUUID()}`)).status).toBe(404);
    expect((await as(app, manager.secret).get(`/v1/funds/${fund.id}`)).status).toBe(200);
  });

  it('a structure key sees no keys at all', async () => {
    const { fund, manager } = await fundWithManager(app);
    const structure = await createStructure(app, fund.id, manager.secret);
    const portal = await createKey(
      app,
      { role: 'structure', structure_id: structure.id },
      manager.secret,
    );
    expect((await as(app, portal.secret).get('/v1/api-keys')).status).toBe(404);
    expect((await as(app, portal.secret).get(`/v1/api-keys/${portal.id}`)).status).toBe(404);
    expect((await as(app, portal.secret).delete(`/v1/api-keys/${manager.id}`)).status).toBe(404);
  });
});
