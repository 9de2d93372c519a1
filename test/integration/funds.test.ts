import { randomUUID } from 'node:crypto';
import { ADMIN_KEY, testApp } from '../support/app';
import { testDb } from '../support/db';
import {
  as,
  createFund,
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

const fundBody = () => ({
  name: unique('Fonds Auvergne-Rhône-Alpes'),
  region_code: '84',
  department_codes: ['69', '2A', '974'],
});

describe('opening a fund', () => {
  it('the platform admin opens one: 201, a Location, EUR and the default reminder days', async () => {
    const body = fundBody();
    const res = await as(app, ADMIN_KEY).post('/v1/funds', body);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/funds/${res.body.id}`);
    expect(res.body).toMatchObject({
      ...body,
      currency: 'EUR',
      reminder_days_before: [15, 3],
      reminder_days_after: [1, 15, 30],
      reminder_channels: ['webhook', 'email'],
      webhook_url: null,
    });
    expect(JSON.stringify(res.body)).not.toMatch(/whsec_/); // the webhook secret has a route of its own

    const fetched = await as(app, ADMIN_KEY).get(res.headers.location!);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(res.body);
  });

  it('keeps the reminder days and webhook a fund asks for', async () => {
    const res = await as(app, ADMIN_KEY).post('/v1/funds', {
      ...fundBody(),
      reminder_days_before: [7],
      reminder_days_after: [2, 10],
      webhook_url: 'https://fonds.example.org/hooks',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      reminder_days_before: [7],
      reminder_days_after: [2, 10],
      webhook_url: 'https://fonds.example.org/hooks',
    });
  });

  it('its manager changes its reminder settings: absent fields kept, webhook removed with null, the change audited', async () => {
    const { fund, manager } = await fundWithManager(app, {
      webhook_url: 'https://fonds.example.org/hooks',
    });
    const changed = await as(app, manager.secret).patch(`/v1/funds/${fund.id}`, {
      reminder_days_before: [10],
      reminder_channels: ['email'],
      webhook_url: null,
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({
      ...fund,
      reminder_days_before: [10],
      reminder_channels: ['email'],
      webhook_url: null,
    });
    expect((await as(app, manager.secret).get(`/v1/funds/${fund.id}`)).body).toEqual(changed.body);
    const events = await as(app, manager.secret).get(`/v1/audit-events?fund_id=${fund.id}`);
    expect(events.body.items.map((e: { action: string }) => e.action)).toContain('fund.updated');

    for (const body of [{}, { currency: 'EUR' }, { reminder_days_after: [-1] }]) {
      const refused = await as(app, manager.secret).patch(`/v1/funds/${fund.id}`, body);
      expect(refused.status).toBe(400);
    }
    expect((await as(app, manager.secret).get(`/v1/funds/${fund.id}`)).body).toEqual(changed.body);
  });

  it('reminds through the channels it asks for, among webhook and email only', async () => {
    const mailOnly = await as(app, ADMIN_KEY).post('/v1/funds', {
      ...fundBody(),
      reminder_channels: ['email'],
    });
    expect(mailOnly.status).toBe(201);
    expect(mailOnly.body.reminder_channels).toEqual(['email']);
    for (const reminder_channels of [['sms'], [], ['email', 'email']]) {
      const refused = await as(app, ADMIN_KEY).post('/v1/funds', {
        ...fundBody(),
        reminder_channels,
      });
      expect(refused.status).toBe(400);
      expect(fieldsOf(refused)[0]).toMatch(/^reminder_channels/);
    }
  });

  it('a manager key cannot open a fund: 403', async () => {
    const { manager } = await fundWithManager(app);
    const res = await as(app, manager.secret).post('/v1/funds', fundBody());
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('without an Authorization header: 401 problem with a WWW-Authenticate challenge', async () => {
    const res = await as(app, undefined).post('/v1/funds', fundBody());
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 401, type: '/problems/unauthenticated' });
  });

  it('with a key nobody issued: 401 invalid_token, and nothing is created', async () => {
    const body = fundBody();
    const res = await as(app, `sk_${'x'.repeat(43)}`).post('/v1/funds', body);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    const db = await testDb();
    expect(
      await db.selectFrom('funds').select('id').where('name', '=', body.name).execute(),
    ).toEqual([]);
  });

  const invalid: [string, Record<string, unknown>, string[]][] = [
    ['a region code that is not two digits', { region_code: '8A' }, ['region_code']],
    ['no department', { department_codes: [] }, ['department_codes']],
    ['a malformed department', { department_codes: ['69', '2C'] }, ['department_codes.1']],
    ['an unknown field', { manager_email: 'x@example.org' }, ['manager_email']],
    ['another currency', { currency: 'USD' }, ['currency']],
    [
      'several faults at once',
      { region_code: 84, department_codes: [], colour: 'red' },
      ['colour', 'department_codes', 'region_code'],
    ],
  ];
  it.each(invalid)('%s → 400 naming the fields', async (_name, overrides, fields) => {
    const res = await as(app, ADMIN_KEY).post('/v1/funds', { ...fundBody(), ...overrides });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(fieldsOf(res)).toEqual(fields);
  });
});

describe('reading funds', () => {
  it('a manager lists only its own fund; the admin sees both', async () => {
    const { fund, manager } = await fundWithManager(app);
    const other = await createFund(app);
    const mine = await as(app, manager.secret).get('/v1/funds');
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({ items: [fund], next_cursor: null });

    // Other test files open funds too: page through them all (oldest first) to find these two.
    const seen: string[] = [];
    for (let cursor: string | null = ''; cursor !== null;) {
      const page = await as(app, ADMIN_KEY).get(
        `/v1/funds?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.items.map((f: { id: string }) => f.id));
      cursor = page.body.next_cursor;
    }
    expect(seen).toEqual(expect.arrayContaining([fund.id, other.id]));
  });

  it('an auditor sees its fund; a structure key sees no fund', async () => {
    const { fund, manager } = await fundWithManager(app);
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id }, manager.secret);
    expect((await as(app, auditor.secret).get('/v1/funds')).body.items).toEqual([fund]);
    expect((await as(app, auditor.secret).get(`/v1/funds/${fund.id}`)).status).toBe(200);

    const structure = await createStructure(app, fund.id, manager.secret);
    const portal = await createKey(
      app,
      { role: 'structure', structure_id: structure.id },
      manager.secret,
    );
    expect((await as(app, portal.secret).get('/v1/funds')).body).toEqual({
      items: [],
      next_cursor: null,
    });
    expect((await as(app, portal.secret).get(`/v1/funds/${fund.id}`)).status).toBe(404);
  });

  it('another fund, read with a manager key, does not exist: 404, like an unknown id', async () => {
    const { manager } = await fundWithManager(app);
    const other = await createFund(app);
    const res = await as(app, manager.secret).get(`/v1/funds/${other.id}`);
    expect(res.status).toBe(404);
    expect((await as(app, manager.secret).get(`/v1/funds/${randomUUID()}`)).body.detail).toBe(
      res.body.detail,
    );
  });

  it('a malformed id in the path: 400 naming the path parameter', async () => {
    const res = await as(app, ADMIN_KEY).get('/v1/funds/not-a-uuid');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'fund_id', in: 'path' })]);
  });

  it('pages through funds with limit and next_cursor, and refuses a forged cursor', async () => {
    await createFund(app);
    await createFund(app);
    const first = await as(app, ADMIN_KEY).get('/v1/funds?limit=1');
    expect(first.body.items).toHaveLength(1);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await as(app, ADMIN_KEY).get(
      `/v1/funds?limit=1&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].id > first.body.items[0].id).toBe(true);
    const forged = await as(app, ADMIN_KEY).get('/v1/funds?cursor=bm90LWEtdXVpZA');
    expect(forged.status).toBe(400);
    expect(fieldsOf(forged)).toEqual(['cursor']);
  });
});
