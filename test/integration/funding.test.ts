import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { withLuhnCheckDigit } from '../../src/domain/structure-identifiers';
import { computeReport } from '../../src/reports/compute-report';
import { ADMIN_KEY, testApp } from '../support/app';
import { loanBody } from '../support/authorization-matrix';
import { expectContract } from '../support/contract';
import { testDb } from '../support/db';
import {
  as,
  createFund,
  createKey,
  createProduct,
  createStructure,
  fieldsOf,
  fundWithManager,
  randomSiret,
} from '../support/portfolio';

let app: Express;
beforeAll(async () => {
  app = await testApp();
});

const admin = () => as(app, ADMIN_KEY);
const ERDF = {
  origin: 'erdf',
  programme_code: '2021FR16RFPR015',
  priority: 'Priorité 1',
  label: 'FEDER',
  start_date: '2024-01-01',
  end_date: '2029-12-31',
};
const REGION = { origin: 'region', label: 'Région', start_date: '2024-01-01' };

async function source(fundId: string, body: Record<string, unknown>): Promise<string> {
  const res = await admin().post(`/v1/funds/${fundId}/funding-sources`, body);
  if (res.status !== 201) throw new Error(`creating a source answered ${res.status}: ${res.text}`);
  return res.body.id as string;
}

/** A 0 % loan (principal only: every figure is plain principal), disbursed in full on its date. */
async function loan(
  productId: string,
  structureId: string,
  principal: string,
  date: string,
  funding?: unknown[],
): Promise<string> {
  const res = await admin().post('/v1/loans', {
    ...loanBody(productId, structureId),
    principal,
    annual_rate_percent: '0',
    disbursement_date: date,
    ...(funding ? { funding } : {}),
  });
  if (res.status !== 201) throw new Error(`creating a loan answered ${res.status}: ${res.text}`);
  const paid = await admin().post(`/v1/loans/${res.body.id}/disbursement`, {
    date,
    amount: principal,
  });
  if (paid.status !== 200) throw new Error(`disbursing answered ${paid.status}: ${paid.text}`);
  return res.body.id as string;
}

describe('funding sources', () => {
  it('a manager records an ERDF programme and the region; the list shows them oldest first; a PATCH tops one up', async () => {
    const { fund, manager } = await fundWithManager(app);
    const created = await as(app, manager.secret).post(`/v1/funds/${fund.id}/funding-sources`, {
      ...ERDF,
      amount_committed: '600000',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      ...ERDF,
      fund_id: fund.id,
      amount_committed: '600000.00',
    });
    await as(app, manager.secret).post(`/v1/funds/${fund.id}/funding-sources`, {
      ...REGION,
      amount_committed: '400000.00',
    });
    const list = await as(app, manager.secret).get(`/v1/funds/${fund.id}/funding-sources`);
    expect(list.body.items.map((s: { origin: string }) => s.origin)).toEqual(['erdf', 'region']);
    const patched = await as(app, manager.secret).patch(
      `/v1/funds/${fund.id}/funding-sources/${created.body.id}`,
      { amount_committed: '750000.5', end_date: null },
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      amount_committed: '750000.50',
      end_date: null,
      origin: 'erdf',
    });
    expect(
      (await as(app, manager.secret).get(`/v1/funds/${fund.id}/funding-sources/${created.body.id}`))
        .body,
    ).toEqual(patched.body);
  });

  it.each([
    [
      'an ERDF source without its programme and priority',
      { ...ERDF, programme_code: undefined, priority: undefined },
      ['priority', 'programme_code'],
    ],
    [
      'a regional source with a programme code',
      { ...REGION, programme_code: '2021FR16RFPR015' },
      ['programme_code'],
    ],
    ['nothing committed', { ...REGION, amount_committed: '0' }, ['amount_committed']],
    [
      'nothing committed, written with cents',
      { ...REGION, amount_committed: '0.00' },
      ['amount_committed'],
    ],
    ['an end before the start', { ...REGION, end_date: '2023-12-31' }, ['end_date']],
  ])('%s → 422 naming the fields', async (_name, body, fields) => {
    const fund = await createFund(app);
    const res = await admin().post(`/v1/funds/${fund.id}/funding-sources`, {
      amount_committed: '1000',
      ...body,
    });
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(fields);
  });

  it("the auditor reads but may not record (403); another fund's manager gets 404", async () => {
    const { fund } = await fundWithManager(app);
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id });
    const stranger = (await fundWithManager(app)).manager;
    expect(
      (
        await as(app, auditor.secret).post(`/v1/funds/${fund.id}/funding-sources`, {
          ...REGION,
          amount_committed: '1',
        })
      ).status,
    ).toBe(403);
    expect((await as(app, auditor.secret).get(`/v1/funds/${fund.id}/funding-sources`)).status).toBe(
      200,
    );
    expect(
      (await as(app, stranger.secret).get(`/v1/funds/${fund.id}/funding-sources`)).status,
    ).toBe(404);
  });
});

describe("a loan's split", () => {
  it("defaults to the fund's mix: three equal sources give 33.333334 / 33.333333 / 33.333333 (largest remainder, the oldest first)", async () => {
    const { fund, manager } = await fundWithManager(app);
    const ids = [
      await source(fund.id, { ...REGION, amount_committed: '100' }),
      await source(fund.id, { ...REGION, origin: 'department', amount_committed: '100' }),
      await source(fund.id, { ...REGION, origin: 'state', amount_committed: '100' }),
    ];
    const product = await createProduct(app, fund.id, manager.secret);
    const structure = await createStructure(app, fund.id, manager.secret);
    const created = await as(app, manager.secret).post(
      '/v1/loans',
      loanBody(product.id, structure.id),
    );
    const split = await as(app, manager.secret).get(`/v1/loans/${created.body.id}/funding`);
    const percentOf = new Map(
      (split.body.shares as { funding_source_id: string; percent: string }[]).map((s) => [
        s.funding_source_id,
        s.percent,
      ]),
    );
    expect(ids.map((id) => percentOf.get(id))).toEqual(['33.333334', '33.333333', '33.333333']);
  });

  it("is set on creation or by PUT: sources of the loan's fund, each once, above 0, summing to exactly 100 (422 otherwise); the structure key reads it, may not change it", async () => {
    const { fund, manager } = await fundWithManager(app);
    const erdf = await source(fund.id, { ...ERDF, amount_committed: '600000' });
    const region = await source(fund.id, { ...REGION, amount_committed: '400000' });
    const elsewhere = await source((await createFund(app)).id, {
      ...REGION,
      amount_committed: '1',
    });
    const product = await createProduct(app, fund.id, manager.secret);
    const structure = await createStructure(app, fund.id, manager.secret);
    const portal = await createKey(app, {
      role: 'structure',
      fund_id: fund.id,
      structure_id: structure.id,
    });

    const refused = await as(app, manager.secret).post('/v1/loans', {
      ...loanBody(product.id, structure.id),
      funding: [
        { funding_source_id: erdf, percent: '60' },
        { funding_source_id: elsewhere, percent: '40' },
      ],
    });
    expect(refused.status).toBe(404); // another fund's source does not exist for this loan
    expect(fieldsOf(refused)).toEqual(['funding.1.funding_source_id']);
    const created = await as(app, manager.secret).post('/v1/loans', {
      ...loanBody(product.id, structure.id),
      funding: [
        { funding_source_id: erdf, percent: '12.5' },
        { funding_source_id: region, percent: '87.500000' },
      ],
    });
    expect(created.status).toBe(201);
    const read = await as(app, portal.secret).get(`/v1/loans/${created.body.id}/funding`);
    expect(read.body.shares).toEqual(
      expect.arrayContaining([
        { funding_source_id: erdf, percent: '12.5' },
        { funding_source_id: region, percent: '87.5' },
      ]),
    );

    const path = `/v1/loans/${created.body.id}/funding`;
    const short = await as(app, manager.secret).put(path, {
      shares: [
        { funding_source_id: erdf, percent: '60' },
        { funding_source_id: region, percent: '39.999999' },
      ],
    });
    expect(short.status).toBe(422);
    expect(fieldsOf(short)).toEqual(['shares']);
    const zero = await as(app, manager.secret).put(path, {
      shares: [
        { funding_source_id: erdf, percent: '100' },
        { funding_source_id: region, percent: '0.000000' },
      ],
    });
    expect(zero.status).toBe(422);
    expect(fieldsOf(zero)).toEqual(['shares.1.percent']);
    const twice = await as(app, manager.secret).put(path, {
      shares: [
        { funding_source_id: erdf, percent: '50' },
        { funding_source_id: erdf, percent: '50' },
      ],
    });
    expect(fieldsOf(twice)).toEqual(['shares.1.funding_source_id']);
    expect(
      (
        await as(app, portal.secret).put(path, {
          shares: [{ funding_source_id: erdf, percent: '100' }],
        })
      ).status,
    ).toBe(403);
    const set = await as(app, manager.secret).put(path, {
      shares: [{ funding_source_id: erdf, percent: '100' }],
    });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      loan_id: created.body.id,
      shares: [{ funding_source_id: erdf, percent: '100' }],
    });
    expect((await as(app, manager.secret).put(path, { shares: [] })).body).toEqual({
      loan_id: created.body.id,
      shares: [],
    }); // unallocated again
    const audit = await as(app, manager.secret).get(
      `/v1/audit-events?fund_id=${fund.id}&limit=200`,
    );
    expect(
      (audit.body.items as { action: string }[])
        .map((e) => e.action)
        .filter((a) => a === 'loan.funding_set'),
    ).toHaveLength(2);
  });
});

describe('the report by source', () => {
  it("splits disbursed, repaid, written off, outstanding and the fee base by each loan's percentages, rounded once per source", async () => {
    const { fund, manager } = await fundWithManager(app);
    const product = await createProduct(app, fund.id, manager.secret);
    const structure = await createStructure(app, fund.id, manager.secret);
    const before = await loan(product.id, structure.id, '5000.00', '2025-01-15'); // before any source: unallocated
    const erdf = await source(fund.id, { ...ERDF, amount_committed: '600000' });
    const region = await source(fund.id, { ...REGION, amount_committed: '400000' });
    const l1 = await loan(product.id, structure.id, '10000.00', '2025-01-15'); // the fund's mix: 60 / 40
    await loan(product.id, structure.id, '5000.00', '2025-01-15', [
      { funding_source_id: erdf, percent: '33.333333' },
      { funding_source_id: region, percent: '66.666667' },
    ]);
    const l3 = await loan(product.id, structure.id, '8000.00', '2025-01-15', [
      { funding_source_id: region, percent: '100' },
    ]);
    expect(
      (
        await admin().post(
          `/v1/loans/${l1}/repayments`,
          { amount: '100.00', value_date: '2025-02-15' },
          { 'Idempotency-Key': randomUUID() },
        )
      ).status,
    ).toBe(201);
    expect(
      (
        await admin().post(`/v1/loans/${l3}/write-off`, {
          date: '2025-03-01',
          reason: 'liquidation',
        })
      ).status,
    ).toBe(200);
    expect(before).toBeDefined();

    const res = await as(app, manager.secret).get(
      `/v1/funds/${fund.id}/funding-report?from=2025-01-01&to=2025-03-31`,
    );
    expect(res.status).toBe(200);
    const bySource = new Map(
      (res.body.sources as { funding_source_id: string }[]).map((s) => [s.funding_source_id, s]),
    );
    // 90 days. Days each amount counts, to 31 March: from 15 January 76, from 15 February 45, from 1 March 31.
    // L1: 10000 × 76 − 100 × 45 = 755500; L2: 5000 × 76 = 380000; L3: 8000 × 76 − 8000 × 31 = 360000; L0: 380000.
    expect(bySource.get(erdf)).toMatchObject({
      disbursed: '7666.67', // 6000 + 1666.66665
      repaid: '60.00',
      written_off: '0.00',
      capitalised_interest: '0.00',
      outstanding_start: '0.00',
      outstanding_end: '7606.67', // 5940 + 1666.66665
      outstanding_days: '579966.67', // 453300 + 126666.6654
      average_outstanding: '6444.07', // 579966.6654 / 90
    });
    expect(bySource.get(region)).toMatchObject({
      disbursed: '15333.33',
      repaid: '40.00',
      written_off: '8000.00',
      outstanding_end: '7293.33',
      outstanding_days: '915533.33', // 302200 + 253333.3346 + 360000
      average_outstanding: '10172.59',
    });
    expect(res.body.unallocated).toMatchObject({
      loan_count: 1,
      disbursed: '5000.00',
      outstanding_end: '5000.00',
      outstanding_days: '380000.00',
      average_outstanding: '4222.22',
    });
    expect(res.body.total).toMatchObject({
      loan_count: 4,
      disbursed: '28000.00',
      repaid: '100.00',
      written_off: '8000.00',
      outstanding_end: '19900.00',
      outstanding_days: '1875500.00',
      average_outstanding: '20838.89',
    });
    expect(res.body.days).toBe(90);

    const february = await as(app, manager.secret).get(
      `/v1/funds/${fund.id}/funding-report?from=2025-02-01&to=2025-02-28`,
    );
    // Outstanding on the evening of 31 January: 28000; then 28 days, less 100 for the 14 from 15 February.
    expect(february.body.total).toMatchObject({
      disbursed: '0.00',
      repaid: '100.00',
      outstanding_start: '28000.00',
      outstanding_end: '27900.00',
      outstanding_days: '782600.00',
    });
    expect(
      (
        await as(app, manager.secret).get(
          `/v1/funds/${fund.id}/funding-report?from=2025-02-01&to=2025-01-31`,
        )
      ).status,
    ).toBe(422);

    // The resilience report as of 31 March carries the same figures since the first disbursement (15 January):
    // 76 days, so the same fee bases as above (nothing was outstanding before), averaged over 76 days.
    const asked = await as(app, manager.secret).post('/v1/reports', {
      fund_id: fund.id,
      as_of: '2025-03-31',
    });
    expect(asked.status).toBe(202);
    expect(await computeReport(await testDb(), asked.body.id, true)).toBe('done');
    const report = await as(app, manager.secret).get(`/v1/reports/${asked.body.id}`);
    expectContract(report, 'get', '/v1/reports/{report_id}');
    const byFunding = report.body.result.by_funding_source;
    expect(byFunding).toMatchObject({ from: '2025-01-15', to: '2025-03-31', days: 76 });
    expect(byFunding.sources.map((s: { key: string }) => s.key)).toEqual([erdf, region]);
    expect(byFunding.sources[0]).toMatchObject({
      origin: 'erdf',
      disbursed: '7666.67',
      repaid: '60.00',
      outstanding_end: '7606.67',
      outstanding_days: '579966.67',
      average_outstanding: '7631.14', // 579966.6654 / 76 = 7631.1403…
    });
    expect(byFunding.sources[1]).toMatchObject({
      disbursed: '15333.33',
      written_off: '8000.00',
      outstanding_days: '915533.33',
      average_outstanding: '12046.49',
    });
    expect(byFunding.unallocated).toMatchObject({
      loan_count: 1,
      outstanding_days: '380000.00',
      average_outstanding: '5000.00',
    });
    expect(byFunding.total).toMatchObject({
      loan_count: 4,
      outstanding_end: '19900.00',
      outstanding_days: '1875500.00',
      average_outstanding: '24677.63',
    });
    const reportCsv = await as(app, manager.secret).get(`/v1/reports/${asked.body.id}.csv`);
    expect(reportCsv.text).toContain(
      `\r\nby_funding_source/sources/${erdf}/outstanding_days,579966.67\r\n`,
    );
    expect(reportCsv.text).toContain(
      '\r\nby_funding_source/total/average_outstanding,24677.63\r\n',
    );

    // The CSV version: one line per source, then unallocated and total; a label typed as a formula stays text.
    expect(
      (
        await admin().patch(`/v1/funds/${fund.id}/funding-sources/${region}`, {
          label: '=HYPERLINK("http://x")',
        })
      ).status,
    ).toBe(200);
    const csv = await as(app, manager.secret).get(
      `/v1/funds/${fund.id}/funding-report.csv?from=2025-01-01&to=2025-03-31`,
    );
    expectContract(csv, 'get', '/v1/funds/{fund_id}/funding-report.csv');
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe(
      `attachment; filename="funding-report-${fund.id}-2025-01-01-2025-03-31.csv"`,
    );
    const lines = csv.text.split('\r\n');
    expect(lines[0]).toBe(
      'line,funding_source_id,origin,label,programme_code,priority,amount_committed,loan_count,disbursed,repaid,written_off,capitalised_interest,outstanding_start,outstanding_end,outstanding_days,average_outstanding',
    );
    expect(lines[1]).toBe(
      `source,${erdf},erdf,FEDER,2021FR16RFPR015,Priorité 1,600000.00,,7666.67,60.00,0.00,0.00,0.00,7606.67,579966.67,6444.07`,
    );
    expect(lines[2]).toBe(
      `source,${region},region,"'=HYPERLINK(""http://x"")",,,400000.00,,15333.33,40.00,8000.00,0.00,0.00,7293.33,915533.33,10172.59`,
    );
    expect(lines.slice(3)).toEqual([
      'unallocated,,,,,,,1,5000.00,0.00,0.00,0.00,0.00,5000.00,380000.00,4222.22',
      'total,,,,,,,4,28000.00,100.00,8000.00,0.00,0.00,19900.00,1875500.00,20838.89',
      '',
    ]);
    expect(
      (
        await as(app, manager.secret).get(
          `/v1/funds/${fund.id}/funding-report.csv?from=2025-02-01&to=2025-01-31`,
        )
      ).status,
    ).toBe(422);
  });
});

describe('the report by source, reversals', () => {
  it('a reversed repayment counts for nothing: repaid 0.00, the outstanding as if it never happened', async () => {
    const { fund, manager } = await fundWithManager(app);
    const only = await source(fund.id, { ...REGION, amount_committed: '1000' });
    const product = await createProduct(app, fund.id, manager.secret);
    const structure = await createStructure(app, fund.id, manager.secret);
    const id = await loan(product.id, structure.id, '10000.00', '2025-01-15');
    const paid = await admin().post(
      `/v1/loans/${id}/repayments`,
      { amount: '100.00', value_date: '2025-02-15' },
      { 'Idempotency-Key': randomUUID() },
    );
    expect(
      (
        await admin().post(`/v1/loans/${id}/repayments/${paid.body.id}/reversal`, {
          reason: 'bounced',
        })
      ).status,
    ).toBe(200);
    const res = await as(app, manager.secret).get(
      `/v1/funds/${fund.id}/funding-report?from=2025-01-01&to=2025-03-31`,
    );
    expect(res.body.sources).toEqual([
      expect.objectContaining({
        funding_source_id: only,
        disbursed: '10000.00',
        repaid: '0.00',
        outstanding_end: '10000.00',
        outstanding_days: '760000.00',
      }),
    ]);
  });
});

describe('the size class of a structure', () => {
  it('is recorded on POST and PATCH /v1/structures, null by default; anything else is a 400', async () => {
    const { fund, manager } = await fundWithManager(app);
    const plain = await createStructure(app, fund.id, manager.secret);
    expect(
      (await as(app, manager.secret).get(`/v1/structures/${plain.id}`)).body.size_class,
    ).toBeNull();
    const patched = await as(app, manager.secret).patch(`/v1/structures/${plain.id}`, {
      size_class: 'medium',
    });
    expect(patched.body.size_class).toBe('medium');
    expect(
      (await as(app, manager.secret).patch(`/v1/structures/${plain.id}`, { size_class: null })).body
        .size_class,
    ).toBeNull();
    expect(
      (await as(app, manager.secret).patch(`/v1/structures/${plain.id}`, { size_class: 'huge' }))
        .status,
    ).toBe(400);
  });
});

/** A SIRET of the same enterprise (SIREN) as `siret`, another establishment. */
const sameSiren = (siret: string, nic: string) => withLuhnCheckDigit(siret.slice(0, 9) + nic);

describe('EU common indicators', () => {
  it('count each enterprise once across loans, establishments and funds, by size class; RCR01 from the latest snapshots', async () => {
    const a = await fundWithManager(app);
    const b = await fundWithManager(app);
    const [eA, rA, eB] = [
      await source(a.fund.id, { ...ERDF, amount_committed: '500000' }),
      await source(a.fund.id, { ...REGION, amount_committed: '500000' }),
      await source(b.fund.id, { ...ERDF, amount_committed: '1000' }),
    ];
    const pA = (await createProduct(app, a.fund.id, a.manager.secret)).id;
    const pB = (await createProduct(app, b.fund.id, b.manager.secret)).id;
    const siren1 = randomSiret();
    const a1 = await createStructure(app, a.fund.id, a.manager.secret, {
      siret: siren1,
      size_class: 'micro',
    });
    const a2 = await createStructure(app, a.fund.id, a.manager.secret, {
      siret: sameSiren(siren1, '9991'),
      size_class: 'micro',
    });
    const a3 = await createStructure(app, a.fund.id, a.manager.secret, {
      siret: undefined,
      rna: `W69${String(Date.now()).slice(-7)}`,
    });
    const a4 = await createStructure(app, a.fund.id, a.manager.secret, { size_class: 'small' });
    const a5 = await createStructure(app, a.fund.id, a.manager.secret, { size_class: 'medium' });
    const b1 = await createStructure(app, b.fund.id, b.manager.secret, {
      siret: sameSiren(siren1, '9992'),
      size_class: 'micro',
    });
    const b2 = await createStructure(app, b.fund.id, b.manager.secret, { size_class: 'large' });
    const all = (id: string) => [{ funding_source_id: id, percent: '100' }];
    await loan(pA, a1.id, '10000.00', '2025-01-15', all(eA));
    await loan(pA, a1.id, '10000.00', '2025-03-15', all(eA));
    await loan(pA, a2.id, '10000.00', '2025-04-15', all(eA));
    await loan(pA, a3.id, '10000.00', '2025-05-15', [
      { funding_source_id: eA, percent: '50' },
      { funding_source_id: rA, percent: '50' },
    ]);
    await loan(pA, a4.id, '10000.00', '2025-05-15', all(rA)); // the region alone: no programme
    await loan(pA, a5.id, '10000.00', '2024-06-15', all(eA)); // before the period
    await loan(pB, b1.id, '10000.00', '2025-02-15', all(eB));
    await loan(pB, b2.id, '10000.00', '2025-02-15', all(eB));
    const snapshot = (structureId: string, date: string, created: string) =>
      admin().post(`/v1/structures/${structureId}/impact-snapshots`, {
        snapshot_date: date,
        jobs_fte: 10,
        jobs_created: created,
        jobs_maintained: 5,
        still_active: true,
      });
    await snapshot(a1.id, '2025-06-30', '2');
    await snapshot(a2.id, '2025-09-30', '1');
    await snapshot(a1.id, '2025-12-31', '3.5'); // SIREN 1's latest by the end of 2025
    await snapshot(a1.id, '2026-01-15', '10'); // after the period
    await snapshot(b2.id, '2025-12-31', '4');

    const path = `/v1/funds/${a.fund.id}/eu-indicators?from=2025-01-01&to=2025-12-31`;
    const fundA = await as(app, a.manager.secret).get(path);
    expect(fundA.status).toBe(200);
    expect(fundA.body).toMatchObject({
      loan_count: 4,
      rco01: { value: 2, micro: 1, small: 0, medium: 0, large: 0, unknown: 1 },
      rco03: { value: 2 },
      rcr01: { value: 3.5, enterprises_reporting: 1, enterprises_not_reporting: 1 },
    });
    const region = await as(app, a.manager.secret).get(`${path}&funding_source_id=${rA}`);
    expect(region.body).toMatchObject({
      loan_count: 2,
      rco01: { value: 2, small: 1, unknown: 1 },
      rcr01: { value: 0, enterprises_reporting: 0 },
    });

    const both = await admin().get(`${path}&also_fund_ids=${b.fund.id}`);
    expect(both.body).toMatchObject({
      fund_ids: [a.fund.id, b.fund.id],
      loan_count: 6,
      rco01: { value: 3, micro: 1, large: 1, unknown: 1 },
      rco03: { value: 3 },
      rcr01: { value: 7.5, enterprises_reporting: 2, enterprises_not_reporting: 1 },
    });
    expect((await as(app, a.manager.secret).get(`${path}&also_fund_ids=${b.fund.id}`)).status).toBe(
      404,
    );
    expect((await as(app, a.manager.secret).get(`${path}&funding_source_id=${eB}`)).status).toBe(
      404,
    );
    // The CSV version: the same figures, `indicator,value`.
    const csv = await admin().get(
      `/v1/funds/${a.fund.id}/eu-indicators.csv?from=2025-01-01&to=2025-12-31&also_fund_ids=${b.fund.id}`,
    );
    expectContract(csv, 'get', '/v1/funds/{fund_id}/eu-indicators.csv');
    expect(csv.headers['content-disposition']).toBe(
      `attachment; filename="eu-indicators-${a.fund.id}-2025-01-01-2025-12-31.csv"`,
    );
    expect(csv.text).toBe(
      [
        'indicator,value',
        `fund_ids/0,${a.fund.id}`,
        `fund_ids/1,${b.fund.id}`,
        'from,2025-01-01',
        'to,2025-12-31',
        'funding_source_id,',
        'loan_count,6',
        'rco01/value,3',
        'rco01/micro,1',
        'rco01/small,0',
        'rco01/medium,0',
        'rco01/large,1',
        'rco01/unknown,1',
        'rco03/value,3',
        'rcr01/value,7.5',
        'rcr01/enterprises_reporting,2',
        'rcr01/enterprises_not_reporting,1',
        '',
      ].join('\r\n'),
    );
    expect(
      (
        await as(app, a.manager.secret).get(
          `/v1/funds/${a.fund.id}/eu-indicators.csv?from=2025-01-01&to=2025-12-31&also_fund_ids=${b.fund.id}`,
        )
      ).status,
    ).toBe(404);
  });
});
