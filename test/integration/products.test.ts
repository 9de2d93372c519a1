import { randomUUID } from 'node:crypto';
import { ADMIN_KEY, testApp } from '../support/app';
import {
  as,
  createKey,
  createProduct,
  createStructure,
  fieldsOf,
  fundWithManager,
  productBody,
} from '../support/portfolio';

let app: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  app = await testApp();
});

describe('defining a loan product', () => {
  it('a manager defines one in its own fund: 201, a Location, and the documented defaults', async () => {
    const { fund, manager } = await fundWithManager(app);
    const body = productBody(fund.id);
    const res = await as(app, manager.secret).post('/v1/products', body);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/products/${res.body.id}`);
    expect(res.body).toMatchObject({
      ...body,
      rounding: 'half_up',
      guarantee_coverage_percent: '0',
    });

    const fetched = await as(app, manager.secret).get(res.headers.location!);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(res.body);
  });

  it('answers money with 2 decimals and rates as given, without the stored trailing zeros', async () => {
    const { fund, manager } = await fundWithManager(app);
    const product = await createProduct(app, fund.id, manager.secret, {
      principal_min: '1000',
      principal_max: '25000.5',
      annual_rate_percent_min: '0.250000',
      annual_rate_percent_max: '3.500000',
      guarantee_coverage_percent: '70.00',
    });
    expect(product).toMatchObject({
      principal_min: '1000.00',
      principal_max: '25000.50',
      annual_rate_percent_min: '0.25',
      annual_rate_percent_max: '3.5',
      guarantee_coverage_percent: '70',
    });
    const fetched = await as(app, manager.secret).get(`/v1/products/${product.id}`);
    expect(fetched.body).toMatchObject({
      annual_rate_percent_max: '3.5',
      principal_max: '25000.50',
    });
  });

  it('a manager of another fund is told the fund does not exist: 404 naming fund_id', async () => {
    const { fund } = await fundWithManager(app);
    const { manager: stranger } = await fundWithManager(app);
    const res = await as(app, stranger.secret).post('/v1/products', productBody(fund.id));
    expect(res.status).toBe(404);
    expect(fieldsOf(res)).toEqual(['fund_id']);
    const unknown = await as(app, ADMIN_KEY).post('/v1/products', productBody(randomUUID()));
    expect(unknown.status).toBe(404);
    expect(fieldsOf(unknown)).toEqual(['fund_id']);
  });

  it('an auditor of the fund may look but not define: 403', async () => {
    const { fund, manager } = await fundWithManager(app);
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id }, manager.secret);
    const res = await as(app, auditor.secret).post('/v1/products', productBody(fund.id));
    expect(res.status).toBe(403);
    expect(
      (await as(app, auditor.secret).get(`/v1/products?fund_id=${fund.id}`)).body.items,
    ).toEqual([]);
  });

  const broken: [string, Record<string, unknown>, string[]][] = [
    [
      'principal min above max',
      { principal_min: '50000.00', principal_max: '10000.00' },
      ['principal_max'],
    ],
    ['a zero minimum principal', { principal_min: '0' }, ['principal_min']],
    [
      'rate min above max',
      { annual_rate_percent_min: '4', annual_rate_percent_max: '3.5' },
      ['annual_rate_percent_max'],
    ],
    ['a rate over 100', { annual_rate_percent_max: '100.5' }, ['annual_rate_percent_max']],
    [
      'term min above max',
      { term_periods_min: 60, term_periods_max: 48, deferral_periods_max: 12 },
      ['term_periods_max'],
    ],
    [
      'deferral as long as the term',
      { term_periods_max: 24, deferral_periods_max: 24 },
      ['deferral_periods_max'],
    ],
    [
      'guarantee coverage over 100',
      { guarantee_coverage_percent: '120' },
      ['guarantee_coverage_percent'],
    ],
    [
      'every range broken at once',
      {
        principal_min: '50000.00',
        principal_max: '10000.00',
        annual_rate_percent_min: '5',
        annual_rate_percent_max: '2',
        term_periods_min: 60,
        term_periods_max: 36,
        deferral_periods_max: 40,
      },
      ['annual_rate_percent_max', 'deferral_periods_max', 'principal_max', 'term_periods_max'],
    ],
  ];
  it.each(broken)(
    '%s → 422 naming every offending field, and nothing is stored',
    async (_name, overrides, fields) => {
      const { fund, manager } = await fundWithManager(app);
      const res = await as(app, manager.secret).post(
        '/v1/products',
        productBody(fund.id, overrides),
      );
      expect(res.status).toBe(422);
      expect(res.body.type).toBe('/problems/rule-violation');
      expect(fieldsOf(res)).toEqual(fields);
      expect((await as(app, manager.secret).get('/v1/products')).body.items).toEqual([]);
    },
  );

  it('a malformed body is a 400, not a 422: rates and amounts are strings', async () => {
    const { fund, manager } = await fundWithManager(app);
    const res = await as(app, manager.secret).post(
      '/v1/products',
      productBody(fund.id, {
        principal_min: 5000,
        annual_rate_percent_max: '3.1234567',
        methods: [],
      }),
    );
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['annual_rate_percent_max', 'methods', 'principal_min']);
  });
});

describe('reading products', () => {
  it('a list filtered by fund holds that fund’s products only', async () => {
    const { fund, manager } = await fundWithManager(app);
    const other = await fundWithManager(app);
    const first = await createProduct(app, fund.id, manager.secret);
    const second = await createProduct(app, fund.id, manager.secret, { kind: 'common_law' });
    const foreign = await createProduct(app, other.fund.id, other.manager.secret);

    const filtered = await as(app, ADMIN_KEY).get(`/v1/products?fund_id=${fund.id}`);
    expect(filtered.status).toBe(200);
    expect(filtered.body.items.map((p: { id: string }) => p.id)).toEqual([first.id, second.id]);

    const own = await as(app, manager.secret).get('/v1/products');
    expect(own.body.items.map((p: { id: string }) => p.id)).toEqual([first.id, second.id]);
    expect(
      (await as(app, manager.secret).get(`/v1/products?fund_id=${other.fund.id}`)).status,
    ).toBe(404);
    expect((await as(app, manager.secret).get(`/v1/products/${foreign.id}`)).status).toBe(404);
  });

  it('a structure key sees no product: 404 on the list and on each one', async () => {
    const { fund, manager } = await fundWithManager(app);
    const product = await createProduct(app, fund.id, manager.secret);
    const structure = await createStructure(app, fund.id, manager.secret);
    const portal = await createKey(
      app,
      { role: 'structure', structure_id: structure.id },
      manager.secret,
    );
    expect((await as(app, portal.secret).get('/v1/products')).status).toBe(404);
    expect((await as(app, portal.secret).get(`/v1/products?fund_id=${fund.id}`)).status).toBe(404);
    expect((await as(app, portal.secret).get(`/v1/products/${product.id}`)).status).toBe(404);
  });
});
