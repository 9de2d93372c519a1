import type { Express } from 'express';
import request from 'supertest';
import type { CalendarDate } from '../../src/domain/dates';
import { withLuhnCheckDigit } from '../../src/domain/structure-identifiers';
import { replayLoan } from '../../src/imports/replay-loan';
import { loanColumns, rowToLoan } from '../../src/loans/loan-rows';
import { testDb } from '../support/db';
import { testApp } from '../support/app';
import { expectContract } from '../support/contract';
import {
  as,
  createKey,
  createProduct,
  createStructure,
  fundWithManager,
  randomSiret,
} from '../support/portfolio';

// Figures hand-checked in docs/state-aid.md (python's decimal module, test/unit/gge.test.ts): with an
// EU base rate of 3.5 %, discount rate 4.5 %.

let app: Express;
beforeAll(async () => {
  app = await testApp();
});

async function desk() {
  const { fund, manager } = await fundWithManager(app);
  const api = as(app, manager.secret);
  const product = await createProduct(app, fund.id, manager.secret, {
    term_periods_min: 1,
    rating_class: 'satisfactory',
    collateral_class: 'normal',
  });
  const structure = await createStructure(app, fund.id, manager.secret);
  return { fund, manager, api, product, structure };
}
type Desk = Awaited<ReturnType<typeof desk>>;

const loanBody = (d: Desk, overrides: Record<string, unknown> = {}) => ({
  product_id: d.product.id,
  structure_id: d.structure.id,
  principal: '10000.00',
  annual_rate_percent: '0',
  periodicity: 'quarterly',
  term_periods: 12,
  method: 'annuity',
  disbursement_date: '2025-01-15',
  ...overrides,
});

async function disbursed(d: Desk, overrides: Record<string, unknown> = {}) {
  const created = await d.api.post('/v1/loans', loanBody(d, overrides));
  expect(created.status).toBe(201);
  const res = await d.api.post(
    `/v1/loans/${created.body.id}/disbursement`,
    { date: '2025-01-15', amount: created.body.principal },
    { 'Idempotency-Key': `d-${created.body.id}` },
  );
  expect(res.status).toBe(200);
  return res.body as { id: string; state_aid: Record<string, unknown> };
}

describe('EU base rates', () => {
  it('a manager records them per date (409 twice), an auditor reads but may not write, others see 404', async () => {
    const d = await desk();
    const first = await d.api.post('/v1/eu-base-rates', {
      fund_id: d.fund.id,
      effective_date: '2024-01-01',
      rate_percent: '3.50',
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      fund_id: d.fund.id,
      effective_date: '2024-01-01',
      rate_percent: '3.5',
    });
    expect(
      (
        await d.api.post('/v1/eu-base-rates', {
          fund_id: d.fund.id,
          effective_date: '2024-01-01',
          rate_percent: '3.6',
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await d.api.post('/v1/eu-base-rates', {
          fund_id: d.fund.id,
          effective_date: '2016-01-01',
          rate_percent: '-0.31',
        })
      ).body.rate_percent,
    ).toBe('-0.31');
    const auditor = await createKey(app, { role: 'auditor', fund_id: d.fund.id });
    expect(
      (
        await as(app, auditor.secret).post('/v1/eu-base-rates', {
          fund_id: d.fund.id,
          effective_date: '2025-01-01',
          rate_percent: '3',
        })
      ).status,
    ).toBe(403);
    const listed = await as(app, auditor.secret).get(`/v1/eu-base-rates?fund_id=${d.fund.id}`);
    expect(listed.body.items.map((r: { rate_percent: string }) => r.rate_percent)).toEqual([
      '3.5',
      '-0.31',
    ]);
    const other = await fundWithManager(app);
    expect(
      (await as(app, other.manager.secret).get(`/v1/eu-base-rates?fund_id=${d.fund.id}`)).status,
    ).toBe(404);
    const audit = await d.api.get(`/v1/audit-events?fund_id=${d.fund.id}`);
    expect(
      audit.body.items.filter((e: { action: string }) => e.action === 'eu_base_rate.recorded'),
    ).toHaveLength(2);
  });
});

describe('the gross grant equivalent, stored at disbursement', () => {
  it('hand-checked: a 0 % loan with no credit history, a below-market loan (the product’s classes), a total deferral', async () => {
    const d = await desk();
    await d.api.post('/v1/eu-base-rates', {
      fund_id: d.fund.id,
      effective_date: '2024-09-01',
      rate_percent: '3.5',
    });
    await d.api.post('/v1/eu-base-rates', {
      fund_id: d.fund.id,
      effective_date: '2025-02-01',
      rate_percent: '9',
    }); // not yet in force on 15 January

    const zero = await disbursed(d, { rating_class: 'no_credit_history' });
    expect(zero.state_aid).toEqual({
      rating_class: 'no_credit_history',
      collateral_class: 'normal',
      legal_basis: 'de_minimis',
      aid_scheme_reference: null,
      base_rate_percent: '3.5',
      reference_rate_percent: '7.5',
      discount_rate_percent: '4.5',
      gross_grant_equivalent: '1156.67',
      missing: null,
    });
    const below = await disbursed(d, {
      principal: '50000.00',
      annual_rate_percent: '2',
      term_periods: 8,
    });
    expect(below.state_aid).toMatchObject({
      rating_class: 'satisfactory',
      collateral_class: 'normal',
      reference_rate_percent: '5.7',
      gross_grant_equivalent: '2011.63',
    });
    const deferral = await disbursed(d, {
      principal: '20000.00',
      annual_rate_percent: '1',
      term_periods: 6,
      deferral_periods: 2,
      deferral_type: 'total',
      rating_class: 'no_credit_history',
    });
    expect(deferral.state_aid.gross_grant_equivalent).toBe('1419.19');

    const shown = await d.api.get(`/v1/loans/${zero.id}`);
    expect(shown.body.state_aid.gross_grant_equivalent).toBe('1156.67');
    const register = await d.api.get(
      `/v1/funds/${d.fund.id}/state-aid?from=2025-01-01&to=2025-12-31`,
    );
    expect(
      register.body.items.map((i: { gross_grant_equivalent: string }) => i.gross_grant_equivalent),
    ).toEqual(['1156.67', '2011.63', '1419.19']);
    expect(register.body.items[0]).toMatchObject({
      siren: d.structure.siret!.slice(0, 9),
      rna: null,
      grant_date: '2025-01-15',
      legal_basis: 'de_minimis',
      reason: 'disbursement',
    });
  });

  it('without a base rate in force on the disbursement date: disbursed, GGE null, missing eu_base_rate, no aid grant', async () => {
    const d = await desk();
    await d.api.post('/v1/eu-base-rates', {
      fund_id: d.fund.id,
      effective_date: '2025-06-01',
      rate_percent: '3.5',
    });
    const loan = await disbursed(d);
    expect(loan.state_aid).toMatchObject({
      base_rate_percent: null,
      gross_grant_equivalent: null,
      missing: 'eu_base_rate',
    });
    expect(
      (await d.api.get(`/v1/funds/${d.fund.id}/state-aid?from=2025-01-01&to=2025-12-31`)).body
        .items,
    ).toEqual([]);
  });

  it('a restructuring that lengthens a 0 % loan grants the increase as new aid on its effective date', async () => {
    const d = await desk();
    await d.api.post('/v1/eu-base-rates', {
      fund_id: d.fund.id,
      effective_date: '2024-09-01',
      rate_percent: '3.5',
    });
    const loan = await disbursed(d, { rating_class: 'no_credit_history' });
    const res = await d.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'extension',
      effective_date: '2025-03-01',
      term_periods: 20,
      reason: 'Baisse d’activité',
    });
    expect(res.status).toBe(201);
    const after = (await d.api.get(`/v1/loans/${loan.id}`)).body.state_aid;
    const register = (
      await d.api.get(`/v1/funds/${d.fund.id}/state-aid?from=2025-01-01&to=2025-12-31`)
    ).body.items as { grant_date: string; gross_grant_equivalent: string; reason: string }[];
    expect(register.map((i) => [i.grant_date, i.reason])).toEqual([
      ['2025-01-15', 'disbursement'],
      ['2025-03-01', 'restructuring'],
    ]);
    const cents = (s: string) => Math.round(Number(s) * 100);
    expect(cents(register[1]!.gross_grant_equivalent)).toBeGreaterThan(0);
    expect(
      cents(register[0]!.gross_grant_equivalent) + cents(register[1]!.gross_grant_equivalent),
    ).toBe(cents(after.gross_grant_equivalent));
    expect(after.reference_rate_percent).toBe('7.5'); // the grant date's rates, kept
  });
});

describe('the CSV import’s replay', () => {
  it('disburses a loan with the same GGE and aid grant as POST …/disbursement (rates read once per transaction)', async () => {
    const d = await desk();
    await d.api.post('/v1/eu-base-rates', {
      fund_id: d.fund.id,
      effective_date: '2024-09-01',
      rate_percent: '3.5',
    });
    const created = await d.api.post(
      '/v1/loans',
      loanBody(d, { rating_class: 'no_credit_history' }),
    );
    const db = await testDb();
    const replayed = await db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('loans')
        .selectAll()
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      return replayLoan(trx, rowToLoan(row), [], '2026-12-07' as CalendarDate);
    });
    // As the import stores it (updateReplayedLoans writes loanColumns of it).
    const stored = loanColumns(replayed.loan);
    expect(stored).toMatchObject({
      base_rate_percent: '3.5',
      reference_rate_percent: '7.5',
      discount_rate_percent: '4.5',
      gross_grant_equivalent: '1156.67',
    });
    expect(replayed.aidGrants).toEqual([
      expect.objectContaining({
        loan_id: created.body.id,
        grant_date: '2025-01-15',
        amount: '1156.67',
        reason: 'disbursement',
        legal_basis: 'de_minimis',
      }),
    ]);
    const byHand = await disbursed(d, { rating_class: 'no_credit_history' });
    expect(byHand.state_aid.gross_grant_equivalent).toBe(stored.gross_grant_equivalent);
  });
});

describe('the product’s default classes', () => {
  it('PATCH changes them for loans to come; a loan keeps the classes it was created with', async () => {
    const d = await desk();
    const before = await d.api.post('/v1/loans', loanBody(d));
    expect(before.body.state_aid).toMatchObject({
      rating_class: 'satisfactory',
      collateral_class: 'normal',
    });
    const patched = await d.api.patch(`/v1/products/${d.product.id}`, {
      rating_class: 'good',
      collateral_class: null,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ rating_class: 'good', collateral_class: null });
    expect((await d.api.post('/v1/loans', loanBody(d))).body.state_aid).toMatchObject({
      rating_class: 'good',
      collateral_class: 'normal',
    });
    expect((await d.api.get(`/v1/loans/${before.body.id}`)).body.state_aid.rating_class).toBe(
      'satisfactory',
    );
  });
});

describe('the schedule preview', () => {
  it('shows the GGE at the base rate and classes given (public, nothing stored)', async () => {
    const body = {
      principal: '10000.00',
      annual_rate_percent: '0',
      periodicity: 'quarterly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-15',
    };
    const res = await as(app, undefined).post('/v1/schedules/preview', {
      ...body,
      state_aid: {
        base_rate_percent: '3.5',
        rating_class: 'no_credit_history',
        collateral_class: 'normal',
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.state_aid).toEqual({
      rating_class: 'no_credit_history',
      collateral_class: 'normal',
      base_rate_percent: '3.5',
      reference_rate_percent: '7.5',
      discount_rate_percent: '4.5',
      gross_grant_equivalent: '1156.67',
    });
    const strong = await as(app, undefined).post('/v1/schedules/preview', {
      ...body,
      state_aid: { base_rate_percent: '3.5', rating_class: 'strong', collateral_class: 'high' },
    });
    expect(strong.body.state_aid.reference_rate_percent).toBe('4.1');
    expect(Number(strong.body.state_aid.gross_grant_equivalent)).toBeLessThan(1156.67);
    expect(
      (await as(app, undefined).post('/v1/schedules/preview', body)).body.state_aid,
    ).toBeUndefined();
  });
});

describe('de minimis headroom (Regulation (EU) 2023/2831: €300,000 over any three years)', () => {
  it('declared aid and structures of one undertaking (same SIREN, linked) count; aid older than three years does not; a block-exemption loan is not checked', async () => {
    const d = await desk();
    await d.api.post('/v1/eu-base-rates', {
      fund_id: d.fund.id,
      effective_date: '2024-09-01',
      rate_percent: '3.5',
    });
    const siren = d.structure.siret!.slice(0, 9);
    const sibling = await createStructure(app, d.fund.id, d.manager.secret, {
      siret: withLuhnCheckDigit(`${siren}9999`),
    });
    const partner = await createStructure(app, d.fund.id, d.manager.secret, {
      siret: randomSiret(),
    });

    expect(
      (
        await d.api.post(`/v1/structures/${sibling.id}/declared-aid`, {
          grantor: 'Région',
          grant_date: '2023-06-01',
          amount: '299000.00',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await d.api.post(`/v1/structures/${d.structure.id}/declared-aid`, {
          grantor: 'Ville',
          grant_date: '2021-06-01',
          amount: '100000.00',
        })
      ).status,
    ).toBe(201);
    const headroom = await d.api.get(`/v1/structures/${d.structure.id}/state-aid?as_of=2025-01-15`);
    expect(headroom.body).toMatchObject({
      siren,
      de_minimis_received: '299000.00',
      de_minimis_headroom: '1000.00',
      sgei_headroom: '451000.00',
      window_after: '2022-01-15',
    });
    expect(headroom.body.undertaking_structure_ids).toHaveLength(2);

    // 1,156.67 of aid (hand-checked above) against 1,000.00 left: refused at creation, naming the headroom.
    const refused = await d.api.post(
      '/v1/loans',
      loanBody(d, { rating_class: 'no_credit_history' }),
    );
    expect(refused.status).toBe(422);
    expect(refused.body.headroom).toBe('1000.00');
    expect(refused.body.gross_grant_equivalent).toBe('1156.67');
    expect(refused.body.errors[0].field).toBe('principal');
    // The same through the partner once linked; not once unlinked.
    expect(
      (
        await d.api.post(`/v1/structures/${partner.id}/undertaking-links`, {
          structure_id: d.structure.id,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await d.api.post(
          '/v1/loans',
          loanBody(d, { structure_id: partner.id, rating_class: 'no_credit_history' }),
        )
      ).status,
    ).toBe(422);
    expect(
      (await d.api.delete(`/v1/structures/${d.structure.id}/undertaking-links/${partner.id}`))
        .status,
    ).toBe(204);
    expect(
      (
        await d.api.post(
          '/v1/loans',
          loanBody(d, { structure_id: partner.id, rating_class: 'no_credit_history' }),
        )
      ).status,
    ).toBe(201);
    // Three years on, the 2023 aid has left the window.
    expect(
      (await d.api.get(`/v1/structures/${d.structure.id}/state-aid?as_of=2026-06-02`)).body
        .de_minimis_headroom,
    ).toBe('300000.00');
    // Another legal basis is not checked against the de minimis ceiling; a block exemption names its scheme.
    expect(
      fieldsOfBody(
        (await d.api.post('/v1/loans', loanBody(d, { legal_basis: 'block_exemption' }))).body,
      ),
    ).toEqual(['aid_scheme_reference']);
    const exempt = await d.api.post(
      '/v1/loans',
      loanBody(d, {
        rating_class: 'no_credit_history',
        legal_basis: 'block_exemption',
        aid_scheme_reference: 'SA.100189',
      }),
    );
    expect(exempt.status).toBe(201);
    expect(exempt.body.state_aid).toMatchObject({
      legal_basis: 'block_exemption',
      aid_scheme_reference: 'SA.100189',
    });
  });

  it('the register as CSV, by Accept or .csv, cells neutralised', async () => {
    const d = await desk();
    await d.api.post('/v1/eu-base-rates', {
      fund_id: d.fund.id,
      effective_date: '2024-09-01',
      rate_percent: '3.5',
    });
    await disbursed(d, { rating_class: 'no_credit_history' });
    const byAccept = await request(app)
      .get(`/v1/funds/${d.fund.id}/state-aid?from=2025-01-01&to=2025-12-31`)
      .set('Authorization', `Bearer ${d.manager.secret}`)
      .set('Accept', 'text/csv');
    expectContract(byAccept, 'get', '/v1/funds/{fund_id}/state-aid');
    expect(byAccept.type).toBe('text/csv');
    const lines = byAccept.text.trim().split('\r\n');
    expect(lines[0]).toBe(
      'siren,rna,legal_name,structure_id,loan_id,grant_date,gross_grant_equivalent,reason,legal_basis',
    );
    expect(lines[1]).toContain(',2025-01-15,1156.67,disbursement,de_minimis');
    const bySuffix = await request(app)
      .get(`/v1/funds/${d.fund.id}/state-aid.csv?from=2025-01-01&to=2025-12-31`)
      .set('Authorization', `Bearer ${d.manager.secret}`);
    expect(bySuffix.text).toBe(byAccept.text);
  });
});

const fieldsOfBody = (body: { errors?: { field: string }[] }) =>
  [...new Set((body.errors ?? []).map((e) => e.field))].sort();

describe('the headroom at a restructuring (new aid on its effective date)', () => {
  it('refuses an increase above the headroom (422 naming the changed field and the headroom); a block-exemption loan is not checked', async () => {
    const d = await desk();
    await d.api.post('/v1/eu-base-rates', {
      fund_id: d.fund.id,
      effective_date: '2024-09-01',
      rate_percent: '3.5',
    });
    // 298,800.00 declared: 1,200.00 left; the loan's 1,156.67 fits, leaving 43.33.
    expect(
      (
        await d.api.post(`/v1/structures/${d.structure.id}/declared-aid`, {
          grantor: 'Région',
          grant_date: '2024-06-01',
          amount: '298800.00',
        })
      ).status,
    ).toBe(201);
    const loan = await disbursed(d, { rating_class: 'no_credit_history' });
    expect(loan.state_aid.gross_grant_equivalent).toBe('1156.67');

    const refused = await d.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'extension',
      effective_date: '2025-03-01',
      term_periods: 20,
      reason: 'Baisse d’activité',
    });
    expectContract(refused, 'post', '/v1/loans/{loan_id}/restructurings');
    expect(refused.status).toBe(422);
    expect(refused.body.headroom).toBe('43.33');
    expect(refused.body.detail).toMatch(
      /^The new aid of the restructuring .*, 661\.06, exceeds the undertaking's de minimis \(€300,000\) headroom of 43\.33 over the three years to 2025-03-01\.$/,
    );
    expect(Number(refused.body.gross_grant_equivalent)).toBeGreaterThan(43.33);
    expect(refused.body.errors).toEqual([
      {
        field: 'term_periods',
        in: 'body',
        message: `the gross grant equivalent ${refused.body.gross_grant_equivalent} exceeds the de minimis headroom 43.33`,
      },
    ]);
    // Nothing of it stays: the loan's GGE, schedule and the register are as before.
    const after = (await d.api.get(`/v1/loans/${loan.id}`)).body;
    expect(after.state_aid.gross_grant_equivalent).toBe('1156.67');
    expect(after.schedule_version).toBe(1);
    expect(
      (await d.api.get(`/v1/funds/${d.fund.id}/state-aid?from=2025-01-01&to=2025-12-31`)).body
        .items,
    ).toHaveLength(1);
    // A restructuring that grants no new aid (a higher rate) is not refused.
    expect(
      (
        await d.api.post(`/v1/loans/${loan.id}/restructurings`, {
          type: 'rate_change',
          effective_date: '2025-03-01',
          annual_rate_percent: '1',
          reason: 'Révision',
        })
      ).status,
    ).toBe(201);

    const exempt = await disbursed(d, {
      rating_class: 'no_credit_history',
      legal_basis: 'block_exemption',
      aid_scheme_reference: 'SA.100189',
    });
    expect(
      (
        await d.api.post(`/v1/loans/${exempt.id}/restructurings`, {
          type: 'extension',
          effective_date: '2025-03-01',
          term_periods: 20,
          reason: 'Baisse d’activité',
        })
      ).status,
    ).toBe(201);
  });

  it('a portfolio moratorium skips the loan whose new aid exceeds its headroom, with the reason, and defers the others', async () => {
    const d = await desk();
    await d.api.post('/v1/eu-base-rates', {
      fund_id: d.fund.id,
      effective_date: '2024-09-01',
      rate_percent: '3.5',
    });
    await d.api.post(`/v1/structures/${d.structure.id}/declared-aid`, {
      grantor: 'Région',
      grant_date: '2024-06-01',
      amount: '298800.00',
    });
    const capped = await disbursed(d, { rating_class: 'no_credit_history' });
    const other = await createStructure(app, d.fund.id, d.manager.secret, { siret: randomSiret() });
    const free = await disbursed(d, { structure_id: other.id, rating_class: 'no_credit_history' });

    const res = await d.api.post(`/v1/funds/${d.fund.id}/moratoria`, {
      effective_date: '2025-03-01',
      periods: 4,
      reason: 'Crise',
    });
    expectContract(res, 'post', '/v1/funds/{fund_id}/moratoria');
    expect(res.status).toBe(201);
    expect(res.body.changed_loan_ids).toEqual([free.id]);
    expect(res.body.skipped_loans).toEqual([
      {
        loan_id: capped.id,
        reason: expect.stringContaining('exceeds the de minimis headroom 43.33'),
      },
    ]);
    expect((await d.api.get(`/v1/loans/${capped.id}`)).body.schedule_version).toBe(1);
    const register = (
      await d.api.get(`/v1/funds/${d.fund.id}/state-aid?from=2025-01-01&to=2025-12-31`)
    ).body.items as { loan_id: string; reason: string }[];
    expect(register.filter((i) => i.reason === 'restructuring').map((i) => i.loan_id)).toEqual([
      free.id,
    ]);
  });
});

describe('the headroom in a CSV import', () => {
  it('reports, on the loan’s row, a GGE above its undertaking’s headroom: the fund’s aid, declared aid and the file’s earlier loans counted in line order', async () => {
    const d = await desk();
    await d.api.post('/v1/eu-base-rates', {
      fund_id: d.fund.id,
      effective_date: '2024-09-01',
      rate_percent: '3.5',
    });
    const product = await createProduct(app, d.fund.id, d.manager.secret, {
      term_periods_min: 1,
      rating_class: 'no_credit_history',
      collateral_class: 'normal',
    });
    // 298,000.00 declared by the structure: 2,000.00 left, room for one 1,156.67 loan, not two.
    await d.api.post(`/v1/structures/${d.structure.id}/declared-aid`, {
      grantor: 'Région',
      grant_date: '2024-06-01',
      amount: '298000.00',
    });
    const partner = await createStructure(app, d.fund.id, d.manager.secret, {
      siret: randomSiret(),
    });
    expect(
      (
        await d.api.post(`/v1/structures/${partner.id}/undertaking-links`, {
          structure_id: d.structure.id,
        })
      ).status,
    ).toBe(201);
    const stranger = await createStructure(app, d.fund.id, d.manager.secret, {
      siret: randomSiret(),
    });
    const sibling = withLuhnCheckDigit(`${d.structure.siret!.slice(0, 9)}9999`); // a new establishment of the same SIREN
    const loan = (reference: string, siret: string, date = '2025-01-15') =>
      `${reference},${siret},${product.id},10000.00,0,quarterly,12,annuity,${date}`;
    const files = {
      fund_id: d.fund.id,
      structures: [
        'legal_name,siret,legal_form,naf_code,commune_code,department_code,region_code,jobs_fte,contact_email',
        `Jardins Est,${sibling},association,88.99B,69123,69,84,3,a@example.org`,
      ].join('\n'),
      loans: [
        'external_reference,structure_siret,product_id,principal,annual_rate_percent,periodicity,term_periods,method,disbursement_date',
        loan('L1', d.structure.siret!), // fits: 2,000.00 left
        loan('L2', sibling), // same SIREN, after L1: 843.33 left
        loan('L3', stranger.siret!), // another undertaking
        loan('L4', partner.siret!), // linked to the structure: 843.33 left
        loan('L5', partner.siret!, '2024-08-15'), // before any base rate: no GGE, as at disbursement
      ].join('\n'),
    };
    const res = await d.api.post('/v1/imports', files);
    expectContract(res, 'post', '/v1/imports');
    expect(res.status).toBe(200);
    const words = 'the gross grant equivalent 1156.67 exceeds the de minimis headroom 843.33';
    expect(res.body.errors).toEqual([
      { file: 'loans', row: 3, column: 'principal', rule: 'rule_violation', message: words },
      { file: 'loans', row: 5, column: 'principal', rule: 'rule_violation', message: words },
    ]);
    expect(res.body.files.loans).toEqual({
      rows_read: 5,
      rows_valid: 3,
      rows_to_create: 3,
      rows_already_present: 0,
    });

    // The commit's request refuses the same, in the same words; nothing is written.
    const commit = await d.api.post('/v1/imports', { ...files, mode: 'commit' });
    expectContract(commit, 'post', '/v1/imports');
    expect(commit.status).toBe(422);
    expect(commit.body.errors).toEqual([
      { field: 'loans[3].principal', in: 'body', message: words },
      { field: 'loans[5].principal', in: 'body', message: words },
    ]);
    // The API says the same of L2 entered by hand after L1.
    const l1 = await disbursed(d, { product_id: product.id });
    expect(l1.state_aid.gross_grant_equivalent).toBe('1156.67');
    const byHand = await d.api.post(
      '/v1/loans',
      loanBody(d, { product_id: product.id, structure_id: partner.id }),
    );
    expect(byHand.status).toBe(422);
    expect(byHand.body.errors[0]).toMatchObject({ field: 'principal', message: words });
  });
});
