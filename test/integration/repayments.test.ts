import type { Express } from 'express';
import { testApp } from '../support/app';
import { sql } from 'kysely';
import { testDb } from '../support/db';
import { as, createKey } from '../support/portfolio';
import { disbursedLoan, repay, servicingDesk, type Desk } from '../support/servicing';

// The loan of every story: 10,000.00 at 12 % a year over 12 months, annuity, 30E/360, paid out on
// 15 January 2025; the level instalment is 888.49 (PMT(1 %, 12, 10000) = 888.4879) and row 1 is
// 100.00 interest + 788.49 principal, leaving 9,211.51.

let app: Express;
beforeAll(async () => {
  app = await testApp();
});

type Row = {
  number: number;
  due_date: string;
  principal: string;
  interest: string;
  total: string;
  paid: string;
  status: string;
};
const scheduleOf = async (desk: Desk, loanId: string, asOf: string) =>
  (await desk.api.get(`/v1/loans/${loanId}/schedule?as_of=${asOf}`)).body as {
    version: number;
    instalments: Row[];
  };
const accounts = async (desk: Desk, asOf: string) => {
  const trial = await desk.api.get(`/v1/funds/${desk.fund.id}/ledger/trial-balance?as_of=${asOf}`);
  expect(trial.body.total_debits).toBe(trial.body.total_credits);
  return Object.fromEntries(
    (trial.body.accounts as { account: string; balance: string }[]).map((a) => [
      a.account,
      a.balance,
    ]),
  );
};

describe('allocating a repayment (DOMAIN.md "Allocation")', () => {
  it('a payment on the due date settles that instalment, interest before principal', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const res = await repay(desk, loan.id, {
      amount: '888.49',
      value_date: '2025-02-15',
      reference: 'VIR-2025-02',
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/loans/${loan.id}/repayments/${res.body.id}`);
    expect(res.body).toMatchObject({
      amount: '888.49',
      reference: 'VIR-2025-02',
      kind: 'repayment',
      status: 'posted',
      principal_prepaid: '0.00',
      excess: '0.00',
    });
    expect(res.body.allocations).toEqual([
      {
        instalment_number: 1,
        fees: '0.00',
        late_interest: '0.00',
        interest: '100.00',
        principal: '788.49',
        total: '888.49',
      },
    ]);
    expect(res.body.loan).toMatchObject({
      status: 'active',
      outstanding_principal: '9211.51',
      schedule_version: 1,
    });
    const rows = (await scheduleOf(desk, loan.id, '2025-02-15')).instalments;
    expect(rows[0]).toMatchObject({ paid: '888.49', status: 'paid' });
    expect(rows[1]).toMatchObject({ paid: '0.00', status: 'upcoming' });
  });

  it('when payments come late, the loan is in arrears; a late payment settles the oldest instalment first', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' });

    const before = await desk.api.get(`/v1/loans/${loan.id}?as_of=2025-04-20`);
    expect(before.body.arrears).toEqual({
      overdue_principal: '1600.71',
      overdue_interest: '176.27',
      overdue_fees: '0.00',
      overdue_total: '1776.98',
      overdue_instalments: 2,
      days_past_due: 36,
    });

    const late = await repay(desk, loan.id, { amount: '1000.00', value_date: '2025-04-20' });
    expect(
      late.body.allocations.map(
        (a: { instalment_number: number; interest: string; principal: string }) => [
          a.instalment_number,
          a.interest,
          a.principal,
        ],
      ),
    ).toEqual([
      [2, '92.12', '796.37'],
      [3, '84.15', '27.36'],
    ]);
    const after = await desk.api.get(`/v1/loans/${loan.id}?as_of=2025-04-20`);
    expect(after.body.arrears).toMatchObject({
      overdue_principal: '776.98',
      overdue_interest: '0.00',
      overdue_instalments: 1,
      days_past_due: 5,
    });
    expect(after.body.outstanding_principal).toBe('8387.78'); // 9,211.51 − 796.37 − 27.36
    expect((await scheduleOf(desk, loan.id, '2025-04-20')).instalments[2]).toMatchObject({
      paid: '111.51',
      status: 'partially_paid',
    });
  });

  it('after the due instalments, the next one is paid in advance with its amounts unchanged; pay_ahead goes on in order, without a new version', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const res = await repay(desk, loan.id, {
      amount: '2000.00',
      value_date: '2025-02-15',
      prepayment: 'pay_ahead',
    });
    expect(
      res.body.allocations.map(
        (a: { instalment_number: number; interest: string; principal: string }) => [
          a.instalment_number,
          a.interest,
          a.principal,
        ],
      ),
    ).toEqual([
      [1, '100.00', '788.49'],
      [2, '92.12', '796.37'],
      [3, '84.15', '138.87'],
    ]);
    expect(res.body.principal_prepaid).toBe('0.00');
    expect(res.body.loan.schedule_version).toBe(1);
  });
});

describe('prepayments (DOMAIN.md "Prepayment")', () => {
  it('reduce_instalment: the rest reduces the principal and a new version recomputes the level instalment on the same due dates', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' });
    const res = await repay(desk, loan.id, { amount: '3000.00', value_date: '2025-02-20' });
    expect(
      res.body.allocations.map((a: { instalment_number: number }) => a.instalment_number),
    ).toEqual([2]); // paid in advance, unchanged
    expect(res.body.principal_prepaid).toBe('2111.51');
    expect(res.body.loan).toMatchObject({ schedule_version: 2, outstanding_principal: '6303.63' });

    const schedule = await scheduleOf(desk, loan.id, '2025-02-20');
    expect(schedule.version).toBe(2);
    expect(schedule.instalments).toHaveLength(12);
    expect(schedule.instalments[1]).toMatchObject({
      due_date: '2025-03-15',
      total: '888.49',
      status: 'paid',
    });
    // 6,303.63 over the 10 periods left at 1 %: 665.55; the first of them carries 63.04 interest.
    expect(schedule.instalments[2]).toMatchObject({
      due_date: '2025-04-15',
      interest: '63.04',
      total: '665.55',
      paid: '0.00',
    });
    expect(schedule.instalments.slice(2, 11).every((row) => row.total === '665.55')).toBe(true);
    expect(schedule.instalments[11]!.due_date).toBe('2026-01-15');

    const versions = await desk.api.get(`/v1/loans/${loan.id}/schedule/versions`);
    expect(
      versions.body.items.map((v: { version: number; reason: string; effective_date: string }) => [
        v.version,
        v.reason,
        v.effective_date,
      ]),
    ).toEqual([
      [1, 'disbursement', '2025-01-15'],
      [2, 'prepayment', '2025-02-20'],
    ]);
    expect(
      (await desk.api.get(`/v1/loans/${loan.id}/schedule/versions/1?as_of=2025-02-20`)).body
        .instalments[2].total,
    ).toBe('888.49');
  });

  it('reduce_term: the level instalment stays and the periods no longer needed are dropped, the last taking the residue', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' });
    const res = await repay(desk, loan.id, {
      amount: '3000.00',
      value_date: '2025-03-20',
      prepayment: 'reduce_term',
    });
    expect(res.body.principal_prepaid).toBe('1223.02'); // 3,000.00 − instalments 2 and 3
    expect(res.body.loan.outstanding_principal).toBe('6387.78');
    const rows = (await scheduleOf(desk, loan.id, '2025-03-20')).instalments;
    expect(rows).toHaveLength(11);
    expect(rows[3]).toMatchObject({ interest: '63.88', total: '888.49' });
    expect(rows.slice(3, 10).every((row) => row.total === '888.49')).toBe(true);
    const last = rows[10]!;
    expect(BigInt(last.total.replace('.', ''))).toBeLessThan(88849n);
    const principal = rows
      .slice(3)
      .reduce((sum, row) => sum + BigInt(row.principal.replace('.', '')), 0n);
    expect(principal).toBe(638778n);
  });

  it('a payment beyond everything owed repays the loan and states the excess, owed back to the borrower', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const res = await repay(desk, loan.id, { amount: '20000.00', value_date: '2025-02-15' });
    // Instalments 1 and 2 (the next one, in advance), then the 8,415.14 still owed; the rest is excess.
    expect(res.body).toMatchObject({ principal_prepaid: '8415.14', excess: '9807.88' });
    expect(res.body.loan).toMatchObject({ status: 'repaid', outstanding_principal: '0.00' });
    expect((await desk.api.get(`/v1/loans/${loan.id}`)).body).toMatchObject({
      status: 'repaid',
      repaid_on: '2025-02-15',
    });
    expect(await accounts(desk, '2025-02-15')).toMatchObject({
      loans_receivable: '0.00',
      owed_to_borrowers: '-9807.88',
      cash: '10000.00',
      interest_income: '-192.12',
    });
    expect((await scheduleOf(desk, loan.id, '2025-02-15')).instalments).toHaveLength(2);

    const again = await repay(desk, loan.id, { amount: '10.00', value_date: '2025-02-16' });
    expect(again.status).toBe(409);
  });
});

describe('reversals', () => {
  it('a reversed repayment stays visible; later repayments are re-allocated in value-date order and the ledger follows', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const first = await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' });
    const second = await repay(desk, loan.id, {
      amount: '3000.00',
      value_date: '2025-03-20',
      prepayment: 'reduce_term',
    });
    expect(second.body.principal_prepaid).toBe('1223.02');

    const reversal = await desk.api.post(
      `/v1/loans/${loan.id}/repayments/${first.body.id}/reversal`,
      { reason: 'cheque returned unpaid' },
    );
    expect(reversal.status).toBe(200);
    expect(reversal.body).toMatchObject({
      status: 'reversed',
      reversal_reason: 'cheque returned unpaid',
    });
    expect(reversal.body.loan.outstanding_principal).toBe('7276.27');

    const list = await desk.api.get(`/v1/loans/${loan.id}/repayments`);
    const [a, b] = list.body.items;
    expect(a).toMatchObject({ id: first.body.id, status: 'reversed' });
    // The second repayment now settles instalments 1 to 3 and prepays only what is left.
    expect(b.allocations.map((x: { instalment_number: number }) => x.instalment_number)).toEqual([
      1, 2, 3,
    ]);
    expect(b).toMatchObject({
      principal_allocated: '2389.20',
      interest_allocated: '276.27',
      principal_prepaid: '334.53',
    });

    expect(await accounts(desk, '2030-01-01')).toMatchObject({
      loans_receivable: '7276.27',
      cash: '-7000.00',
      interest_income: '-276.27',
    });
    const statement = await desk.api.get(`/v1/loans/${loan.id}/statement?as_of=2025-12-31`);
    // The reversed repayment shows with its reversal; the second repayment only as it now stands
    // (its first allocation, superseded, stays in the ledger, not in what the borrower reads).
    expect(
      statement.body.lines.map((l: { type: string; principal: string; balance: string }) => [
        l.type,
        l.principal,
        l.balance,
      ]),
    ).toEqual([
      ['disbursement', '10000.00', '10000.00'],
      ['repayment', '-788.49', '9211.51'],
      ['reversal', '788.49', '10000.00'],
      ['repayment', '-2723.73', '7276.27'],
    ]);
    expect(statement.body.outstanding_principal).toBe('7276.27');

    const twice = await desk.api.post(`/v1/loans/${loan.id}/repayments/${first.body.id}/reversal`, {
      reason: 'again',
    });
    expect(twice.status).toBe(409);
  });

  it('reversing the payment that repaid a loan opens it again', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const payoff = await repay(desk, loan.id, { amount: '20000.00', value_date: '2025-02-15' });
    const reversal = await desk.api.post(
      `/v1/loans/${loan.id}/repayments/${payoff.body.id}/reversal`,
      { reason: 'wrong loan' },
    );
    expect(reversal.body.loan).toMatchObject({
      status: 'active',
      outstanding_principal: '10000.00',
    });
    expect(await accounts(desk, '2030-01-01')).toMatchObject({
      loans_receivable: '10000.00',
      owed_to_borrowers: '0.00',
      cash: '-10000.00',
    });
    expect((await scheduleOf(desk, loan.id, '2025-02-15')).instalments).toHaveLength(12);
  });
});

describe('the statement a partner portal shows', () => {
  it('lists every movement with the outstanding principal after it, up to the date asked; a structure key reads its own', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15', reference: 'VIR-1' });
    await repay(desk, loan.id, { amount: '900.00', value_date: '2025-03-14' });
    const portal = as(
      app,
      (await createKey(app, { role: 'structure', structure_id: desk.structure.id })).secret,
    );
    const statement = await portal.get(`/v1/loans/${loan.id}/statement?as_of=2025-03-14`);
    expect(statement.status).toBe(200);
    expect(
      statement.body.lines.map(
        (l: {
          value_date: string;
          type: string;
          cash: string;
          principal: string;
          interest: string;
          balance: string;
          reference: string | null;
        }) => [l.value_date, l.type, l.cash, l.principal, l.interest, l.balance, l.reference],
      ),
    ).toEqual([
      ['2025-01-15', 'disbursement', '-10000.00', '10000.00', '0.00', '10000.00', null],
      ['2025-02-15', 'repayment', '888.49', '-788.49', '100.00', '9211.51', 'VIR-1'],
      // 888.49 for instalment 2, the 11.51 left prepaid
      ['2025-03-14', 'repayment', '900.00', '-807.88', '92.12', '8403.63', null],
    ]);
    expect(
      (await portal.get(`/v1/loans/${loan.id}/statement?as_of=2025-03-13`)).body.lines,
    ).toHaveLength(2);
    const loanNow = await desk.api.get(`/v1/loans/${loan.id}?as_of=2025-03-14`);
    expect(loanNow.body.outstanding_principal).toBe(statement.body.outstanding_principal);
  });
});

describe('the statement after a correction', () => {
  it('never shows a balance the loan did not have: a back-dated reversal under a write-off', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const paid = await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' });
    await desk.api.post(`/v1/loans/${loan.id}/write-off`, {
      date: '2025-06-01',
      reason: 'liquidation',
    });
    await repay(desk, loan.id, { amount: '100.00', value_date: '2025-07-01' });
    await desk.api.post(`/v1/loans/${loan.id}/repayments/${paid.body.id}/reversal`, {
      reason: 'rejected',
    });
    const statement = await desk.api.get(`/v1/loans/${loan.id}/statement?as_of=2025-12-31`);
    expect(
      statement.body.lines.map(
        (l: { value_date: string; type: string; principal: string; balance: string }) => [
          l.value_date,
          l.type,
          l.principal,
          l.balance,
        ],
      ),
    ).toEqual([
      ['2025-01-15', 'disbursement', '10000.00', '10000.00'],
      ['2025-02-15', 'repayment', '-788.49', '9211.51'],
      ['2025-02-15', 'reversal', '788.49', '10000.00'],
      ['2025-06-01', 'write_off', '-10000.00', '0.00'],
      ['2025-07-01', 'recovery', '0.00', '0.00'],
    ]);
  });
});

describe('an Idempotency-Key', () => {
  it('is forgotten after seven days: a request under it then runs again', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const first = await repay(
      desk,
      loan.id,
      { amount: '100.00', value_date: '2025-02-15' },
      'once-a-week',
    );
    const db = await testDb();
    await sql`UPDATE idempotency_keys SET created_at = now() - interval '8 days' WHERE owner = ${desk.manager.id} AND key = 'once-a-week'`.execute(
      db,
    );
    const later = await repay(
      desk,
      loan.id,
      { amount: '120.00', value_date: '2025-02-15' },
      'once-a-week',
    );
    expect(later.status).toBe(201);
    expect(later.headers['idempotency-replayed']).toBeUndefined();
    expect(later.body.id).not.toBe(first.body.id);
  });
});

describe('amounts as the client spells them', () => {
  it('"500" is stored, answered, replayed and audited as "500.00"; "500.0" under the same key is the same request', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const first = await repay(
      desk,
      loan.id,
      { amount: '500', value_date: '2025-02-15' },
      'spelled-500',
    );
    expect(first.status).toBe(201);
    expect(first.body.amount).toBe('500.00');
    const again = await repay(
      desk,
      loan.id,
      { amount: '500.0', value_date: '2025-02-15' },
      'spelled-500',
    );
    expect(again.headers['idempotency-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(
      (await desk.api.get(`/v1/loans/${loan.id}/repayments/${first.body.id}`)).body.amount,
    ).toBe('500.00');
    const { rows } = await sql<{
      state: { amount: string };
    }>`SELECT state FROM audit_events WHERE entity_id = ${first.body.id}`.execute(await testDb());
    expect(rows.map((row) => row.state.amount)).toEqual(['500.00']);
  });
});

describe('the largest repayment a loan takes', () => {
  // Everything the schedule asks for: 12 × 888.49 less the last row's rounding, 10,661.86.
  it('is twice everything its schedule asks for; beyond, a 422 naming `amount`, and nothing is written', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const tooMuch = await repay(desk, loan.id, {
      amount: '999999999999.99',
      value_date: '2025-02-15',
    });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.errors).toEqual([
      {
        in: 'body',
        field: 'amount',
        message:
          "must be at most 21323.72: everything the loan's schedule asks for (10661.86) plus 100 %",
      },
    ]);
    expect(
      (await repay(desk, loan.id, { amount: '21323.73', value_date: '2025-02-15' })).status,
    ).toBe(422);
    expect((await desk.api.get(`/v1/loans/${loan.id}/repayments`)).body.items).toEqual([]);
    const largest = await repay(desk, loan.id, { amount: '21323.72', value_date: '2025-02-15' });
    expect(largest.status).toBe(201);
    expect(largest.body.loan.status).toBe('repaid');
    expect(largest.body.excess).toBe('11131.60'); // 21,323.72 − the 10,192.12 owed that day (see the payoff above)
  });
});
