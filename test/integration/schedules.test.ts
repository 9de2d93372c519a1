import fc from 'fast-check';
import request from 'supertest';
import { ADMIN_KEY, postJson, testApp } from '../support/app';
import { expectContract } from '../support/contract';

let app: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  app = await testApp();
});
const PREVIEW = '/v1/schedules/preview';
const base = {
  principal: '10000.00',
  annual_rate_percent: '12',
  periodicity: 'monthly',
  term_periods: 12,
  method: 'annuity',
  disbursement_date: '2025-01-31',
};

describe('POST /v1/schedules/preview', () => {
  it('answers the DOMAIN.md annuity example: 888.49, first row 100.00 interest and 788.49 principal', async () => {
    const res = await postJson(app, PREVIEW, base);
    expect(res.status).toBe(200);
    expect(res.body.instalment_amount).toBe('888.49');
    expect(res.body.instalments).toHaveLength(12);
    expect(res.body.instalments[0]).toEqual({
      number: 1,
      due_date: '2025-02-28',
      principal: '788.49',
      interest: '100.00',
      total: '888.49',
      balance_after: '9211.51',
      capitalised_interest: '0.00',
    });
    expect(res.body.instalments.map((r: { due_date: string }) => r.due_date).slice(0, 4)).toEqual([
      '2025-02-28',
      '2025-03-31',
      '2025-04-30',
      '2025-05-31',
    ]);
    expect(res.body).toMatchObject({
      total_interest: '661.86',
      total_capitalised_interest: '0.00',
      total_payable: '10661.86',
    });
  });

  it('answers the DOMAIN.md linear example: 3333.33, 3333.33, 3333.34', async () => {
    const res = await postJson(app, PREVIEW, {
      ...base,
      annual_rate_percent: '0',
      term_periods: 3,
      method: 'linear',
    });
    expect(res.status).toBe(200);
    expect(res.body.instalments.map((r: { principal: string }) => r.principal)).toEqual([
      '3333.33',
      '3333.33',
      '3333.34',
    ]);
  });

  it('applies the documented defaults: omitting them is the same as sending them', async () => {
    const explicit = {
      ...base,
      deferral_periods: 0,
      deferral_type: 'partial',
      day_count: '30E/360',
      rounding: 'half_up',
      instalment_multiple: '0.01',
    };
    const [implicitRes, explicitRes] = [
      await postJson(app, PREVIEW, base),
      await postJson(app, PREVIEW, explicit),
    ];
    expect(explicitRes.status).toBe(200);
    expect(explicitRes.body).toEqual(implicitRes.body);
  });

  it('accepts amounts with 0, 1 or 2 decimals and answers every amount with exactly 2', async () => {
    const res = await postJson(app, PREVIEW, {
      ...base,
      principal: '1000',
      instalment_multiple: '1',
    });
    expect(res.status).toBe(200);
    expect(res.body.instalment_amount).toBe('89.00');
  });

  it('shows capitalised interest under total deferral', async () => {
    const res = await postJson(app, PREVIEW, {
      ...base,
      principal: '12000.00',
      annual_rate_percent: '6',
      term_periods: 6,
      deferral_periods: 2,
      deferral_type: 'total',
    });
    expect(res.status).toBe(200);
    expect(res.body.instalments[0]).toMatchObject({
      total: '0.00',
      capitalised_interest: '60.00',
      balance_after: '12060.00',
    });
    expect(res.body.total_capitalised_interest).toBe('120.30');
  });

  it('tags the response with a request id, reusing the caller’s', async () => {
    const res = await request(app).post(PREVIEW).set('X-Request-Id', 'portal-42').send(base);
    expectContract(res, 'post', PREVIEW);
    expect(res.headers['x-request-id']).toBe('portal-42');
    const fresh = await request(app).post(PREVIEW).send(base);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a level instalment when a long first period’s interest exceeds it, capitalising the shortfall', async () => {
    const res = await postJson(app, PREVIEW, {
      ...base,
      principal: '50000.00',
      annual_rate_percent: '3',
      term_periods: 120,
      disbursement_date: '2025-01-15',
      first_due_date: '2026-01-15',
    });
    expect(res.status).toBe(200);
    expect(res.body.instalments[0]).toMatchObject({
      principal: '0.00',
      interest: '496.05',
      total: '496.05',
      capitalised_interest: '1003.95',
    });
    expect(res.body.instalments.at(-1)).toMatchObject({ number: 120, balance_after: '0.00' });
  });
});

describe('POST /v1/schedules/preview refuses bad input with a problem naming each field', () => {
  const { principal: _principal, ...withoutPrincipal } = base;
  const cases: [string, unknown, number, string[]][] = [
    ['a missing field', withoutPrincipal, 400, ['principal']],
    ['a number where a string is expected', { ...base, principal: 10000 }, 400, ['principal']],
    [
      'a string where an integer is expected',
      { ...base, term_periods: '12' },
      400,
      ['term_periods'],
    ],
    ['a fractional term', { ...base, term_periods: 12.5 }, 400, ['term_periods']],
    ['an exponent', { ...base, principal: '1e3' }, 400, ['principal']],
    ['a negative principal', { ...base, principal: '-100.00' }, 400, ['principal']],
    ['a zero principal', { ...base, principal: '0.00' }, 422, ['principal']],
    ['3 decimals in an amount', { ...base, principal: '100.001' }, 400, ['principal']],
    [
      '3 decimals in the instalment multiple',
      { ...base, instalment_multiple: '0.001' },
      400,
      ['instalment_multiple'],
    ],
    [
      'a zero instalment multiple',
      { ...base, instalment_multiple: '0.00' },
      422,
      ['instalment_multiple'],
    ],
    ['deferral = term', { ...base, deferral_periods: 12 }, 422, ['deferral_periods']],
    [
      'deferral > term',
      { ...base, term_periods: 3, deferral_periods: 5 },
      422,
      ['deferral_periods'],
    ],
    ['term 0', { ...base, term_periods: 0 }, 400, ['term_periods']],
    ['term over 600', { ...base, term_periods: 601 }, 400, ['term_periods']],
    ['a rate over 100', { ...base, annual_rate_percent: '100.01' }, 422, ['annual_rate_percent']],
    ['a rate as a number', { ...base, annual_rate_percent: 3.5 }, 400, ['annual_rate_percent']],
    [
      'a rate with 7 decimals',
      { ...base, annual_rate_percent: '3.1234567' },
      400,
      ['annual_rate_percent'],
    ],
    [
      'an impossible date',
      { ...base, disbursement_date: '2023-02-30' },
      400,
      ['disbursement_date'],
    ],
    [
      '29 February of a common year',
      { ...base, disbursement_date: '2025-02-29' },
      400,
      ['disbursement_date'],
    ],
    [
      'a date-time instead of a date',
      { ...base, disbursement_date: '2025-01-31T00:00:00Z' },
      400,
      ['disbursement_date'],
    ],
    [
      'a first due date before disbursement',
      { ...base, first_due_date: '2025-01-15' },
      422,
      ['first_due_date'],
    ],
    [
      'a first due date on the disbursement date',
      { ...base, first_due_date: '2025-01-31' },
      422,
      ['first_due_date'],
    ],
    ['an unknown periodicity', { ...base, periodicity: 'weekly' }, 400, ['periodicity']],
    ['an unknown method', { ...base, method: 'balloon' }, 400, ['method']],
    ['an unknown field', { ...base, grace: 3 }, 400, ['grace']],
    ['a null', { ...base, principal: null }, 400, ['principal']],
    [
      'several problems at once',
      { ...base, principal: 5, term_periods: 0, method: 'x' },
      400,
      ['principal', 'term_periods', 'method'],
    ],
    [
      'several broken rules at once',
      { ...base, principal: '0', annual_rate_percent: '120', deferral_periods: 12 },
      422,
      ['principal', 'annual_rate_percent', 'deferral_periods'],
    ],
    [
      'amounts beyond numeric(14,2) after a long total deferral',
      {
        ...base,
        principal: '999999999.00',
        annual_rate_percent: '100',
        periodicity: 'annual',
        term_periods: 50,
        deferral_periods: 49,
        deferral_type: 'total',
      },
      422,
      ['principal'],
    ],
    [
      "a first due date past 2999 (outside the contract's one range of dates)",
      { ...base, first_due_date: '3000-01-01' },
      400,
      ['first_due_date'],
    ],
    [
      'a disbursement in the year 0',
      { ...base, disbursement_date: '0000-01-01' },
      400,
      ['disbursement_date'],
    ],
    [
      'an instalment multiple so large that the level instalment rounds to 0.00',
      { ...base, instalment_multiple: '999999999999.99' },
      422,
      ['instalment_multiple'],
    ],
    [
      'a linear principal part rounding to 0.00',
      { ...base, method: 'linear', instalment_multiple: '100000.00' },
      422,
      ['instalment_multiple'],
    ],
  ];
  it.each(
    cases.map(
      ([name, body, status, fields]) => [`${name} → ${status}`, body, status, fields] as const,
    ),
  )('%s', async (_title, body, status, fields) => {
    const res = await postJson(app, PREVIEW, body);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status,
      type: expect.any(String),
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(
      [...fields].sort(),
    );
  });

  it('malformed JSON → 400 problem', async () => {
    const res = await request(app)
      .post(PREVIEW)
      .set('Content-Type', 'application/json')
      .send('{"principal": "10');
    expectContract(res, 'post', PREVIEW);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.detail).toMatch(/not valid JSON/);
  });

  it('a body over 100 kB → 400 problem, before any work', async () => {
    const res = await request(app)
      .post(PREVIEW)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ ...base, padding: 'x'.repeat(200_000) }));
    expectContract(res, 'post', PREVIEW);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.detail).toMatch(/larger than 100 kB/);
  });

  it('a JSON array, an empty body or a non-JSON content type is refused', async () => {
    expect((await postJson(app, PREVIEW, [base])).status).toBe(400);
    const empty = await request(app).post(PREVIEW).set('Content-Type', 'application/json').send('');
    expectContract(empty, 'post', PREVIEW);
    expect(empty.status).toBe(400);
    const text = await request(app)
      .post(PREVIEW)
      .set('Content-Type', 'text/plain')
      .send('principal=1');
    expectContract(text, 'post', PREVIEW);
    expect(text.status).toBe(415);
    expect(text.body.detail).toBe('The request body must be application/json.');
  });

  it('a corrupt compressed body is a 400 and an unknown Content-Encoding a 415, not a 500', async () => {
    const corrupt = await request(app)
      .post(PREVIEW)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send(JSON.stringify(base));
    expectContract(corrupt, 'post', PREVIEW);
    expect(corrupt.status).toBe(400);
    const unknown = await request(app)
      .post(PREVIEW)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'zstd')
      .send(JSON.stringify(base));
    expectContract(unknown, 'post', PREVIEW);
    expect(unknown.status).toBe(415);
  });

  it('unknown routes are 404 (401 without a key) and wrong methods 405, as problems', async () => {
    const anonymous = await request(app).get('/v1/nothing-here');
    expect(anonymous.status).toBe(401);
    const missing = await request(app)
      .get('/v1/nothing-here')
      .set('Authorization', `Bearer ${ADMIN_KEY}`);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    const wrongMethod = await request(app).get(PREVIEW);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect(wrongMethod.body.status).toBe(405);
  });

  it('never answers 500, whatever JSON object it is sent', async () => {
    const anyValue = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom('0', '1.5', '2025-02-29', 'annuity', 'total'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { ...Object.fromEntries(Object.keys(base).map((k) => [k, anyValue])) },
          { requiredKeys: [] },
        ),
        fc.dictionary(fc.string(), anyValue, { maxKeys: 2 }),
        async (fields, extra) => {
          const res = await postJson(app, PREVIEW, { ...base, ...fields, ...extra });
          expect([200, 400, 422]).toContain(res.status);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('GET /healthz', () => {
  it('says ok', async () => {
    const res = await request(app).get('/healthz');
    expectContract(res, 'get', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});

describe('GET /openapi.yaml', () => {
  it('serves the contract that requests are validated against', async () => {
    const res = await request(app).get('/openapi.yaml');
    expectContract(res, 'get', '/openapi.yaml');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/yaml/);
    expect(res.text).toMatch(/^openapi: 3\.1\.0/);
    expect(res.text).toContain('/v1/schedules/preview:');
  });
});

describe('text the database cannot store', () => {
  it('a NUL or an unpaired surrogate in any string is a 400 naming the field; a body in another charset than UTF-8 is a 415', async () => {
    const nul = await request(app)
      .post(PREVIEW)
      .set('Content-Type', 'application/json')
      .send('{"principal": "1\\u0000"}');
    expectContract(nul, 'post', PREVIEW);
    expect(nul.status).toBe(400);
    expect(nul.body.errors).toEqual([
      {
        in: 'body',
        field: 'principal',
        message: 'contains a NUL character or an unpaired surrogate',
      },
    ]);
    const surrogate = await request(app)
      .post(PREVIEW)
      .set('Content-Type', 'application/json')
      .send('{"method": "x\\ud800"}');
    expect(surrogate.status).toBe(400);
    const utf16 = await request(app)
      .post(PREVIEW)
      .set('Content-Type', 'application/json; charset=utf-16le')
      .send(Buffer.from(JSON.stringify({ ...base, method: 'annuity\u0000' }), 'utf16le'));
    expect(utf16.status).toBe(415); // JSON between systems is UTF-8 (RFC 8259)
    expect(utf16.headers['content-type']).toMatch(/^application\/problem\+json/);
    expectContract(utf16, 'post', PREVIEW);
  });
});

describe('null for an absent optional field', () => {
  it('first_due_date: null is the default first due date', async () => {
    const withNull = await postJson(app, PREVIEW, { ...base, first_due_date: null });
    expect(withNull.status).toBe(200);
    expect(withNull.body).toEqual((await postJson(app, PREVIEW, base)).body);
  });
});
