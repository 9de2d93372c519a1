import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import { testApp } from '../support/app';
import {
  adminAuth,
  as,
  createProduct,
  createStructure,
  fundWithManager,
} from '../support/portfolio';

/** Inputs that once reached PostgreSQL and failed there as 500s: now each is a 4xx naming what is wrong. */
let app: Express;
beforeAll(async () => {
  app = await testApp();
});
const admin = adminAuth.Authorization.slice('Bearer '.length);

describe('ids and numbers PostgreSQL could not take', () => {
  it('a urn:uuid or an uppercase id is a 400, not a failed cast', async () => {
    const { fund } = await fundWithManager(app);
    const urn = await as(app, admin).get(`/v1/funds/urn:uuid:${fund.id}`);
    expect(urn.status).toBe(400);
    const upper = await as(app, admin).get(`/v1/funds/${fund.id.toUpperCase()}`);
    expect(upper.status).toBe(400);
    expect(upper.body.errors[0]).toMatchObject({ in: 'path', field: 'fund_id' });
    const body = await as(app, admin).post('/v1/api-keys', {
      role: 'manager',
      fund_id: `urn:uuid:${fund.id}`,
      label: 'x',
    });
    expect(body.status).toBe(400);
  });

  it('a schedule version beyond integer range, or a cursor beyond bigint, is a 400', async () => {
    const { fund } = await fundWithManager(app);
    const version = await as(app, admin).get(`/v1/loans/${fund.id}/schedule/versions/99999999999`);
    expect(version.status).toBe(400);
    const cursor = Buffer.from('9999999999999999999').toString('base64url');
    const audit = await as(app, admin).get(`/v1/audit-events?cursor=${cursor}`);
    expect(audit.status).toBe(400);
    expect(audit.body.errors[0]).toMatchObject({ in: 'query', field: 'cursor' });
  });
});

describe('loans at the edges of their lifecycle', () => {
  async function pendingLoan() {
    const { fund, manager } = await fundWithManager(app);
    const product = await createProduct(app, fund.id, manager.secret);
    const structure = await createStructure(app, fund.id, manager.secret);
    const res = await as(app, manager.secret).post('/v1/loans', {
      product_id: product.id,
      structure_id: structure.id,
      principal: '20000.00',
      annual_rate_percent: '2',
      periodicity: 'monthly',
      term_periods: 24,
      method: 'annuity',
      disbursement_date: '2025-01-10',
    });
    expect(res.status).toBe(201);
    return { manager, loanId: res.body.id as string };
  }

  it('a disbursement dated before 1900 is a 400 naming `date`, the field the request has: every date has one range, 1900 to 2999', async () => {
    const { manager, loanId } = await pendingLoan();
    const res = await as(app, manager.secret).post(`/v1/loans/${loanId}/disbursement`, {
      date: '1899-12-31',
      amount: '20000.00',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        in: 'body',
        field: 'date',
        message: 'must be a date between 1900-01-01 and 2999-12-31 (YYYY-MM-DD)',
      },
    ]);
    expect((await as(app, manager.secret).get(`/v1/loans/${loanId}`)).body.status).toBe('pending');
  });

  it('a cancelled loan has no schedule: no instalments, nothing overdue', async () => {
    const { manager, loanId } = await pendingLoan();
    expect(
      (
        await as(app, manager.secret).post(`/v1/loans/${loanId}/cancellation`, {
          reason: 'project abandoned',
        })
      ).status,
    ).toBe(200);
    const schedule = await as(app, manager.secret).get(
      `/v1/loans/${loanId}/schedule?as_of=2026-01-01`,
    );
    expect(schedule.status).toBe(200);
    expect(schedule.body).toMatchObject({ projected: false, version: 0, instalments: [] });
  });

  it('a cancellation reason with an unpaired surrogate is a 400 and the loan stays pending', async () => {
    const { manager, loanId } = await pendingLoan();
    const res = await as(app, manager.secret).post(`/v1/loans/${loanId}/cancellation`, {
      reason: 'x\ud800',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('reason');
    expect((await as(app, manager.secret).get(`/v1/loans/${loanId}`)).body.status).toBe('pending');
  });
});

describe('bodies built to cost the server', () => {
  const preview = {
    principal: '10000.00',
    annual_rate_percent: '12',
    periodicity: 'monthly',
    term_periods: 12,
    method: 'annuity',
    disbursement_date: '2025-01-31',
  };
  const send = (path: string, body: string, key?: string) => {
    const call = request(app).post(path).set('Content-Type', 'application/json');
    return (key ? call.set('Authorization', `Bearer ${key}`) : call).send(body);
  };

  it('JSON nested 4,000 levels deep is a 400 naming the limit, with a key; without one, a 401 first', async () => {
    const deep = `{"name": ${'['.repeat(4000)}${']'.repeat(4000)}}`;
    const res = await send('/v1/funds', deep, admin);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([
      { in: 'body', field: '', message: 'is nested deeper than 32 levels' },
    ]);
    expect((await send('/v1/funds', deep)).status).toBe(401);
    expect((await send('/v1/schedules/preview', deep)).status).toBe(400); // public: no key to ask for
  });

  it('a body in UTF-16 is refused (415): its byte order is guessed, so it would be read one way by the limits and another by the parser', async () => {
    const deep = `{"principal": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const utf16be = Buffer.from(deep, 'utf16le').swap16();
    const server = app.listen(0, '127.0.0.1'); // supertest would send a Buffer as JSON, not as its bytes
    try {
      await once(server, 'listening');
      const res = await fetch(
        `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/schedules/preview`,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json; charset=utf-16' },
          body: utf16be,
        },
      );
      expect(res.status).toBe(415);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    } finally {
      server.close();
    }
    const latin = await request(app)
      .post('/v1/schedules/preview')
      .set('Content-Type', 'application/json; charset=iso-8859-1')
      .send(JSON.stringify(preview));
    expect(latin.status).toBe(415);
  });

  it('malformed JSON without a key is a 401, as the contract orders it; with a key, a 400', async () => {
    expect((await send('/v1/funds', '{"name": ')).status).toBe(401);
    const withKey = await send('/v1/funds', '{"name": ', admin);
    expect(withKey.status).toBe(400);
    expect(withKey.body.errors).toEqual([{ in: 'body', field: '', message: 'is not valid JSON' }]);
  });

  it('10,000 unknown members are refused before validation; 99 are listed 50 at most, with the count of the rest', async () => {
    const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, k) => [k.toString(36), 0])); // 80 kB
    const huge = await send('/v1/schedules/preview', JSON.stringify({ ...preview, ...many }));
    expect(huge.status).toBe(400);
    expect(huge.body.errors).toEqual([
      { in: 'body', field: '', message: 'has an object with more than 100 members' },
    ]);
    expect(huge.text.length).toBeLessThan(1000);

    const some = Object.fromEntries(Array.from({ length: 90 }, (_, k) => [`f${k}`, k]));
    const listed = await send('/v1/schedules/preview', JSON.stringify({ ...preview, ...some }));
    expect(listed.status).toBe(400);
    expect(listed.body.errors).toHaveLength(50);
    expect(listed.body.errors_omitted).toBe(40);
    expect(listed.body.errors[0]).toMatchObject({ in: 'body', field: 'f0' });
  });

  it('an array of 990 integers where strings are expected: one 400, 50 errors listed; past 1,000 values in all, refused outright', async () => {
    const codes = Array.from({ length: 990 }, (_, k) => k);
    const res = await send(
      '/v1/funds',
      JSON.stringify({ name: 'Fonds', region_code: '84', department_codes: codes }),
      admin,
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(50);
    expect(res.body.errors_omitted).toBe(941); // 990 items of the wrong type, and the list itself too long
    const more = await send(
      '/v1/funds',
      JSON.stringify({ name: 'Fonds', region_code: '84', department_codes: [...codes, ...codes] }),
      admin,
    );
    expect(more.body.errors).toEqual([
      { in: 'body', field: '', message: 'holds more than 1000 values' },
    ]);
  });

  it('a list longer than the contract allows is a 400 naming the field', async () => {
    const res = await send(
      '/v1/funds',
      JSON.stringify({
        name: 'Fonds',
        region_code: '84',
        department_codes: Array.from({ length: 121 }, () => '69'),
      }),
      admin,
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ in: 'body', field: 'department_codes' }),
    ]);
  });

  it('year 0000, and dates past 2999, are 400s naming the field before any query', async () => {
    const { fund } = await fundWithManager(app);
    for (const [path, field, where] of [
      [`/v1/funds/${fund.id}/ledger/trial-balance?as_of=0000-01-01`, 'as_of', 'query'],
      [`/v1/funds/${fund.id}/ledger/trial-balance?as_of=3000-01-01`, 'as_of', 'query'],
    ] as const) {
      const res = await as(app, admin).get(path);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        {
          in: where,
          field,
          message: 'must be a date between 1900-01-01 and 2999-12-31 (YYYY-MM-DD)',
        },
      ]);
    }
    const report = await as(app, admin).post('/v1/reports', {
      fund_id: fund.id,
      as_of: '0000-01-01',
    });
    expect(report.status).toBe(400);
    expect(report.body.errors[0]).toMatchObject({ field: 'as_of' });
  });
});

describe('headers', () => {
  it('every answer says nosniff, deny framing, no referrer, and not what it runs on', async () => {
    const res = await request(app).get('/healthz');
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none';frame-ancestors 'none'",
    );
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('a new API key, whose secret is shown once, is never to be cached', async () => {
    const { fund } = await fundWithManager(app);
    const res = await as(app, admin).post('/v1/api-keys', {
      role: 'auditor',
      fund_id: fund.id,
      label: 'audit 2026',
    });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('instants out of range', () => {
  it('an audit anchor as of the year 0000 is a 400 naming as_of', async () => {
    const { fund } = await fundWithManager(app);
    const res = await as(app, admin).get(
      `/v1/audit-events/verify?fund_id=${fund.id}&as_of=0000-01-01T00:00:00Z`,
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        in: 'query',
        field: 'as_of',
        message: 'must be an instant between the years 1900 and 2999 (RFC 3339)',
      },
    ]);
  });
});
