import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import type { CalendarDate } from '../../src/domain/dates';
import { ADMIN_KEY, testApp } from '../support/app';
import { testDb } from '../support/db';
import {
  as,
  createKey,
  createProduct,
  createStructure,
  fieldsOf,
  fundWithManager,
  type AuditEvent,
} from '../support/portfolio';

/** The routes' "today": the tests read the same any day. */
const TODAY = '2026-06-15' as CalendarDate;
const TOMORROW = '2026-06-16';

let app: Express;
beforeAll(async () => {
  app = await testApp({ today: () => TODAY });
});

interface Loan {
  id: string;
  fund_id: string;
  structure_id: string;
  kind: string;
  status: string;
  rounding: string;
  principal: string;
  disbursed_on: string | null;
  schedule_version: number;
}
interface LoanInstalment {
  number: number;
  due_date: string;
  total: string;
  paid: string;
  status: string;
}

/** 20,000.00 at 3.5 % over 24 months, annuity, expected to be paid out on 2025-01-10. */
const loanBody = (
  productId: string,
  structureId: string,
  overrides: Record<string, unknown> = {},
) => ({
  product_id: productId,
  structure_id: structureId,
  principal: '20000.00',
  annual_rate_percent: '3.50',
  periodicity: 'monthly',
  term_periods: 24,
  method: 'annuity',
  disbursement_date: '2025-01-10',
  ...overrides,
});

/** The schedule terms of a loan body, as /v1/schedules/preview takes them. */
const termsOf = (body: ReturnType<typeof loanBody>) => {
  const { product_id: _product, structure_id: _structure, ...terms } = body;
  return terms;
};

/** A fund with its manager, a product (0–3.5 %, 12–84 months, annuity or linear) and a borrowing structure. */
async function lendingFund(productOverrides: Record<string, unknown> = {}) {
  const { fund, manager } = await fundWithManager(app);
  const product = await createProduct(app, fund.id, manager.secret, productOverrides);
  const structure = await createStructure(app, fund.id, manager.secret);
  return { fund, manager, product, structure };
}

async function createLoan(key: string, body: Record<string, unknown>): Promise<Loan> {
  const res = await as(app, key).post('/v1/loans', body);
  if (res.status !== 201)
    throw new Error(`creating a loan answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as Loan;
}

async function disburse(key: string, loanId: string, date: string, amount = '20000.00') {
  return as(app, key).post(`/v1/loans/${loanId}/disbursement`, { date, amount });
}

const scheduleOf = async (key: string, loanId: string, asOf: string) =>
  as(app, key).get(`/v1/loans/${loanId}/schedule?as_of=${asOf}`);

/** The preview's rows as a loan schedule shows them before anything is paid. */
async function previewRows(terms: Record<string, unknown>, status: string) {
  const res = await as(app, undefined).post('/v1/schedules/preview', terms);
  expect(res.status).toBe(200);
  return (res.body.instalments as object[]).map((row) => ({
    ...row,
    paid: '0.00',
    paid_interest: '0.00',
    paid_principal: '0.00',
    status,
  }));
}

describe('granting a loan', () => {
  it('a manager creates a pending loan: 201, a Location, the product’s kind, nothing outstanding', async () => {
    const { fund, manager, product, structure } = await lendingFund({ kind: 'common_law' });
    const body = loanBody(product.id, structure.id);
    const res = await as(app, manager.secret).post('/v1/loans', body);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/loans/${res.body.id}`);
    expect(res.body).toMatchObject({
      fund_id: fund.id,
      product_id: product.id,
      structure_id: structure.id,
      kind: 'common_law',
      status: 'pending',
      restructured: false,
      principal: '20000.00',
      annual_rate_percent: '3.5',
      rounding: 'half_up',
      deferral_periods: 0,
      deferral_type: 'partial',
      day_count: '30E/360',
      instalment_multiple: '0.01',
      disbursement_date: '2025-01-10',
      first_due_date: null,
      disbursed_on: null,
      cancelled_on: null,
      outstanding_principal: '0.00',
      schedule_version: 0,
    });
    expect(
      (await as(app, manager.secret).get(`${res.headers.location!}?as_of=2025-06-01`)).body,
    ).toEqual({
      ...res.body,
      as_of: '2025-06-01',
      arrears: {
        overdue_principal: '0.00',
        overdue_interest: '0.00',
        overdue_fees: '0.00',
        overdue_total: '0.00',
        overdue_instalments: 0,
        days_past_due: 0,
      },
    });
  });

  // LoanCreate says "rounding defaults to the product's", yet its schema also says `default: half_up`,
  // which the request validator writes into the body before createLoan can fall back to the product.
  it('a loan that names no rounding takes its product’s (half_even)', async () => {
    const { manager, product, structure } = await lendingFund({ rounding: 'half_even' });
    expect((await as(app, manager.secret).get(`/v1/products/${product.id}`)).body.rounding).toBe(
      'half_even',
    );
    expect((await createLoan(manager.secret, loanBody(product.id, structure.id))).rounding).toBe(
      'half_even',
    );
  });

  it('terms outside every range of the product → one 422 naming each offending field', async () => {
    const { manager, product, structure } = await lendingFund();
    const res = await as(app, manager.secret).post(
      '/v1/loans',
      loanBody(product.id, structure.id, {
        principal: '150000.00',
        annual_rate_percent: '5',
        term_periods: 120,
        deferral_periods: 30,
        method: 'bullet',
        periodicity: 'annual',
      }),
    );
    expect(res.status).toBe(422);
    expect(res.body.type).toBe('/problems/rule-violation');
    expect(fieldsOf(res)).toEqual([
      'annual_rate_percent',
      'deferral_periods',
      'method',
      'periodicity',
      'principal',
      'term_periods',
    ]);
  });

  it('a deferral as long as the term breaks a schedule rule → 422 naming deferral_periods', async () => {
    const { manager, product, structure } = await lendingFund();
    const res = await as(app, manager.secret).post(
      '/v1/loans',
      loanBody(product.id, structure.id, { term_periods: 12, deferral_periods: 12 }),
    );
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(['deferral_periods']);
  });

  it('a product of another fund, or none at all → 404 naming product_id', async () => {
    const { manager, structure } = await lendingFund();
    const elsewhere = await lendingFund();
    for (const productId of [elsewhere.product.id, randomUUID()]) {
      const res = await as(app, manager.secret).post(
        '/v1/loans',
        loanBody(productId, structure.id),
      );
      expect(res.status).toBe(404);
      expect(fieldsOf(res)).toEqual(['product_id']);
    }
  });

  it('the admin pairing a product with another fund’s structure → 422 naming structure_id', async () => {
    const { product } = await lendingFund();
    const elsewhere = await lendingFund();
    const res = await as(app, ADMIN_KEY).post(
      '/v1/loans',
      loanBody(product.id, elsewhere.structure.id),
    );
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(['structure_id']);
  });

  it('a manager naming another fund’s structure → 404 naming structure_id', async () => {
    const { manager, product } = await lendingFund();
    const elsewhere = await lendingFund();
    const res = await as(app, manager.secret).post(
      '/v1/loans',
      loanBody(product.id, elsewhere.structure.id),
    );
    expect(res.status).toBe(404);
    expect(fieldsOf(res)).toEqual(['structure_id']);
  });

  it('an auditor may not grant (403); a structure key does not see the product (404); nothing is created', async () => {
    const { fund, manager, product, structure } = await lendingFund();
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id }, manager.secret);
    const portal = await createKey(
      app,
      { role: 'structure', structure_id: structure.id },
      manager.secret,
    );
    expect(
      (await as(app, auditor.secret).post('/v1/loans', loanBody(product.id, structure.id))).status,
    ).toBe(403);
    const fromPortal = await as(app, portal.secret).post(
      '/v1/loans',
      loanBody(product.id, structure.id),
    );
    expect(fromPortal.status).toBe(404);
    expect(fieldsOf(fromPortal)).toEqual(['product_id']);
    expect((await as(app, manager.secret).get(`/v1/loans?fund_id=${fund.id}`)).body.items).toEqual(
      [],
    );
  });
});

describe('the schedule of a pending loan is a projection', () => {
  it('computed from the expected disbursement date, as the preview computes it', async () => {
    const { manager, product, structure } = await lendingFund();
    const body = loanBody(product.id, structure.id);
    const loan = await createLoan(manager.secret, body);
    const res = await scheduleOf(manager.secret, loan.id, '2025-01-10');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      loan_id: loan.id,
      version: 0,
      projected: true,
      as_of: '2025-01-10',
    });
    expect(res.body.instalments).toHaveLength(24);
    expect(res.body.instalments[0].due_date).toBe('2025-02-10');
    expect(res.body.instalments).toEqual(await previewRows(termsOf(body), 'upcoming'));
  });
});

describe('disbursing a loan', () => {
  it('fixes schedule version 1 from the actual date: paid out 5 days late, every due date moves 5 days', async () => {
    const { manager, product, structure } = await lendingFund();
    const body = loanBody(product.id, structure.id);
    const loan = await createLoan(manager.secret, body);
    const res = await disburse(manager.secret, loan.id, '2025-01-15');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: loan.id,
      status: 'active',
      disbursement_date: '2025-01-10',
      disbursed_on: '2025-01-15',
      outstanding_principal: '20000.00',
      schedule_version: 1,
    });

    const schedule = await scheduleOf(manager.secret, loan.id, '2025-01-15');
    expect(schedule.body).toMatchObject({ version: 1, projected: false });
    expect(schedule.body.instalments[0].due_date).toBe('2025-02-15');
    expect(schedule.body.instalments).toEqual(
      await previewRows({ ...termsOf(body), disbursement_date: '2025-01-15' }, 'upcoming'),
    );
  });

  it('an amount other than the principal → 422 naming amount', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(manager.secret, loanBody(product.id, structure.id));
    const res = await disburse(manager.secret, loan.id, '2025-01-10', '19999.99');
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(['amount']);
  });

  it('a date in the future → 422 naming date', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(manager.secret, loanBody(product.id, structure.id));
    const res = await disburse(manager.secret, loan.id, TOMORROW);
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(['date']);
  });

  it('a date on or after the first due date → 422 naming date', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(
      manager.secret,
      loanBody(product.id, structure.id, { first_due_date: '2025-02-15' }),
    );
    for (const date of ['2025-02-15', '2025-03-01']) {
      const res = await disburse(manager.secret, loan.id, date);
      expect(res.status).toBe(422);
      expect(fieldsOf(res)).toEqual(['date']);
    }
  });

  it('a loan is paid out once: disbursing again → 409, and a cancelled loan cannot be paid out → 409', async () => {
    const { manager, product, structure } = await lendingFund();
    const active = await createLoan(manager.secret, loanBody(product.id, structure.id));
    expect((await disburse(manager.secret, active.id, '2025-01-10')).status).toBe(200);
    const twice = await disburse(manager.secret, active.id, '2025-01-10');
    expect(twice.status).toBe(409);
    expect(twice.body.type).toBe('/problems/conflict');

    const cancelled = await createLoan(manager.secret, loanBody(product.id, structure.id));
    expect(
      (await as(app, manager.secret).post(`/v1/loans/${cancelled.id}/cancellation`, {})).status,
    ).toBe(200);
    expect((await disburse(manager.secret, cancelled.id, '2025-01-10')).status).toBe(409);
  });

  it('an auditor may not disburse (403): the loan stays pending', async () => {
    const { fund, manager, product, structure } = await lendingFund();
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id }, manager.secret);
    const loan = await createLoan(manager.secret, loanBody(product.id, structure.id));
    expect((await disburse(auditor.secret, loan.id, '2025-01-10')).status).toBe(403);
    expect((await as(app, auditor.secret).get(`/v1/loans/${loan.id}`)).body).toMatchObject({
      status: 'pending',
      schedule_version: 0,
    });
  });

  // The loan is in the portal's scope (it reads it): a write is a 403, as for an auditor (openapi.yaml, security).
  it('a structure key may read its loan but not disburse it: 403, not 404', async () => {
    const { manager, product, structure } = await lendingFund();
    const portal = await createKey(
      app,
      { role: 'structure', structure_id: structure.id },
      manager.secret,
    );
    const loan = await createLoan(manager.secret, loanBody(product.id, structure.id));
    expect((await as(app, portal.secret).get(`/v1/loans/${loan.id}`)).status).toBe(200);
    expect((await disburse(portal.secret, loan.id, '2025-01-10')).status).toBe(403);
  });

  it('a refused disbursement writes nothing: no schedule version, no instalment, still pending', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(manager.secret, loanBody(product.id, structure.id));
    expect((await disburse(manager.secret, loan.id, '2025-01-10', '20000.01')).status).toBe(422);

    expect((await as(app, manager.secret).get(`/v1/loans/${loan.id}`)).body).toMatchObject({
      status: 'pending',
      disbursed_on: null,
      schedule_version: 0,
    });
    expect(
      (await as(app, manager.secret).get(`/v1/loans/${loan.id}/schedule/versions`)).body.items,
    ).toEqual([]);
    const db = await testDb();
    expect(
      await db.selectFrom('schedule_versions').selectAll().where('loan_id', '=', loan.id).execute(),
    ).toEqual([]);
    expect(
      await db.selectFrom('instalments').selectAll().where('loan_id', '=', loan.id).execute(),
    ).toEqual([]);
  });
});

describe('instalment statuses as of a date', () => {
  it('on a 0 % loan paid out on 31 January: as of 31 March, February is overdue, March due, the rest upcoming', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(
      manager.secret,
      loanBody(product.id, structure.id, {
        principal: '12000.00',
        annual_rate_percent: '0',
        term_periods: 12,
        disbursement_date: '2025-01-31',
      }),
    );
    expect((await disburse(manager.secret, loan.id, '2025-01-31', '12000.00')).status).toBe(200);
    const res = await scheduleOf(manager.secret, loan.id, '2025-03-31');
    const rows = res.body.instalments as LoanInstalment[];
    expect(rows.slice(0, 4).map((row) => [row.due_date, row.total, row.status])).toEqual([
      ['2025-02-28', '1000.00', 'overdue'],
      ['2025-03-31', '1000.00', 'due'],
      ['2025-04-30', '1000.00', 'upcoming'],
      ['2025-05-31', '1000.00', 'upcoming'],
    ]);
    expect(rows.slice(2).every((row) => row.status === 'upcoming')).toBe(true);
    expect(rows.every((row) => row.paid === '0.00')).toBe(true);
  });

  it('a 0.00 instalment of a total deferral is settled once its date has passed, upcoming before', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(
      manager.secret,
      loanBody(product.id, structure.id, {
        principal: '12000.00',
        annual_rate_percent: '0',
        term_periods: 12,
        deferral_periods: 2,
        deferral_type: 'total',
        disbursement_date: '2025-01-31',
      }),
    );
    expect((await disburse(manager.secret, loan.id, '2025-01-31', '12000.00')).status).toBe(200);
    const rows = (await scheduleOf(manager.secret, loan.id, '2025-03-15')).body
      .instalments as LoanInstalment[];
    expect(rows.slice(0, 3).map((row) => [row.due_date, row.total, row.status])).toEqual([
      ['2025-02-28', '0.00', 'paid'],
      ['2025-03-31', '0.00', 'upcoming'],
      ['2025-04-30', '1200.00', 'upcoming'],
    ]);
  });

  it('a malformed as_of → 400', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(manager.secret, loanBody(product.id, structure.id));
    for (const asOf of ['31-03-2025', '2025-02-30']) {
      const res = await scheduleOf(manager.secret, loan.id, asOf);
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toEqual(['as_of']);
    }
  });
});

describe('schedule versions', () => {
  it('a disbursed loan has version 1, made by the disbursement, equal to its current schedule; no version 2', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(manager.secret, loanBody(product.id, structure.id));
    expect((await disburse(manager.secret, loan.id, '2025-01-15')).status).toBe(200);
    const versions = await as(app, manager.secret).get(`/v1/loans/${loan.id}/schedule/versions`);
    expect(versions.status).toBe(200);
    expect(versions.body).toMatchObject({ loan_id: loan.id, current_version: 1 });
    expect(versions.body.items).toEqual([
      {
        version: 1,
        reason: 'disbursement',
        effective_date: '2025-01-15',
        instalment_count: 24,
        created_at: expect.any(String),
      },
    ]);

    const first = await as(app, manager.secret).get(
      `/v1/loans/${loan.id}/schedule/versions/1?as_of=2025-06-01`,
    );
    expect(first.status).toBe(200);
    expect(first.body).toEqual((await scheduleOf(manager.secret, loan.id, '2025-06-01')).body);
    expect(
      (await as(app, manager.secret).get(`/v1/loans/${loan.id}/schedule/versions/2`)).status,
    ).toBe(404);
  });

  it('a pending loan has no version yet: an empty list, and version 1 → 404', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(manager.secret, loanBody(product.id, structure.id));
    const versions = await as(app, manager.secret).get(`/v1/loans/${loan.id}/schedule/versions`);
    expect(versions.body).toEqual({ loan_id: loan.id, current_version: 0, items: [] });
    expect(
      (await as(app, manager.secret).get(`/v1/loans/${loan.id}/schedule/versions/1`)).status,
    ).toBe(404);
  });
});

describe('cancelling a loan', () => {
  it('a pending loan is cancelled on today’s date; cancelling again changes nothing', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(manager.secret, loanBody(product.id, structure.id));
    const res = await as(app, manager.secret).post(`/v1/loans/${loan.id}/cancellation`, {
      reason: 'the structure found a bank loan',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'cancelled',
      cancelled_on: TODAY,
      schedule_version: 0,
    });
    const again = await as(app, manager.secret).post(`/v1/loans/${loan.id}/cancellation`, {});
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
  });

  it('an active loan cannot be cancelled → 409', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(manager.secret, loanBody(product.id, structure.id));
    expect((await disburse(manager.secret, loan.id, '2025-01-10')).status).toBe(200);
    expect(
      (await as(app, manager.secret).post(`/v1/loans/${loan.id}/cancellation`, {})).status,
    ).toBe(409);
    expect((await as(app, manager.secret).get(`/v1/loans/${loan.id}`)).body.status).toBe('active');
  });
});

describe('listing loans', () => {
  /** A fund with a pending recovery loan, an active common-law loan and a cancelled one, at two structures. */
  async function portfolio() {
    const { fund, manager, product, structure } = await lendingFund();
    const commonLaw = await createProduct(app, fund.id, manager.secret, { kind: 'common_law' });
    const sibling = await createStructure(app, fund.id, manager.secret);
    const pending = await createLoan(manager.secret, loanBody(product.id, structure.id));
    const active = await createLoan(manager.secret, loanBody(commonLaw.id, structure.id));
    expect((await disburse(manager.secret, active.id, '2025-01-10')).status).toBe(200);
    const cancelled = await createLoan(manager.secret, loanBody(product.id, sibling.id));
    expect(
      (await as(app, manager.secret).post(`/v1/loans/${cancelled.id}/cancellation`, {})).status,
    ).toBe(200);
    return { fund, manager, structure, sibling, pending, active, cancelled };
  }
  const idsOf = async (key: string, query: string) =>
    ((await as(app, key).get(`/v1/loans?${query}`)).body.items as Loan[]).map((loan) => loan.id);

  it('filters by status, kind, structure and fund', async () => {
    const { fund, manager, structure, sibling, pending, active, cancelled } = await portfolio();
    expect(await idsOf(manager.secret, 'status=active')).toEqual([active.id]);
    expect(await idsOf(manager.secret, 'kind=recovery')).toEqual([pending.id, cancelled.id]);
    expect(await idsOf(manager.secret, `structure_id=${structure.id}`)).toEqual([
      pending.id,
      active.id,
    ]);
    expect(await idsOf(manager.secret, `structure_id=${sibling.id}&status=cancelled`)).toEqual([
      cancelled.id,
    ]);
    expect(await idsOf(ADMIN_KEY, `fund_id=${fund.id}&kind=common_law`)).toEqual([active.id]);
  });

  it('pages of one, following next_cursor, visit every loan of the fund exactly once', async () => {
    const { fund, pending, active, cancelled } = await portfolio();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await as(app, ADMIN_KEY).get(
        `/v1/loans?fund_id=${fund.id}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.body.items).toHaveLength(1);
      seen.push(res.body.items[0].id);
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([pending.id, active.id, cancelled.id]);
  });

  it('a structure key sees only its structure’s loans, and cannot ask for a sibling’s', async () => {
    const { fund, manager, structure, sibling, pending, active, cancelled } = await portfolio();
    const portal = await createKey(
      app,
      { role: 'structure', structure_id: structure.id },
      manager.secret,
    );
    expect(await idsOf(portal.secret, '')).toEqual([pending.id, active.id]);
    expect(await idsOf(portal.secret, `fund_id=${fund.id}`)).toEqual([pending.id, active.id]);
    expect((await as(app, portal.secret).get(`/v1/loans/${active.id}`)).status).toBe(200);
    expect(
      (await as(app, portal.secret).get(`/v1/loans/${active.id}/schedule?as_of=2025-03-01`)).status,
    ).toBe(200);
    expect((await as(app, portal.secret).get(`/v1/loans/${cancelled.id}`)).status).toBe(404);
    expect((await as(app, portal.secret).get(`/v1/loans/${cancelled.id}/schedule`)).status).toBe(
      404,
    );
    expect((await as(app, portal.secret).get(`/v1/loans?structure_id=${sibling.id}`)).status).toBe(
      404,
    );
  });

  it('a manager of another fund does not see the fund’s loans: 404, as if they did not exist', async () => {
    const { fund, active } = await portfolio();
    const { manager: stranger } = await fundWithManager(app);
    const res = await as(app, stranger.secret).get(`/v1/loans/${active.id}`);
    expect(res.status).toBe(404);
    expect(res.body.detail).toBe(
      (await as(app, stranger.secret).get(`/v1/loans/${randomUUID()}`)).body.detail,
    );
    expect((await as(app, stranger.secret).get(`/v1/loans?fund_id=${fund.id}`)).status).toBe(404);
    expect(await idsOf(stranger.secret, '')).toEqual([]);
  });
});

describe('the audit trail of a loan', () => {
  it('granting, paying out and cancelling each record an event with the loan as the API showed it; the chain verifies', async () => {
    const { fund, manager, product, structure } = await lendingFund();
    const paidOut = await createLoan(manager.secret, loanBody(product.id, structure.id));
    const disbursed = (await disburse(manager.secret, paidOut.id, '2025-01-10')).body as Loan;
    const dropped = await createLoan(manager.secret, loanBody(product.id, structure.id));
    const cancelled = (
      await as(app, manager.secret).post(`/v1/loans/${dropped.id}/cancellation`, {})
    ).body as Loan;

    const trail = (await as(app, ADMIN_KEY).get(`/v1/audit-events?fund_id=${fund.id}&limit=200`))
      .body.items as AuditEvent[];
    const loanEvents = trail.filter((event) => event.entity_type === 'loan');
    expect(loanEvents.map((e) => [e.action, e.entity_id, e.actor_key_id])).toEqual([
      ['loan.created', paidOut.id, manager.id],
      ['loan.disbursed', paidOut.id, manager.id],
      ['loan.created', dropped.id, manager.id],
      ['loan.cancelled', dropped.id, manager.id],
    ]);
    expect(loanEvents.map((e) => e.state)).toEqual([
      paidOut,
      disbursed,
      dropped,
      { ...cancelled, reason: null },
    ]);

    const verdict = await as(app, ADMIN_KEY).get(`/v1/audit-events/verify?fund_id=${fund.id}`);
    expect(verdict.body).toMatchObject({
      valid: true,
      events_checked: trail.length,
      first_broken: null,
    });
  });

  it('a refused disbursement records nothing', async () => {
    const { fund, manager, product, structure } = await lendingFund();
    const loan = await createLoan(manager.secret, loanBody(product.id, structure.id));
    expect((await disburse(manager.secret, loan.id, TOMORROW)).status).toBe(422);
    const trail = (await as(app, ADMIN_KEY).get(`/v1/audit-events?fund_id=${fund.id}`)).body
      .items as AuditEvent[];
    expect(trail.map((e) => e.action)).not.toContain('loan.disbursed');
  });
});

describe('arrears as of a date (DOMAIN.md "Arrears")', () => {
  it('an active loan with nothing repaid: every instalment due before as_of is overdue, DPD from the oldest', async () => {
    const { manager, product, structure } = await lendingFund();
    const loan = await createLoan(manager.secret, {
      ...loanBody(product.id, structure.id),
      principal: '12000.00',
      annual_rate_percent: '0',
      term_periods: 12,
      disbursement_date: '2025-01-31',
    });
    expect((await disburse(manager.secret, loan.id, '2025-01-31', '12000.00')).status).toBe(200);
    const onSecondDueDate = await as(app, manager.secret).get(
      `/v1/loans/${loan.id}?as_of=2025-03-31`,
    );
    expect(onSecondDueDate.body.arrears).toEqual({
      overdue_principal: '1000.00',
      overdue_interest: '0.00',
      overdue_fees: '0.00',
      overdue_total: '1000.00',
      overdue_instalments: 1,
      days_past_due: 31,
    });
    const later = await as(app, manager.secret).get(`/v1/loans/${loan.id}?as_of=2025-05-10`);
    expect(later.body.arrears).toMatchObject({
      overdue_principal: '3000.00',
      overdue_instalments: 3,
      days_past_due: 71,
    }); // since 28 Feb
  });
});
