import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { sql } from 'kysely';
import type { Response } from 'supertest';
import type { CalendarDate } from '../../src/domain/dates';
import { testApp } from '../support/app';
import { testDb } from '../support/db';
import {
  as,
  createProduct,
  createStructure,
  fieldsOf,
  fundWithManager,
} from '../support/portfolio';
import { disbursedLoan, repay, servicingDesk, type Desk } from '../support/servicing';

/**
 * Issue 4 item 7: every servicing route answers bad input with a problem+json 4xx naming the
 * offending fields (400 contract, 404 unknown, 409 state, 422 business rule), never a 500, and a
 * refused write leaves every row and every view of the loan as it was.
 */
let app: Express;
beforeAll(async () => {
  app = await testApp({ today: () => today });
});

/** The routes' "today": the dates around it read the same any day. */
const today = '2026-06-15' as CalendarDate;
const shiftDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const tomorrow = shiftDays(today, 1);

/** Rows of the desk's fund, table by table (other test files write to the same database meanwhile). */
async function rowCounts(desk: Desk): Promise<Record<string, string>> {
  const fundId = desk.fund.id;
  const { rows } = await sql<Record<string, string>>`
    WITH fund_loans AS (SELECT id FROM loans WHERE fund_id = ${fundId})
    SELECT
      (SELECT count(*) FROM repayments WHERE loan_id IN (SELECT id FROM fund_loans)) AS repayments,
      (SELECT count(*) FROM repayments WHERE loan_id IN (SELECT id FROM fund_loans) AND reversed_at IS NOT NULL) AS reversed_repayments,
      (SELECT count(*) FROM allocations a JOIN repayments r ON r.id = a.repayment_id WHERE r.loan_id IN (SELECT id FROM fund_loans)) AS allocations,
      (SELECT count(*) FROM journal_entries WHERE fund_id = ${fundId}) AS journal_entries,
      (SELECT count(*) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id WHERE e.fund_id = ${fundId}) AS journal_lines,
      (SELECT count(*) FROM restructurings WHERE loan_id IN (SELECT id FROM fund_loans)) AS restructurings,
      (SELECT count(*) FROM schedule_versions WHERE loan_id IN (SELECT id FROM fund_loans)) AS schedule_versions,
      (SELECT count(*) FROM instalments WHERE loan_id IN (SELECT id FROM fund_loans)) AS instalments,
      (SELECT count(*) FROM moratoria WHERE fund_id = ${fundId}) AS moratoria,
      (SELECT count(*) FROM audit_events WHERE fund_id = ${fundId}) AS audit_events,
      (SELECT count(*) FROM idempotency_keys WHERE owner = ${desk.manager.id}) AS idempotency_keys`.execute(
    await testDb(),
  );
  return rows[0]!;
}

/** What the fund's rows and the API say of each loan. */
async function snapshot(desk: Desk, loanIds: readonly string[]) {
  const views: Record<string, unknown> = {};
  for (const id of loanIds) {
    for (const path of [
      '',
      '/schedule',
      '/schedule/versions',
      '/repayments',
      '/restructurings',
      '/statement',
    ]) {
      const res = await desk.api.get(`/v1/loans/${id}${path}`);
      views[`${id}${path}`] = { status: res.status, body: res.body };
    }
  }
  return { rows: await rowCounts(desk), views };
}

/**
 * Sends a write that must be refused with `status` (any client error when not given), naming
 * exactly `fields` in `errors` (when given), and checks that it changed nothing at all.
 */
async function expectRefused(
  desk: Desk,
  loanIds: readonly string[],
  write: () => Promise<Response>,
  status?: number,
  fields?: string[],
): Promise<Response> {
  const before = await snapshot(desk, loanIds);
  const res = await write();
  const expected =
    status ?? ([400, 404, 409, 422].includes(res.status) ? res.status : 'a client error');
  expect({ status: res.status, body: res.body }).toMatchObject({
    status: expected,
    body: { status: expected },
  });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  if (fields) expect({ fields: fieldsOf(res), body: res.body }).toMatchObject({ fields });
  for (const error of res.body.errors ?? [])
    expect(error).toEqual({
      in: expect.stringMatching(/^(body|query|path|header)$/),
      field: expect.any(String),
      message: expect.any(String),
    });
  expect(await snapshot(desk, loanIds)).toEqual(before);
  return res;
}

const locationsOf = (res: Response) =>
  (res.body.errors as { in: string; field: string }[])
    .map((e) => `${e.in}:${e.field.toLowerCase()}`)
    .sort();

async function pendingLoan(desk: Desk): Promise<string> {
  const res = await desk.api.post('/v1/loans', {
    product_id: desk.product.id,
    structure_id: desk.structure.id,
    principal: '10000.00',
    annual_rate_percent: '12',
    periodicity: 'monthly',
    term_periods: 12,
    method: 'annuity',
    disbursement_date: '2025-01-15',
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** A loan with instalments still ahead: disbursed 40 days ago over 24 months, the first instalment already due. */
const runningLoan = (desk: Desk, terms: Parameters<typeof disbursedLoan>[1] = {}) =>
  disbursedLoan(desk, { disbursement_date: shiftDays(today, -40), term_periods: 24, ...terms });

async function repaidLoan(desk: Desk): Promise<string> {
  const loan = await disbursedLoan(desk);
  const res = await repay(desk, loan.id, { amount: '20000.00', value_date: '2025-02-15' });
  expect(res.status).toBe(201);
  expect(res.body.loan.status).toBe('repaid');
  return loan.id;
}

async function writtenOffLoan(desk: Desk, date = '2025-06-15'): Promise<string> {
  const loan = await disbursedLoan(desk);
  const res = await desk.api.post(`/v1/loans/${loan.id}/write-off`, {
    date,
    reason: 'liquidation judiciaire',
  });
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('written_off');
  return loan.id;
}

describe('POST /v1/loans/{loan_id}/repayments with a body that breaks the contract: 400 naming the field', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['a negative amount', { amount: '-10.00', value_date: '2025-02-15' }, ['amount']],
    ['an amount with 3 decimals', { amount: '10.005', value_date: '2025-02-15' }, ['amount']],
    ['an amount as a JSON number', { amount: 888.49, value_date: '2025-02-15' }, ['amount']],
    ['an amount with an exponent', { amount: '1e3', value_date: '2025-02-15' }, ['amount']],
    [
      'an amount beyond numeric(14,2)',
      { amount: '1000000000000.00', value_date: '2025-02-15' },
      ['amount'],
    ],
    [
      'an unknown field',
      { amount: '10.00', value_date: '2025-02-15', currency: 'EUR' },
      ['currency'],
    ],
    ['no value_date', { amount: '10.00' }, ['value_date']],
    ['no amount', { value_date: '2025-02-15' }, ['amount']],
    ['an impossible value_date', { amount: '10.00', value_date: '2025-02-30' }, ['value_date']],
    [
      'a value_date with a time',
      { amount: '10.00', value_date: '2025-02-15T10:00:00Z' },
      ['value_date'],
    ],
    [
      'an unknown prepayment mode',
      { amount: '10.00', value_date: '2025-02-15', prepayment: 'reduce_everything' },
      ['prepayment'],
    ],
    [
      'an empty reference',
      { amount: '10.00', value_date: '2025-02-15', reference: '' },
      ['reference'],
    ],
  ];
  it.each(cases)('%s', async (_name, body, fields) => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await expectRefused(desk, [loan.id], () => repay(desk, loan.id, body), 400, fields);
  });

  it('a body that is not an object is a 400, not a 500', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await expectRefused(
      desk,
      [loan.id],
      () => repay(desk, loan.id, [] as unknown as Record<string, unknown>),
      400,
    );
    await expectRefused(
      desk,
      [loan.id],
      () => repay(desk, loan.id, '10.00' as unknown as Record<string, unknown>),
      400,
    );
  });

  it('without an Idempotency-Key, or with one that is too long: 400 naming the header', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const body = { amount: '888.49', value_date: '2025-02-15' };
    const missing = await expectRefused(
      desk,
      [loan.id],
      () => desk.api.post(`/v1/loans/${loan.id}/repayments`, body),
      400,
    );
    expect(locationsOf(missing)).toEqual(['header:idempotency-key']);
    const long = await expectRefused(
      desk,
      [loan.id],
      () => repay(desk, loan.id, body, 'k'.repeat(256)),
      400,
    );
    expect(locationsOf(long)).toEqual(['header:idempotency-key']);
  });
});

describe('POST /v1/loans/{loan_id}/repayments breaking a business rule: 422 naming the field', () => {
  const cases: [string, (loan: string) => Record<string, unknown>, string[]][] = [
    ['an amount of 0.00', () => ({ amount: '0.00', value_date: '2025-02-15' }), ['amount']],
    ['an amount of 0', () => ({ amount: '0', value_date: '2025-02-15' }), ['amount']],
    [
      'a value date before the disbursement',
      () => ({ amount: '888.49', value_date: '2025-01-14' }),
      ['value_date'],
    ],
    [
      'a value date in the future',
      () => ({ amount: '888.49', value_date: tomorrow }),
      ['value_date'],
    ],
    [
      'an amount of 0 and a value date in the future',
      () => ({ amount: '0.00', value_date: tomorrow }),
      ['amount', 'value_date'],
    ],
  ];
  it.each(cases)('%s', async (_name, body, fields) => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await expectRefused(desk, [loan.id], () => repay(desk, loan.id, body(loan.id)), 422, fields);
  });

  it('a refused request stores nothing under its Idempotency-Key: the key works for the corrected request', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const key = randomUUID();
    await expectRefused(
      desk,
      [loan.id],
      () => repay(desk, loan.id, { amount: '0.00', value_date: '2025-02-15' }, key),
      422,
      ['amount'],
    );
    const corrected = await repay(
      desk,
      loan.id,
      { amount: '888.49', value_date: '2025-02-15' },
      key,
    );
    expect(corrected.status).toBe(201);
    expect(corrected.headers['idempotency-replayed']).toBeUndefined();
  });

  it('the same Idempotency-Key with another body is a 422 naming the header, and records nothing more', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const key = randomUUID();
    expect(
      (await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' }, key)).status,
    ).toBe(201);
    const res = await expectRefused(
      desk,
      [loan.id],
      () => repay(desk, loan.id, { amount: '888.50', value_date: '2025-02-15' }, key),
      422,
    );
    expect(locationsOf(res)).toEqual(['header:idempotency-key']);
  });

  it('an amount at the top of the contract’s range on a small loan is a 422 naming amount, not a 500 nor a huge excess', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await expectRefused(
      desk,
      [loan.id],
      () => repay(desk, loan.id, { amount: '999999999999.99', value_date: '2025-02-15' }),
      422,
      ['amount'],
    );
  });
});

describe('POST /v1/loans/{loan_id}/repayments on a loan whose state forbids it', () => {
  it('a pending loan was never disbursed: 409', async () => {
    const desk = await servicingDesk(app);
    const loanId = await pendingLoan(desk);
    await expectRefused(
      desk,
      [loanId],
      () => repay(desk, loanId, { amount: '888.49', value_date: '2025-02-15' }),
      409,
    );
  });

  it('a cancelled loan: 409', async () => {
    const desk = await servicingDesk(app);
    const loanId = await pendingLoan(desk);
    expect(
      (await desk.api.post(`/v1/loans/${loanId}/cancellation`, { reason: 'projet abandonné' }))
        .status,
    ).toBe(200);
    await expectRefused(
      desk,
      [loanId],
      () => repay(desk, loanId, { amount: '888.49', value_date: '2025-02-15' }),
      409,
    );
  });

  it('a repaid loan: 409', async () => {
    const desk = await servicingDesk(app);
    const loanId = await repaidLoan(desk);
    await expectRefused(
      desk,
      [loanId],
      () => repay(desk, loanId, { amount: '10.00', value_date: '2025-03-15' }),
      409,
    );
  });

  it('a written-off loan, value-dated before the write-off: 422 naming value_date; from the write-off on, a recovery (201)', async () => {
    const desk = await servicingDesk(app);
    const loanId = await writtenOffLoan(desk, '2025-06-15');
    await expectRefused(
      desk,
      [loanId],
      () => repay(desk, loanId, { amount: '500.00', value_date: '2025-06-14' }),
      422,
      ['value_date'],
    );
    const onTheDay = await repay(desk, loanId, { amount: '500.00', value_date: '2025-06-15' });
    expect(onTheDay.status).toBe(201);
    expect(onTheDay.body).toMatchObject({
      kind: 'recovery',
      recovered: '500.00',
      allocations: [],
      loan: { status: 'written_off' },
    });
    const later = await repay(desk, loanId, { amount: '250.00', value_date: '2025-09-01' });
    expect(later.status).toBe(201);
    expect(later.body).toMatchObject({ kind: 'recovery', recovered: '250.00' });
  });
});

describe('POST /v1/loans/{loan_id}/repayments/{repayment_id}/reversal refused', () => {
  async function loanWithRepayment(desk: Desk) {
    const loan = await disbursedLoan(desk);
    const res = await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' });
    expect(res.status).toBe(201);
    return { loanId: loan.id, repaymentId: res.body.id as string };
  }
  const reverse = (
    desk: Desk,
    loanId: string,
    repaymentId: string,
    body: unknown = { reason: 'chèque impayé' },
  ) => desk.api.post(`/v1/loans/${loanId}/repayments/${repaymentId}/reversal`, body);

  it('a repayment already reversed: 409', async () => {
    const desk = await servicingDesk(app);
    const { loanId, repaymentId } = await loanWithRepayment(desk);
    expect((await reverse(desk, loanId, repaymentId)).status).toBe(200);
    await expectRefused(
      desk,
      [loanId],
      () => reverse(desk, loanId, repaymentId, { reason: 'encore' }),
      409,
    );
  });

  it('without a reason, with an empty one, a too long one or an unknown field: 400 naming it', async () => {
    const desk = await servicingDesk(app);
    const { loanId, repaymentId } = await loanWithRepayment(desk);
    await expectRefused(desk, [loanId], () => reverse(desk, loanId, repaymentId, {}), 400, [
      'reason',
    ]);
    await expectRefused(
      desk,
      [loanId],
      () => reverse(desk, loanId, repaymentId, { reason: '' }),
      400,
      ['reason'],
    );
    await expectRefused(
      desk,
      [loanId],
      () => reverse(desk, loanId, repaymentId, { reason: 'x'.repeat(501) }),
      400,
      ['reason'],
    );
    await expectRefused(
      desk,
      [loanId],
      () => reverse(desk, loanId, repaymentId, { reason: 'erreur', amount: '888.49' }),
      400,
      ['amount'],
    );
  });

  it('a repayment of another loan, of the same fund or of another: 404, and neither loan changes', async () => {
    const desk = await servicingDesk(app);
    const { loanId, repaymentId } = await loanWithRepayment(desk);
    const other = await loanWithRepayment(desk);
    await expectRefused(
      desk,
      [loanId, other.loanId],
      () => reverse(desk, other.loanId, repaymentId),
      404,
    );
    const stranger = await servicingDesk(app);
    const strangerLoan = await loanWithRepayment(stranger);
    await expectRefused(
      desk,
      [loanId],
      () => reverse(desk, strangerLoan.loanId, strangerLoan.repaymentId),
      404,
    );
    await expectRefused(
      stranger,
      [strangerLoan.loanId],
      () => reverse(desk, strangerLoan.loanId, strangerLoan.repaymentId),
      404,
    );
  });

  it('unknown loan or repayment ids: 404; malformed ones: 400 naming the path parameter', async () => {
    const desk = await servicingDesk(app);
    const { loanId, repaymentId } = await loanWithRepayment(desk);
    await expectRefused(desk, [loanId], () => reverse(desk, randomUUID(), repaymentId), 404);
    await expectRefused(desk, [loanId], () => reverse(desk, loanId, randomUUID()), 404);
    const badLoan = await expectRefused(
      desk,
      [loanId],
      () => reverse(desk, 'not-a-loan', repaymentId),
      400,
    );
    expect(locationsOf(badLoan)).toEqual(['path:loan_id']);
    const badRepayment = await expectRefused(
      desk,
      [loanId],
      () => reverse(desk, loanId, repaymentId.toUpperCase()),
      400,
    );
    expect(locationsOf(badRepayment)).toEqual(['path:repayment_id']);
  });
});

describe('reads of the servicing routes with unknown or malformed ids', () => {
  it('GET repayments, a repayment, restructurings and the statement: 404 for an unknown id, 400 naming a malformed one', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const other = await disbursedLoan(desk);
    const paid = await repay(desk, other.id, { amount: '888.49', value_date: '2025-02-15' });
    expect(paid.status).toBe(201);
    const unknown = randomUUID();
    for (const path of [
      `/v1/loans/${unknown}/repayments`,
      `/v1/loans/${unknown}/repayments/${paid.body.id}`,
      `/v1/loans/${loan.id}/repayments/${unknown}`,
      `/v1/loans/${loan.id}/repayments/${paid.body.id}`,
      `/v1/loans/${unknown}/restructurings`,
      `/v1/loans/${unknown}/statement`,
    ]) {
      const res = await desk.api.get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    const malformed: [string, string][] = [
      ['/v1/loans/123/repayments', 'path:loan_id'],
      [`/v1/loans/${loan.id}/repayments/123`, 'path:repayment_id'],
      ['/v1/loans/123/restructurings', 'path:loan_id'],
      ['/v1/loans/123/statement', 'path:loan_id'],
      [`/v1/loans/${loan.id}/statement?as_of=2025-13-01`, 'query:as_of'],
      [`/v1/loans/${loan.id}/repayments?limit=0`, 'query:limit'],
      [`/v1/loans/${loan.id}/repayments?cursor=%20%20not-a-cursor`, 'query:cursor'],
      [
        `/v1/loans/${loan.id}/repayments?cursor=${Buffer.from('9999999999999999999').toString('base64url')}`,
        'query:cursor',
      ],
    ];
    for (const [path, location] of malformed) {
      const res = await desk.api.get(path);
      expect({
        path,
        status: res.status,
        errors: res.status === 400 ? locationsOf(res) : res.body,
      }).toEqual({ path, status: 400, errors: [location] });
    }
  });
});

describe('POST /v1/loans/{loan_id}/restructurings refused', () => {
  const restructure = (desk: Desk, loanId: string, body: Record<string, unknown>) =>
    desk.api.post(`/v1/loans/${loanId}/restructurings`, { reason: 'crise de trésorerie', ...body });

  const missing: [string, Record<string, unknown>, string[]][] = [
    ['a moratorium without periods', { type: 'moratorium', deferral_type: 'total' }, ['periods']],
    ['an extension without remaining_periods', { type: 'extension' }, ['remaining_periods']],
    ['a rate change without annual_rate_percent', { type: 'rate_change' }, ['annual_rate_percent']],
    [
      'a moratorium with remaining_periods',
      { type: 'moratorium', periods: 3, remaining_periods: 30 },
      ['remaining_periods'],
    ],
    [
      'an extension with a rate',
      { type: 'extension', remaining_periods: 36, annual_rate_percent: '2' },
      ['annual_rate_percent'],
    ],
    [
      'a rate change with periods and a deferral type',
      { type: 'rate_change', annual_rate_percent: '2', periods: 3, deferral_type: 'partial' },
      ['deferral_type', 'periods'],
    ],
    [
      'a rate change without its rate but with remaining_periods',
      { type: 'rate_change', remaining_periods: 30 },
      ['annual_rate_percent', 'remaining_periods'],
    ],
    [
      'a rate above 100 %',
      { type: 'rate_change', annual_rate_percent: '100.000001' },
      ['annual_rate_percent'],
    ],
    [
      'a rate of 999.999999 %',
      { type: 'rate_change', annual_rate_percent: '999.999999' },
      ['annual_rate_percent'],
    ],
    [
      'an effective date in the future',
      { type: 'moratorium', periods: 3, effective_date: tomorrow },
      ['effective_date'],
    ],
    [
      'an effective date before the disbursement',
      { type: 'moratorium', periods: 3, effective_date: shiftDays(today, -41) },
      ['effective_date'],
    ],
  ];
  it.each(missing)('%s: 422 naming the fields', async (_name, body, fields) => {
    const desk = await servicingDesk(app);
    const loan = await runningLoan(desk);
    await expectRefused(
      desk,
      [loan.id],
      () => restructure(desk, loan.id, { effective_date: today, ...body }),
      422,
      fields,
    );
  });

  const contract: [string, Record<string, unknown>, string[]][] = [
    ['an unknown type', { type: 'forgiveness', periods: 3 }, ['type']],
    ['no reason', { type: 'moratorium', periods: 3, reason: undefined }, ['reason']],
    [
      'no effective date',
      { type: 'moratorium', periods: 3, effective_date: undefined },
      ['effective_date'],
    ],
    ['periods 0', { type: 'moratorium', periods: 0 }, ['periods']],
    ['periods 121', { type: 'moratorium', periods: 121 }, ['periods']],
    ['periods as a string', { type: 'moratorium', periods: '3' }, ['periods']],
    [
      'a rate as a number',
      { type: 'rate_change', annual_rate_percent: 2 },
      ['annual_rate_percent'],
    ],
    ['remaining_periods 601', { type: 'extension', remaining_periods: 601 }, ['remaining_periods']],
    [
      'an unknown field',
      { type: 'moratorium', periods: 3, waive_interest: true },
      ['waive_interest'],
    ],
  ];
  it.each(contract)('%s: 400 naming the field', async (_name, body, fields) => {
    const desk = await servicingDesk(app);
    const loan = await runningLoan(desk);
    await expectRefused(
      desk,
      [loan.id],
      () => restructure(desk, loan.id, { effective_date: today, ...body }),
      400,
      fields,
    );
  });

  it('an extension to no more periods than the deferral periods still ahead: 422 naming remaining_periods', async () => {
    const desk = await servicingDesk(app);
    // disbursed 10 days ago: the six deferral periods all lie ahead
    const loan = await disbursedLoan(desk, {
      disbursement_date: shiftDays(today, -10),
      term_periods: 24,
      deferral_periods: 6,
    });
    await expectRefused(
      desk,
      [loan.id],
      () =>
        restructure(desk, loan.id, {
          type: 'extension',
          effective_date: today,
          remaining_periods: 6,
        }),
      422,
      ['remaining_periods'],
    );
    await expectRefused(
      desk,
      [loan.id],
      () =>
        restructure(desk, loan.id, {
          type: 'extension',
          effective_date: today,
          remaining_periods: 1,
        }),
      422,
      ['remaining_periods'],
    );
    const seven = await restructure(desk, loan.id, {
      type: 'extension',
      effective_date: today,
      remaining_periods: 7,
    });
    expect(seven.status).toBe(201);
  });

  it('an effective date before the last repayment: 422 naming effective_date', async () => {
    const desk = await servicingDesk(app);
    const loan = await runningLoan(desk);
    expect(
      (await repay(desk, loan.id, { amount: '100.00', value_date: shiftDays(today, -5) })).status,
    ).toBe(201);
    await expectRefused(
      desk,
      [loan.id],
      () =>
        restructure(desk, loan.id, {
          type: 'moratorium',
          periods: 3,
          effective_date: shiftDays(today, -6),
        }),
      422,
      ['effective_date'],
    );
  });

  it('an effective date before an earlier restructuring: 422 naming effective_date', async () => {
    const desk = await servicingDesk(app);
    const loan = await runningLoan(desk);
    expect(
      (
        await restructure(desk, loan.id, {
          type: 'rate_change',
          annual_rate_percent: '2',
          effective_date: shiftDays(today, -5),
        })
      ).status,
    ).toBe(201);
    await expectRefused(
      desk,
      [loan.id],
      () =>
        restructure(desk, loan.id, {
          type: 'moratorium',
          periods: 3,
          effective_date: shiftDays(today, -6),
        }),
      422,
      ['effective_date'],
    );
  });

  it('an effective date with nothing falling due after it: 422 naming effective_date', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk); // its last instalment fell due on 2026-01-15
    await expectRefused(
      desk,
      [loan.id],
      () =>
        restructure(desk, loan.id, {
          type: 'rate_change',
          annual_rate_percent: '2',
          effective_date: today,
        }),
      422,
      ['effective_date'],
    );
  });

  it('on a pending, a cancelled, a repaid or a written-off loan: 409', async () => {
    const desk = await servicingDesk(app);
    const pending = await pendingLoan(desk);
    const cancelled = await pendingLoan(desk);
    expect((await desk.api.post(`/v1/loans/${cancelled}/cancellation`, {})).status).toBe(200);
    const repaid = await repaidLoan(desk);
    const writtenOff = await writtenOffLoan(desk);
    for (const loanId of [pending, cancelled, repaid, writtenOff]) {
      await expectRefused(
        desk,
        [loanId],
        () => restructure(desk, loanId, { type: 'moratorium', periods: 3, effective_date: today }),
        409,
      );
    }
  });

  it('unknown loan: 404; malformed id: 400 naming loan_id', async () => {
    const desk = await servicingDesk(app);
    const loan = await runningLoan(desk);
    await expectRefused(
      desk,
      [loan.id],
      () =>
        restructure(desk, randomUUID(), { type: 'moratorium', periods: 3, effective_date: today }),
      404,
    );
    const bad = await expectRefused(
      desk,
      [loan.id],
      () =>
        restructure(desk, `${loan.id}x`, { type: 'moratorium', periods: 3, effective_date: today }),
      400,
    );
    expect(locationsOf(bad)).toEqual(['path:loan_id']);
  });
});

describe('POST /v1/loans/{loan_id}/write-off refused', () => {
  const writeOff = (desk: Desk, loanId: string, body: Record<string, unknown>) =>
    desk.api.post(`/v1/loans/${loanId}/write-off`, body);

  it('twice: 409', async () => {
    const desk = await servicingDesk(app);
    const loanId = await writtenOffLoan(desk, '2025-06-15');
    await expectRefused(
      desk,
      [loanId],
      () => writeOff(desk, loanId, { date: '2025-07-15', reason: 'encore' }),
      409,
    );
  });

  it('dated before a recorded repayment: 422 naming date', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    expect(
      (await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' })).status,
    ).toBe(201);
    await expectRefused(
      desk,
      [loan.id],
      () => writeOff(desk, loan.id, { date: '2025-02-14', reason: 'liquidation' }),
      422,
      ['date'],
    );
  });

  it('dated before a recorded restructuring: 422 naming date', async () => {
    const desk = await servicingDesk(app);
    const loan = await runningLoan(desk);
    const restructured = await desk.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'moratorium',
      periods: 3,
      effective_date: shiftDays(today, -5),
      reason: 'crise',
    });
    expect(restructured.status).toBe(201);
    await expectRefused(
      desk,
      [loan.id],
      () => writeOff(desk, loan.id, { date: shiftDays(today, -6), reason: 'liquidation' }),
      422,
      ['date'],
    );
  });

  it('dated in the future or before the disbursement: 422 naming date', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await expectRefused(
      desk,
      [loan.id],
      () => writeOff(desk, loan.id, { date: tomorrow, reason: 'liquidation' }),
      422,
      ['date'],
    );
    await expectRefused(
      desk,
      [loan.id],
      () => writeOff(desk, loan.id, { date: '2025-01-14', reason: 'liquidation' }),
      422,
      ['date'],
    );
  });

  it('without a reason, without a date, with an unknown field: 400 naming it', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await expectRefused(
      desk,
      [loan.id],
      () => writeOff(desk, loan.id, { date: '2025-06-15' }),
      400,
      ['reason'],
    );
    await expectRefused(
      desk,
      [loan.id],
      () => writeOff(desk, loan.id, { reason: 'liquidation' }),
      400,
      ['date'],
    );
    await expectRefused(
      desk,
      [loan.id],
      () =>
        writeOff(desk, loan.id, { date: '2025-06-15', reason: 'liquidation', amount: '100.00' }),
      400,
      ['amount'],
    );
  });

  it('on a pending or a repaid loan: 409; an unknown loan: 404; a malformed id: 400', async () => {
    const desk = await servicingDesk(app);
    const pending = await pendingLoan(desk);
    const repaid = await repaidLoan(desk);
    await expectRefused(
      desk,
      [pending],
      () => writeOff(desk, pending, { date: today, reason: 'liquidation' }),
      409,
    );
    await expectRefused(
      desk,
      [repaid],
      () => writeOff(desk, repaid, { date: today, reason: 'liquidation' }),
      409,
    );
    await expectRefused(
      desk,
      [repaid],
      () => writeOff(desk, randomUUID(), { date: today, reason: 'liquidation' }),
      404,
    );
    const bad = await expectRefused(
      desk,
      [repaid],
      () => writeOff(desk, 'urn:uuid:0', { date: today, reason: 'liquidation' }),
      400,
    );
    expect(locationsOf(bad)).toEqual(['path:loan_id']);
  });
});

describe('POST /v1/funds/{fund_id}/moratoria refused', () => {
  const declare = (desk: Desk, fundId: string, body: Record<string, unknown>) =>
    desk.api.post(`/v1/funds/${fundId}/moratoria`, {
      effective_date: today,
      periods: 6,
      reason: 'crise sanitaire',
      ...body,
    });

  it.each([
    ['periods 0', { periods: 0 }, ['periods']],
    ['periods 121', { periods: 121 }, ['periods']],
    ['an unknown kind', { kind: 'social' }, ['kind']],
    ['an unknown deferral type', { deferral_type: 'half' }, ['deferral_type']],
    ['an unknown field', { loan_ids: [] }, ['loan_ids']],
    ['an impossible date', { effective_date: '2025-02-29' }, ['effective_date']],
  ] as [string, Record<string, unknown>, string[]][])(
    '%s: 400 naming the field',
    async (_name, body, fields) => {
      const desk = await servicingDesk(app);
      const loan = await runningLoan(desk);
      await expectRefused(desk, [loan.id], () => declare(desk, desk.fund.id, body), 400, fields);
    },
  );

  it('an effective date in the future: 422 naming effective_date', async () => {
    const desk = await servicingDesk(app);
    const loan = await runningLoan(desk);
    await expectRefused(
      desk,
      [loan.id],
      () => declare(desk, desk.fund.id, { effective_date: tomorrow }),
      422,
      ['effective_date'],
    );
  });

  it('no periods (nor deferral_periods): 422 naming periods; both, differing: 422 naming deferral_periods', async () => {
    const desk = await servicingDesk(app);
    const loan = await runningLoan(desk);
    await expectRefused(
      desk,
      [loan.id],
      () => declare(desk, desk.fund.id, { periods: undefined }),
      422,
      ['periods'],
    );
    await expectRefused(
      desk,
      [loan.id],
      () => declare(desk, desk.fund.id, { periods: 3, deferral_periods: 4 }),
      422,
      ['deferral_periods'],
    );
  });

  it('an unknown fund, or another fund: 404; a malformed fund id: 400 naming fund_id', async () => {
    const desk = await servicingDesk(app);
    const loan = await runningLoan(desk);
    const stranger = await servicingDesk(app);
    const strangerLoan = await runningLoan(stranger);
    await expectRefused(desk, [loan.id], () => declare(desk, randomUUID(), {}), 404);
    await expectRefused(
      stranger,
      [strangerLoan.id],
      () => declare(desk, stranger.fund.id, {}),
      404,
    );
    const bad = await expectRefused(
      desk,
      [loan.id],
      () => declare(desk, desk.fund.id.toUpperCase(), {}),
      400,
    );
    expect(locationsOf(bad)).toEqual(['path:fund_id']);
  });
});

describe('a moratorium whose capitalised interest would overflow numeric(14,2): never a 500', () => {
  /** A product that lends up to the contract's largest amount at up to 100 %, yearly: 120 years of capitalisation at 20 % multiply by 3·10⁹. */
  async function hugeLoanDesk() {
    const { fund, manager } = await fundWithManager(app);
    const product = await createProduct(app, fund.id, manager.secret, {
      kind: 'common_law',
      principal_min: '100.00',
      principal_max: '999999999999.99',
      annual_rate_percent_max: '100',
      term_periods_min: 1,
      term_periods_max: 600,
      deferral_periods_max: 599,
      methods: ['annuity', 'linear', 'bullet'],
      periodicities: ['monthly', 'annual'],
    });
    const structure = await createStructure(app, fund.id, manager.secret);
    const desk: Desk = { fund, manager, product, structure, api: as(app, manager.secret) };
    const disbursementDate = shiftDays(today, -30);
    const created = await desk.api.post('/v1/loans', {
      product_id: product.id,
      structure_id: structure.id,
      principal: '999999999.00',
      annual_rate_percent: '20',
      periodicity: 'annual',
      term_periods: 10,
      method: 'annuity',
      disbursement_date: disbursementDate,
    });
    expect(created.status).toBe(201);
    const loan = { id: created.body.id as string };
    expect(
      (
        await desk.api.post(`/v1/loans/${loan.id}/disbursement`, {
          date: disbursementDate,
          amount: '999999999.00',
        })
      ).status,
    ).toBe(200);
    return { desk, loan };
  }

  it('as a restructuring of the loan: 422 naming periods', async () => {
    const { desk, loan } = await hugeLoanDesk();
    await expectRefused(
      desk,
      [loan.id],
      () =>
        desk.api.post(`/v1/loans/${loan.id}/restructurings`, {
          type: 'moratorium',
          periods: 120,
          deferral_type: 'total',
          effective_date: today,
          reason: 'crise',
        }),
      422,
      ['periods'],
    );
  });

  it('a reversal that would let a later moratorium overflow: refused with a 4xx naming only what the request holds', async () => {
    const { desk, loan } = await hugeLoanDesk();
    // Paid down to about 200 million, 40 years of capitalisation at 20 % (× 1470) still fit; on the 999,999,999.00 they would not.
    const paid = await repay(desk, loan.id, {
      amount: '1000000000.00',
      value_date: shiftDays(today, -20),
    });
    expect(paid.status).toBe(201);
    const moratorium = await desk.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'moratorium',
      periods: 40,
      deferral_type: 'total',
      effective_date: today,
      reason: 'crise',
    });
    expect(moratorium.status).toBe(201);
    const res = await expectRefused(desk, [loan.id], () =>
      desk.api.post(`/v1/loans/${loan.id}/repayments/${paid.body.id}/reversal`, {
        reason: 'virement rejeté',
      }),
    );
    expect([409, 422]).toContain(res.status);
    // The reversal's request holds a reason and two ids: an error about any other field points nowhere.
    expect({
      foreign: fieldsOf(res).filter(
        (field) => !['reason', 'loan_id', 'repayment_id'].includes(field),
      ),
      body: res.body,
    }).toMatchObject({ foreign: [] });
  });

  it('as a portfolio moratorium of the fund: the loan is skipped, counted and listed with the reason, and left as it was', async () => {
    const { desk, loan } = await hugeLoanDesk();
    const before = (await desk.api.get(`/v1/loans/${loan.id}`)).body;
    const res = await desk.api.post(`/v1/funds/${desk.fund.id}/moratoria`, {
      periods: 120,
      deferral_type: 'total',
      effective_date: today,
      reason: 'crise',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ loans_changed: 0, loans_skipped: 1, changed_loan_ids: [] });
    expect(res.body.skipped_loans).toEqual([
      {
        loan_id: loan.id,
        reason: expect.stringContaining('periods would make the schedule’s amounts too large'),
      },
    ]);
    expect((await desk.api.get(`/v1/loans/${loan.id}`)).body).toEqual(before);
  });
});

describe('restructurings that lengthen a schedule without end: a 201 or a 422, never a 500', () => {
  /** A write answered 201, or refused as a 422 naming `periods` that changed no row and not the loan. */
  async function acceptedOrCleanlyRefused(
    desk: Desk,
    loanId: string,
    write: () => Promise<Response>,
  ): Promise<boolean> {
    const before = {
      rows: await rowCounts(desk),
      loan: (await desk.api.get(`/v1/loans/${loanId}`)).body,
    };
    const res = await write();
    if (res.status === 201) return true;
    expect({ status: res.status, fields: fieldsOf(res), body: res.body }).toMatchObject({
      status: 422,
      fields: ['periods'],
    });
    expect({
      rows: await rowCounts(desk),
      loan: (await desk.api.get(`/v1/loans/${loanId}`)).body,
    }).toEqual(before);
    return false;
  }

  // Each 120-period moratorium adds 120 rows; the schedule of a 360-month loan passes 7,281 rows (9 values a row,
  // PostgreSQL's 65,535 bind parameters in one INSERT) at the 58th.
  it('58 moratoria of 120 months on a 30-year loan, by loan and by portfolio', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk, {
      disbursement_date: shiftDays(today, -30),
      term_periods: 360,
      annual_rate_percent: '0',
    });
    const moratorium = { periods: 120, effective_date: today, reason: 'crise sans fin' };
    const restructure = () =>
      desk.api.post(`/v1/loans/${loan.id}/restructurings`, { type: 'moratorium', ...moratorium });
    let accepted = true;
    for (let k = 1; k <= 57 && accepted; k++)
      accepted = await acceptedOrCleanlyRefused(desk, loan.id, restructure);
    if (!accepted) return; // refused cleanly before reaching the limit: that is an answer too
    await acceptedOrCleanlyRefused(desk, loan.id, () =>
      desk.api.post(`/v1/funds/${desk.fund.id}/moratoria`, moratorium),
    );
    await acceptedOrCleanlyRefused(desk, loan.id, restructure);
  }, 240_000);
});
