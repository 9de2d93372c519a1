import type { Express } from 'express';
import { testApp } from '../support/app';
import { createProduct, createStructure } from '../support/portfolio';
import { disbursedLoan, repay, servicingDesk, type Desk } from '../support/servicing';

// The loan of every story: 10,000.00 at 12 % over 12 months, annuity, from 15 January 2025; its
// first instalment (100.00 interest + 788.49 principal) paid on 15 February leaves 9,211.51.

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
  capitalised_interest: string;
  balance_after: string;
  paid: string;
  status: string;
};
const rowsOf = async (desk: Desk, loanId: string) =>
  (await desk.api.get(`/v1/loans/${loanId}/schedule`)).body.instalments as Row[];
const receivable = async (desk: Desk, asOf: string) => {
  const trial = await desk.api.get(`/v1/funds/${desk.fund.id}/ledger/trial-balance?as_of=${asOf}`);
  expect(trial.body.total_debits).toBe(trial.body.total_credits);
  return (trial.body.accounts as { account: string; balance: string }[]).find(
    (a) => a.account === 'loans_receivable',
  )!.balance;
};

async function loanWithFirstInstalmentPaid(desk: Desk) {
  const loan = await disbursedLoan(desk);
  await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' });
  return loan;
}

describe('restructuring a loan (DOMAIN.md "Restructuring")', () => {
  it('a partial moratorium inserts interest-only periods and pushes the remaining due dates back; the old version stays readable', async () => {
    const desk = await servicingDesk(app);
    const loan = await loanWithFirstInstalmentPaid(desk);
    const res = await desk.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'moratorium',
      effective_date: '2025-03-01',
      periods: 3,
      reason: 'Baisse d’activité',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      type: 'moratorium',
      periods: 3,
      deferral_type: 'partial',
      capitalise_arrears: false,
      schedule_version: 2,
    });
    expect(res.body.loan).toMatchObject({
      restructured: true,
      schedule_version: 2,
      outstanding_principal: '9211.51',
    });

    const rows = await rowsOf(desk, loan.id);
    expect(rows).toHaveLength(15);
    expect(rows[0]).toMatchObject({ due_date: '2025-02-15', total: '888.49' });
    expect(rows.slice(1, 4).map((r) => [r.due_date, r.principal, r.interest])).toEqual([
      ['2025-03-15', '0.00', '92.12'],
      ['2025-04-15', '0.00', '92.12'],
      ['2025-05-15', '0.00', '92.12'],
    ]);
    // The 11 instalments left, three months later, on the same 9,211.51: the same 888.49.
    expect(rows[4]).toMatchObject({ due_date: '2025-06-15', total: '888.49' });
    expect(rows[14]!.due_date).toBe('2026-04-15');
    expect(rows[14]!.balance_after).toBe('0.00');

    expect(
      (await desk.api.get(`/v1/loans/${loan.id}/schedule/versions/1`)).body.instalments,
    ).toHaveLength(12);
    // Paid since against the new rows, not against version 1's: version 1 shows what was paid while it stood.
    await repay(desk, loan.id, { amount: '92.12', value_date: '2025-03-15' });
    const v1 = (await desk.api.get(`/v1/loans/${loan.id}/schedule/versions/1?as_of=2025-04-01`))
      .body.instalments;
    expect(v1.slice(0, 2).map((r: Row) => [r.paid, r.status])).toEqual([
      ['888.49', 'paid'],
      ['0.00', 'overdue'],
    ]);
    expect((await rowsOf(desk, loan.id))[1]).toMatchObject({ paid: '92.12', status: 'paid' });
    expect((await desk.api.get(`/v1/loans/${loan.id}`)).body.restructured).toBe(true);
    const listed = await desk.api.get(`/v1/loans/${loan.id}/restructurings`);
    expect(listed.body.items.map((r: { id: string }) => r.id)).toEqual([res.body.id]);
  });

  it('a total moratorium capitalises the interest on each due date, posted to the ledger on that date', async () => {
    const desk = await servicingDesk(app);
    const loan = await loanWithFirstInstalmentPaid(desk);
    await desk.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'moratorium',
      effective_date: '2025-03-01',
      periods: 3,
      deferral_type: 'total',
      reason: 'Crise',
    });
    const rows = await rowsOf(desk, loan.id);
    expect(rows.slice(1, 4).map((r) => [r.total, r.capitalised_interest, r.balance_after])).toEqual(
      [
        ['0.00', '92.12', '9303.63'],
        ['0.00', '93.04', '9396.67'],
        ['0.00', '93.97', '9490.64'],
      ],
    );
    expect(rows[4]!.total).toBe('915.41');
    expect(
      (await desk.api.get(`/v1/loans/${loan.id}?as_of=2025-04-15`)).body.outstanding_principal,
    ).toBe('9396.67');
    expect(await receivable(desk, '2025-03-14')).toBe('9211.51');
    expect(await receivable(desk, '2025-04-15')).toBe('9396.67');
    expect(await receivable(desk, '2025-05-15')).toBe('9490.64');
  });

  it('an extension spreads what is left over a new number of periods', async () => {
    const desk = await servicingDesk(app);
    const loan = await loanWithFirstInstalmentPaid(desk);
    const res = await desk.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'extension',
      effective_date: '2025-03-01',
      remaining_periods: 24,
      reason: 'Étalement',
    });
    expect(res.status).toBe(201);
    const rows = await rowsOf(desk, loan.id);
    expect(rows).toHaveLength(25);
    expect(rows[1]).toMatchObject({ due_date: '2025-03-15', total: '433.62' });
    expect(rows[24]).toMatchObject({ due_date: '2027-02-15', balance_after: '0.00' });
  });

  it('a rate change reschedules the instalments left at the new rate; the loan shows the rate now applied', async () => {
    const desk = await servicingDesk(app);
    const loan = await loanWithFirstInstalmentPaid(desk);
    await desk.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'rate_change',
      effective_date: '2025-03-01',
      annual_rate_percent: '6',
      reason: 'Taux solidaire',
    });
    const rows = await rowsOf(desk, loan.id);
    expect(rows).toHaveLength(12);
    expect(rows[1]).toMatchObject({ interest: '46.06', total: '862.74' });
    expect((await desk.api.get(`/v1/loans/${loan.id}`)).body).toMatchObject({
      annual_rate_percent: '12',
      current_annual_rate_percent: '6',
    });
  });

  it('capitalise_arrears adds the unpaid principal and interest to the principal rescheduled; the interest is posted as capitalised', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk); // instalment 1, due 15 February, never paid
    expect(
      (await desk.api.get(`/v1/loans/${loan.id}?as_of=2025-03-01`)).body.arrears.days_past_due,
    ).toBe(14);
    const res = await desk.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'extension',
      effective_date: '2025-03-01',
      remaining_periods: 11,
      capitalise_arrears: true,
      reason: 'Arriérés',
    });
    expect(res.body.loan.outstanding_principal).toBe('10100.00');
    const rows = await rowsOf(desk, loan.id);
    // Instalment 1 keeps its amounts: owed, and in arrears, until the restructuring settled it.
    expect(rows[0]).toMatchObject({
      principal: '788.49',
      interest: '100.00',
      total: '888.49',
      paid: '888.49',
      status: 'paid',
    });
    expect(rows[1]).toMatchObject({ interest: '101.00', total: '974.19' });
    const after = await desk.api.get(`/v1/loans/${loan.id}?as_of=2025-03-01`);
    expect(after.body.arrears).toMatchObject({ overdue_total: '0.00', days_past_due: 0 });
    const before = await desk.api.get(`/v1/loans/${loan.id}?as_of=2025-02-20`);
    expect(before.body.arrears).toMatchObject({
      overdue_total: '888.49',
      overdue_instalments: 1,
      days_past_due: 5,
    });
    expect(await receivable(desk, '2025-03-01')).toBe('10100.00');
    expect(await receivable(desk, '2025-02-28')).toBe('10000.00');
  });

  it('a restructuring dated before a repayment already recorded is refused, and changes nothing', async () => {
    const desk = await servicingDesk(app);
    const loan = await loanWithFirstInstalmentPaid(desk);
    const res = await desk.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'extension',
      effective_date: '2025-02-01',
      remaining_periods: 24,
      reason: 'x',
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['effective_date']);
    expect((await desk.api.get(`/v1/loans/${loan.id}`)).body).toMatchObject({
      schedule_version: 1,
      restructured: false,
    });
  });
});

describe('a portfolio moratorium (issue 4 item 4)', () => {
  it('restructures every active loan of the kind in one operation and says how many it changed', async () => {
    const desk = await servicingDesk(app, 'recovery');
    const commonLaw = await createProduct(app, desk.fund.id, desk.manager.secret, {
      kind: 'common_law',
      principal_min: '100.00',
      principal_max: '1000000.00',
      annual_rate_percent_max: '20',
      term_periods_min: 1,
      term_periods_max: 360,
    });
    const recoveryLoans = [
      await disbursedLoan(desk),
      await disbursedLoan(desk, { principal: '5000.00', annual_rate_percent: '0' }),
    ];
    const other = await createStructure(app, desk.fund.id, desk.manager.secret);
    const ordinary = await desk.api.post('/v1/loans', {
      product_id: commonLaw.id,
      structure_id: other.id,
      principal: '8000.00',
      annual_rate_percent: '4',
      periodicity: 'monthly',
      term_periods: 24,
      method: 'annuity',
      disbursement_date: '2025-01-15',
    });
    await desk.api.post(`/v1/loans/${ordinary.body.id}/disbursement`, {
      date: '2025-01-15',
      amount: '8000.00',
    });
    await desk.api.post('/v1/loans', {
      product_id: desk.product.id,
      structure_id: desk.structure.id,
      principal: '3000.00',
      annual_rate_percent: '0',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-15',
    }); // pending: not concerned

    const res = await desk.api.post(`/v1/funds/${desk.fund.id}/moratoria`, {
      kind: 'recovery',
      effective_date: '2025-03-01',
      periods: 6,
      deferral_type: 'total',
      reason: 'Crise sanitaire',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      kind: 'recovery',
      periods: 6,
      capitalise_arrears: false,
      loans_changed: 2,
      loans_skipped: 0,
    }); // capitalise_arrears: the default
    expect([...res.body.changed_loan_ids].sort()).toEqual(recoveryLoans.map((l) => l.id).sort());
    for (const loan of recoveryLoans) {
      const restructurings = (await desk.api.get(`/v1/loans/${loan.id}/restructurings`)).body.items;
      expect(restructurings).toHaveLength(1);
      expect(restructurings[0]).toMatchObject({
        moratorium_id: res.body.id,
        periods: 6,
        deferral_type: 'total',
      });
      expect((await desk.api.get(`/v1/loans/${loan.id}`)).body).toMatchObject({
        restructured: true,
        schedule_version: 2,
      });
    }
    expect((await desk.api.get(`/v1/loans/${ordinary.body.id}`)).body).toMatchObject({
      restructured: false,
      schedule_version: 1,
    });
    const audit = await desk.api.get(`/v1/audit-events/verify?fund_id=${desk.fund.id}`);
    expect(audit.body.valid).toBe(true);

    // Declared again (a retried request), it is refused rather than deferring every loan twice.
    const twice = await desk.api.post(`/v1/funds/${desk.fund.id}/moratoria`, {
      kind: 'recovery',
      effective_date: '2025-03-01',
      periods: 6,
      deferral_type: 'total',
      reason: 'Crise sanitaire',
    });
    expect(twice.status).toBe(409);
    expect((await desk.api.get(`/v1/loans/${recoveryLoans[0]!.id}`)).body.schedule_version).toBe(2);
  });
});

describe('writing a loan off (DOMAIN.md "Write-off")', () => {
  it('closes the outstanding principal as a loss; later payments are recoveries', async () => {
    const desk = await servicingDesk(app);
    const loan = await loanWithFirstInstalmentPaid(desk);
    const res = await desk.api.post(`/v1/loans/${loan.id}/write-off`, {
      date: '2025-06-30',
      reason: 'Liquidation judiciaire',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'written_off',
      written_off_on: '2025-06-30',
      written_off_principal: '9211.51',
      write_off_reason: 'Liquidation judiciaire',
      outstanding_principal: '0.00',
    });
    expect(await receivable(desk, '2025-06-29')).toBe('9211.51');
    expect(await receivable(desk, '2025-06-30')).toBe('0.00');
    expect(
      (await desk.api.get(`/v1/loans/${loan.id}?as_of=2025-07-15`)).body.arrears.days_past_due,
    ).toBe(0);

    const early = await repay(desk, loan.id, { amount: '300.00', value_date: '2025-06-01' });
    expect(early.status).toBe(422);
    const recovery = await repay(desk, loan.id, { amount: '300.00', value_date: '2025-09-01' });
    expect(recovery.status).toBe(201);
    expect(recovery.body).toMatchObject({ kind: 'recovery', recovered: '300.00', allocations: [] });
    const trial = await desk.api.get(
      `/v1/funds/${desk.fund.id}/ledger/trial-balance?as_of=2025-12-31`,
    );
    const balances = Object.fromEntries(
      (trial.body.accounts as { account: string; balance: string }[]).map((a) => [
        a.account,
        a.balance,
      ]),
    );
    expect(balances).toMatchObject({
      loan_losses: '9211.51',
      recoveries: '-300.00',
      loans_receivable: '0.00',
      cash: '-8811.51',
    });
    const statement = await desk.api.get(`/v1/loans/${loan.id}/statement?as_of=2025-12-31`);
    expect(
      statement.body.lines
        .slice(-2)
        .map((l: { type: string; written_off: string; recovered: string; balance: string }) => [
          l.type,
          l.written_off,
          l.recovered,
          l.balance,
        ]),
    ).toEqual([
      ['write_off', '9211.51', '0.00', '0.00'],
      ['recovery', '0.00', '300.00', '0.00'],
    ]);
    expect(
      (
        await desk.api.post(`/v1/loans/${loan.id}/write-off`, {
          date: '2025-07-01',
          reason: 'again',
        })
      ).status,
    ).toBe(409);
  });
});

describe('restructuring fields named as in the loan terms', () => {
  it('a moratorium of `deferral_periods`, an extension to a new `term_periods` (every instalment counted)', async () => {
    const desk = await servicingDesk(app);
    const loan = await loanWithFirstInstalmentPaid(desk);
    const moratorium = await desk.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'moratorium',
      effective_date: '2025-03-01',
      deferral_periods: 2,
      reason: 'x',
    });
    expect(moratorium.status).toBe(201);
    expect(moratorium.body).toMatchObject({ periods: 2, deferral_periods: 2 });
    expect(await rowsOf(desk, loan.id)).toHaveLength(14);

    const other = await loanWithFirstInstalmentPaid(desk);
    const extension = await desk.api.post(`/v1/loans/${other.id}/restructurings`, {
      type: 'extension',
      effective_date: '2025-03-01',
      term_periods: 25,
      reason: 'x',
    });
    expect(extension.body).toMatchObject({ term_periods: 25, remaining_periods: null });
    const rows = await rowsOf(desk, other.id);
    expect(rows).toHaveLength(25); // instalment 1, already paid, and 24 new ones: as remaining_periods 24 gives
    expect(rows[1]).toMatchObject({ total: '433.62' });

    const both = await desk.api.post(`/v1/loans/${other.id}/restructurings`, {
      type: 'extension',
      effective_date: '2025-03-01',
      term_periods: 30,
      remaining_periods: 29,
      reason: 'x',
    });
    expect(both.status).toBe(422);
    expect(both.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'remaining_periods',
      'term_periods',
    ]);
  });
});
