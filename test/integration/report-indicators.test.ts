/**
 * The resilience indicators (DOMAIN.md "Resilience reporting"), each worked out by hand on a small
 * portfolio made through the API, as of a date. The loans are at 0 %, but those of 10,000.00 at 12 %
 * (whose schedule the API is asked for), so that each figure can be checked with pen and paper.
 */
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app';
import { connectDatabase, type Db } from '../../src/db/connect';
import { migrate } from '../../src/db/migrate';
import type { CalendarDate } from '../../src/domain/dates';
import { hashSecret } from '../../src/http/auth';
import {
  computeReportIndicators,
  type ReportIndicators,
} from '../../src/reports/report-indicators';
import { testApp } from '../support/app';
import { testDb } from '../support/db';
import {
  as,
  createProduct,
  createStructure,
  fundWithManager,
  type Product,
  type Structure,
} from '../support/portfolio';
import { disbursedLoan, repay, servicingDesk } from '../support/servicing';

let app: Express;
beforeAll(async () => {
  app = await testApp();
});

const report = async (fundId: string, asOf: string) =>
  computeReportIndicators(await testDb(), fundId, asOf as CalendarDate);

type Api = ReturnType<typeof as>;
type Row = { number: number; due_date: string; principal: string; interest: string; total: string };
const rowsOf = async (api: Api, loanId: string, asOf: string) =>
  (await api.get(`/v1/loans/${loanId}/schedule?as_of=${asOf}`)).body.instalments as Row[];

const LOSS_RATES = {
  current: '0.01',
  '1_30': '0.10',
  '31_60': '0.25',
  '61_90': '0.50',
  '91_180': '0.75',
  over_180: '1.00',
};
const none = { loan_count: 0, outstanding_principal: '0.00', arrears: '0.00' };
const month = (name: string, principal: string, interest = '0.00', total = principal) => ({
  month: name,
  principal,
  interest,
  total,
});

/** Creates a monthly annuity loan (0 % unless said) and, unless told not to, disburses it on its date. */
async function lend(
  api: Api,
  product: Product,
  structure: Structure,
  terms: {
    principal: string;
    term_periods: number;
    disbursement_date: string;
    annual_rate_percent?: string;
  },
  disburse = true,
) {
  const created = await api.post('/v1/loans', {
    product_id: product.id,
    structure_id: structure.id,
    annual_rate_percent: '0',
    periodicity: 'monthly',
    method: 'annuity',
    ...terms,
  });
  expect(created.status).toBe(201);
  if (disburse)
    expect(
      (
        await api.post(`/v1/loans/${created.body.id}/disbursement`, {
          date: terms.disbursement_date,
          amount: terms.principal,
        })
      ).status,
    ).toBe(200);
  return created.body.id as string;
}

async function pay(api: Api, loanId: string, amount: string, valueDate: string) {
  const res = await repay({ api }, loanId, { amount, value_date: valueDate });
  expect(res.status).toBe(201);
  return res.body;
}

/**
 * A fund with a recovery product (guarantee 50 %), a common-law one (no guarantee), and four
 * structures, then its loans:
 *   S1 Rhône (69), 88.99B, association, 12.50 FTE   S2 Ain (01), 56.10A, cooperative, 4.00 FTE
 *   S3 Rhône (69), 56.10A, cooperative, 30.00 FTE   S4 Ain (01), 88.99B, association, 2.00 FTE
 *   L1 recovery/S1, 12,000.00 over 12 from 2025-01-15 (1,000.00 on the 15th): paid to June, and July in advance on 15 June.
 *   L2 common law/S2, 10,000.00 at 12 % over 12 from 2025-01-15 (888.49): 3 paid, May and June missed.
 *   L3 recovery/S1, 6,000.00 over 6 from 2024-12-20 (1,000.00 on the 20th): 1,500.00 paid on 20 January, no more.
 *   L4 common law/S4, 5,000.00 over 6 from 2024-06-10 (833.33 × 5 + 833.35): repaid in full on 10 September 2024.
 *   L5 recovery/S4, 8,000.00 over 8 from 2024-03-05 (1,000.00): 2 paid, written off on 2024-09-01, 1,500.00 recovered on 2025-02-01.
 *   L6 common law/S3, 9,000.00 over 9 from 2025-01-10 (1,000.00): 2 paid, extended on 2025-03-20 to 12 periods
 *      (7,000.00 → 583.33 × 11 + 583.37 from 10 April 2025 to 10 March 2026), then paid on time.
 *   L7 recovery/S1, pending (never paid out); L8 common law/S1, paid out on 2025-07-10.
 */
async function portfolio() {
  const { fund, manager } = await fundWithManager(app);
  const api = as(app, manager.secret);
  const range = {
    principal_min: '1000.00',
    principal_max: '100000.00',
    annual_rate_percent_min: '0',
    annual_rate_percent_max: '12',
    term_periods_min: 1,
    term_periods_max: 60,
    deferral_periods_max: 12,
    methods: ['annuity', 'linear'],
    periodicities: ['monthly'],
  };
  const recovery = await createProduct(app, fund.id, manager.secret, {
    ...range,
    kind: 'recovery',
    guarantee_coverage_percent: '50',
  });
  const commonLaw = await createProduct(app, fund.id, manager.secret, {
    ...range,
    kind: 'common_law',
  });
  const structure = (
    department: string,
    commune: string,
    naf: string,
    legalForm: string,
    jobs: string,
  ) =>
    createStructure(app, fund.id, manager.secret, {
      department_code: department,
      commune_code: commune,
      naf_code: naf,
      legal_form: legalForm,
      jobs_fte: jobs,
    });
  const s1 = await structure('69', '69123', '88.99B', 'association', '12.50');
  const s2 = await structure('01', '01053', '56.10A', 'cooperative', '4.00');
  const s3 = await structure('69', '69123', '56.10A', 'cooperative', '30.00');
  const s4 = await structure('01', '01053', '88.99B', 'association', '2.00');

  const l1 = await lend(api, recovery, s1, {
    principal: '12000.00',
    term_periods: 12,
    disbursement_date: '2025-01-15',
  });
  for (const date of ['2025-02-15', '2025-03-15', '2025-04-15', '2025-05-15'])
    await pay(api, l1, '1000.00', date);
  await pay(api, l1, '2000.00', '2025-06-15');
  const l2 = await lend(api, commonLaw, s2, {
    principal: '10000.00',
    annual_rate_percent: '12',
    term_periods: 12,
    disbursement_date: '2025-01-15',
  });
  for (const date of ['2025-02-15', '2025-03-15', '2025-04-15']) await pay(api, l2, '888.49', date);
  const l3 = await lend(api, recovery, s1, {
    principal: '6000.00',
    term_periods: 6,
    disbursement_date: '2024-12-20',
  });
  await pay(api, l3, '1500.00', '2025-01-20');
  const l4 = await lend(api, commonLaw, s4, {
    principal: '5000.00',
    term_periods: 6,
    disbursement_date: '2024-06-10',
  });
  expect((await pay(api, l4, '5000.00', '2024-09-10')).loan).toMatchObject({ status: 'repaid' });
  const l5 = await lend(api, recovery, s4, {
    principal: '8000.00',
    term_periods: 8,
    disbursement_date: '2024-03-05',
  });
  await pay(api, l5, '1000.00', '2024-04-05');
  await pay(api, l5, '1000.00', '2024-05-05');
  const writtenOff = await api.post(`/v1/loans/${l5}/write-off`, {
    date: '2024-09-01',
    reason: 'Liquidation judiciaire',
  });
  expect(writtenOff.body).toMatchObject({
    status: 'written_off',
    written_off_principal: '6000.00',
  });
  expect(await pay(api, l5, '1500.00', '2025-02-01')).toMatchObject({ kind: 'recovery' });
  const l6 = await lend(api, commonLaw, s3, {
    principal: '9000.00',
    term_periods: 9,
    disbursement_date: '2025-01-10',
  });
  await pay(api, l6, '1000.00', '2025-02-10');
  await pay(api, l6, '1000.00', '2025-03-10');
  const extended = await api.post(`/v1/loans/${l6}/restructurings`, {
    type: 'extension',
    effective_date: '2025-03-20',
    reason: 'Activité en baisse',
    remaining_periods: 12,
  });
  expect(extended.status).toBe(201);
  for (const date of ['2025-04-10', '2025-05-10', '2025-06-10']) await pay(api, l6, '583.33', date);
  await lend(
    api,
    recovery,
    s1,
    { principal: '2000.00', term_periods: 6, disbursement_date: '2025-05-01' },
    false,
  );
  await lend(api, commonLaw, s1, {
    principal: '3000.00',
    term_periods: 3,
    disbursement_date: '2025-07-10',
  });
  return { fund, api, loans: { l1, l2, l3, l4, l5, l6 } };
}

describe('the resilience indicators of a fund as of a date', () => {
  it('are each what the loans, the ledger and the schedules say, worked out by hand', async () => {
    const { fund, api, loans } = await portfolio();
    const asOf = '2025-06-30';

    // The schedules the hand arithmetic below uses, as the API has them.
    const l2 = await rowsOf(api, loans.l2, asOf);
    expect(l2.map((r) => [r.due_date, r.principal, r.interest, r.total])).toEqual([
      ['2025-02-15', '788.49', '100.00', '888.49'],
      ['2025-03-15', '796.37', '92.12', '888.49'],
      ['2025-04-15', '804.34', '84.15', '888.49'],
      ['2025-05-15', '812.38', '76.11', '888.49'],
      ['2025-06-15', '820.51', '67.98', '888.49'],
      ['2025-07-15', '828.71', '59.78', '888.49'],
      ['2025-08-15', '837.00', '51.49', '888.49'],
      ['2025-09-15', '845.37', '43.12', '888.49'],
      ['2025-10-15', '853.82', '34.67', '888.49'],
      ['2025-11-15', '862.36', '26.13', '888.49'],
      ['2025-12-15', '870.98', '17.51', '888.49'],
      ['2026-01-15', '879.67', '8.80', '888.47'],
    ]);
    const l6 = await rowsOf(api, loans.l6, asOf);
    expect(l6.map((r) => [r.due_date, r.total])).toEqual([
      ['2025-02-10', '1000.00'],
      ['2025-03-10', '1000.00'],
      ...['04', '05', '06', '07', '08', '09', '10', '11', '12'].map((m) => [
        `2025-${m}-10`,
        '583.33',
      ]),
      ['2026-01-10', '583.33'],
      ['2026-02-10', '583.33'],
      ['2026-03-10', '583.37'],
    ]);
    // Outstanding principal: L1 12,000 − 6 × 1,000 = 6,000.00; L2 10,000 − (788.49 + 796.37 + 804.34) = 7,610.80;
    // L3 6,000 − 1,500 = 4,500.00; L4 and L5 0.00 (repaid, written off); L6 7,000 − 3 × 583.33 = 5,250.01.
    // Total 23,360.81, which is the ledger's loans receivable.
    const trial = await api.get(`/v1/funds/${fund.id}/ledger/trial-balance?as_of=${asOf}`);
    expect(
      trial.body.accounts.find((a: { account: string }) => a.account === 'loans_receivable')
        .balance,
    ).toBe('23360.81');

    const expected: ReportIndicators = {
      fund_id: fund.id,
      as_of: asOf as CalendarDate,
      currency: 'EUR',
      loan_count: 6, // L1–L6: not L7 (pending) nor L8 (paid out after 30 June)
      active_loan_count: 4, // L1, L2, L3, L6
      outstanding_principal: '23360.81',
      by_kind: [
        { key: 'common_law', loan_count: 3, outstanding_principal: '12860.81' }, // L2 7,610.80 + L4 0 + L6 5,250.01
        { key: 'recovery', loan_count: 3, outstanding_principal: '10500.00' }, // L1 6,000 + L3 4,500 + L5 0
      ],
      by_status: [
        { key: 'active', loan_count: 4, outstanding_principal: '23360.81' },
        { key: 'repaid', loan_count: 1, outstanding_principal: '0.00' },
        { key: 'written_off', loan_count: 1, outstanding_principal: '0.00' },
      ],
      by_sector: [
        { key: '56.10A', loan_count: 2, outstanding_principal: '12860.81' }, // S2 L2 + S3 L6
        { key: '88.99B', loan_count: 4, outstanding_principal: '10500.00' }, // S1 L1, L3 + S4 L4, L5
      ],
      by_territory: [
        { key: '01', loan_count: 3, outstanding_principal: '7610.80' }, // S2 L2 + S4 L4, L5
        { key: '69', loan_count: 3, outstanding_principal: '15750.01' }, // S1 L1, L3 + S3 L6
      ],
      by_legal_form: [
        { key: 'association', loan_count: 4, outstanding_principal: '10500.00' }, // S1, S4
        { key: 'cooperative', loan_count: 2, outstanding_principal: '12860.81' }, // S2, S3
      ],
      ageing: {
        current: { loan_count: 2, outstanding_principal: '11250.01', arrears: '0.00' }, // L1 6,000 + L6 5,250.01, nothing unpaid
        '1_30': none,
        // L2: May's and June's 888.49 unpaid; oldest due 15 May: 46 days late on 30 June.
        '31_60': { loan_count: 1, outstanding_principal: '7610.80', arrears: '1776.98' },
        '61_90': none,
        // L3: 1,500 paid the January instalment and 500 of February's (in advance); 6,000 due by June − 1,500 = 4,500
        // unpaid, the oldest part due 20 February: 130 days late.
        '91_180': { loan_count: 1, outstanding_principal: '4500.00', arrears: '4500.00' },
        over_180: none,
      },
      par30: '0.518424', // (7,610.80 + 4,500.00) / 23,360.81 = 0.51842380…
      par90: '0.192630', // 4,500.00 / 23,360.81 = 0.19263030…
      restructured: { loan_count: 1, outstanding_principal: '5250.01', share: '0.224736' }, // L6: 5,250.01 / 23,360.81 = 0.22473578…
      write_off: {
        disbursed_principal: '50000.00', // 12,000 + 10,000 + 6,000 + 5,000 + 8,000 + 9,000
        written_off_principal: '6000.00', // L5: 8,000 − 2 × 1,000
        recovered: '1500.00',
        write_off_rate: '0.120000', // 6,000 / 50,000
        recovery_rate: '0.250000', // 1,500 / 6,000
      },
      expected_loss: {
        // outstanding × loss rate × (1 − guarantee): L1 6,000 × 0.01 × 0.5 = 30.00; L2 7,610.80 × 0.25 = 1,902.70;
        // L3 4,500 × 0.75 × 0.5 = 1,687.50; L6 5,250.01 × 0.01 = 52.5001: 3,672.7001. Without the guarantee: 60 + 1,902.70 + 3,375 + 52.5001.
        amount: '3672.70',
        gross_amount: '5390.20',
        loss_rates: LOSS_RATES,
      },
      vintage: [
        // 2024: L3 in arrears, L4 repaid, L5 written off. 2025: L1 and L6 current, L2 in arrears.
        {
          year: 2024,
          loan_count: 3,
          current: '0.000000',
          in_arrears: '0.333333',
          repaid: '0.333333',
          written_off: '0.333333',
        },
        {
          year: 2025,
          loan_count: 3,
          current: '0.666667',
          in_arrears: '0.333333',
          repaid: '0.000000',
          written_off: '0.000000',
        },
      ],
      concentration: {
        top10_exposure_share: '1.000000', // four structures, all among the ten largest
        herfindahl_sector: '0.505106', // (12,860.81² + 10,500.00²) / 23,360.81² = 275,650,433.8561 / 545,727,443.8561
        herfindahl_territory: '0.560696', // (7,610.80² + 15,750.01²) / 23,360.81² = 305,987,091.6401 / 545,727,443.8561
      },
      supported: {
        // S1, S2, S3 (each counted once); S4 has only closed loans.
        structure_count: 3,
        jobs_fte: '46.50',
        by_territory: [
          { key: '01', structure_count: 1, jobs_fte: '4.00' },
          { key: '69', structure_count: 2, jobs_fte: '42.50' },
        ],
        by_sector: [
          { key: '56.10A', structure_count: 2, jobs_fte: '34.00' },
          { key: '88.99B', structure_count: 1, jobs_fte: '12.50' },
        ],
      },
      expected_repayments: {
        arrears: '6276.98', // L2 1,776.98 + L3 4,500.00
        months: [
          month('2025-06', '0.00'), // nothing falls due after the 30th
          // L1 0 (paid in advance) + L2 828.71 + L6 583.33; L2's interest
          month('2025-07', '1412.04', '59.78', '1471.82'),
          month('2025-08', '2420.33', '51.49', '2471.82'), // L1 1,000 + L2 837.00 + L6 583.33
          month('2025-09', '2428.70', '43.12', '2471.82'), // 1,000 + 845.37 + 583.33
          month('2025-10', '2437.15', '34.67', '2471.82'), // 1,000 + 853.82 + 583.33
          month('2025-11', '2445.69', '26.13', '2471.82'), // 1,000 + 862.36 + 583.33
          month('2025-12', '2454.31', '17.51', '2471.82'), // 1,000 + 870.98 + 583.33
          month('2026-01', '2463.00', '8.80', '2471.80'), // 1,000 + 879.67 + 583.33
          month('2026-02', '583.33'),
          month('2026-03', '583.37'),
          month('2026-04', '0.00'),
          month('2026-05', '0.00'),
        ],
      },
      // The fund records no funding source: everything is unallocated, since L5's disbursement (5 March 2024).
      // Disbursed L1–L6 50,000; written off L5 6,000; outstanding 23,360.81; so repaid 50,000 − 6,000 − 23,360.81.
      by_funding_source: {
        from: '2024-03-05' as CalendarDate,
        to: asOf as CalendarDate,
        days: 483,
        sources: [],
        unallocated: expect.objectContaining({
          loan_count: 6,
          disbursed: '50000.00',
          repaid: '20639.19',
          written_off: '6000.00',
          outstanding_start: '0.00',
          outstanding_end: '23360.81',
        }),
        total: expect.objectContaining({
          loan_count: 6,
          disbursed: '50000.00',
          repaid: '20639.19',
          written_off: '6000.00',
          outstanding_end: '23360.81',
        }),
      },
    };
    expect(await report(fund.id, asOf)).toEqual(expected);
  });

  it('as of an earlier date, ignores what came after it: repayments, write-offs, recoveries, later loans', async () => {
    const { fund } = await portfolio();
    const earlyFlows = {
      loan_count: 2,
      disbursed: '13000.00',
      repaid: '2000.00',
      written_off: '0.00',
      capitalised_interest: '0.00',
      outstanding_start: '0.00',
      outstanding_end: '11000.00',
      outstanding_days: '1587000.00',
      average_outstanding: '8816.67',
    };
    // 31 August 2024: only L4 and L5 are paid out. L4's full repayment (10 September) and L5's
    // write-off (1 September) are ahead: both are active and late.
    expect(await report(fund.id, '2024-08-31')).toEqual({
      fund_id: fund.id,
      as_of: '2024-08-31',
      currency: 'EUR',
      loan_count: 2,
      active_loan_count: 2,
      outstanding_principal: '11000.00',
      by_kind: [
        { key: 'common_law', loan_count: 1, outstanding_principal: '5000.00' },
        { key: 'recovery', loan_count: 1, outstanding_principal: '6000.00' },
      ],
      by_status: [{ key: 'active', loan_count: 2, outstanding_principal: '11000.00' }],
      by_sector: [{ key: '88.99B', loan_count: 2, outstanding_principal: '11000.00' }],
      by_territory: [{ key: '01', loan_count: 2, outstanding_principal: '11000.00' }],
      by_legal_form: [{ key: 'association', loan_count: 2, outstanding_principal: '11000.00' }],
      ageing: {
        current: none,
        '1_30': none,
        '31_60': { loan_count: 1, outstanding_principal: '5000.00', arrears: '1666.66' }, // L4: 10 July and 10 August unpaid, 52 days
        '61_90': { loan_count: 1, outstanding_principal: '6000.00', arrears: '3000.00' }, // L5: 5 June, July, August unpaid, 87 days
        '91_180': none,
        over_180: none,
      },
      par30: '1.000000',
      par90: '0.000000',
      restructured: { loan_count: 0, outstanding_principal: '0.00', share: '0.000000' },
      write_off: {
        disbursed_principal: '13000.00',
        written_off_principal: '0.00',
        recovered: '0.00',
        write_off_rate: '0.000000',
        recovery_rate: null,
      },
      // L4 5,000 × 0.25 = 1,250.00; L5 6,000 × 0.50 × (1 − 0.5) = 1,500.00 (3,000.00 without the guarantee)
      expected_loss: { amount: '2750.00', gross_amount: '4250.00', loss_rates: LOSS_RATES },
      vintage: [
        {
          year: 2024,
          loan_count: 2,
          current: '0.000000',
          in_arrears: '1.000000',
          repaid: '0.000000',
          written_off: '0.000000',
        },
      ],
      concentration: {
        top10_exposure_share: '1.000000',
        herfindahl_sector: '1.000000',
        herfindahl_territory: '1.000000',
      },
      supported: {
        structure_count: 1,
        jobs_fte: '2.00',
        by_territory: [{ key: '01', structure_count: 1, jobs_fte: '2.00' }],
        by_sector: [{ key: '88.99B', structure_count: 1, jobs_fte: '2.00' }],
      },
      expected_repayments: {
        arrears: '4666.66', // 1,666.66 + 3,000.00
        months: [
          month('2024-08', '0.00'),
          month('2024-09', '1833.33'),
          month('2024-10', '1833.33'),
          month('2024-11', '1833.33'), // L4 833.33 + L5 1,000.00
          month('2024-12', '833.35'),
          ...['01', '02', '03', '04', '05', '06', '07'].map((m) => month(`2025-${m}`, '0.00')),
        ],
      },
      // From L5's disbursement, 5 March, to 31 August: 180 days. Fee base: L5 8,000 × 180 − 1,000 × 149 (from 5 April)
      // − 1,000 × 119 (from 5 May) = 1,172,000; L4 5,000 × 83 (from 10 June) = 415,000; 1,587,000 / 180 = 8,816.666…
      by_funding_source: {
        from: '2024-03-05',
        to: '2024-08-31',
        days: 180,
        sources: [],
        unallocated: earlyFlows,
        total: earlyFlows,
      },
    });
    // 31 December 2024: L5 written off, its recovery (1 February 2025) not yet made; L4 repaid; L3 paid out, nothing due yet.
    expect(await report(fund.id, '2024-12-31')).toMatchObject({
      loan_count: 3,
      active_loan_count: 1,
      outstanding_principal: '6000.00',
      by_status: [
        { key: 'active', loan_count: 1, outstanding_principal: '6000.00' },
        { key: 'repaid', loan_count: 1, outstanding_principal: '0.00' },
        { key: 'written_off', loan_count: 1, outstanding_principal: '0.00' },
      ],
      ageing: { current: { loan_count: 1, outstanding_principal: '6000.00', arrears: '0.00' } },
      // 6,000 / (6,000 + 5,000 + 8,000) = 0.31578947…
      write_off: {
        disbursed_principal: '19000.00',
        written_off_principal: '6000.00',
        recovered: '0.00',
        write_off_rate: '0.315789',
        recovery_rate: '0.000000',
      },
      expected_repayments: { arrears: '0.00' },
    });
  });

  it('counts what was paid in advance against the instalments ahead, interest first', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk); // 10,000.00 at 12 % over 12 from 2025-01-15, 888.49 a month
    await pay(desk.api, loan.id, '938.49', '2025-02-15'); // February's instalment, and 50.00 of March's: of its interest (92.12)
    const indicators = await report(desk.fund.id, '2025-02-28');
    expect(indicators).toMatchObject({
      outstanding_principal: '9211.51', // 10,000 − 788.49
      ageing: { current: { loan_count: 1, outstanding_principal: '9211.51', arrears: '0.00' } },
    });
    expect(indicators.expected_repayments).toEqual({
      arrears: '0.00',
      months: [
        month('2025-02', '0.00'),
        month('2025-03', '796.37', '42.12', '838.49'), // 92.12 − 50.00 of interest left, all of the principal
        month('2025-04', '804.34', '84.15', '888.49'),
        month('2025-05', '812.38', '76.11', '888.49'),
        month('2025-06', '820.51', '67.98', '888.49'),
        month('2025-07', '828.71', '59.78', '888.49'),
        month('2025-08', '837.00', '51.49', '888.49'),
        month('2025-09', '845.37', '43.12', '888.49'),
        month('2025-10', '853.82', '34.67', '888.49'),
        month('2025-11', '862.36', '26.13', '888.49'),
        month('2025-12', '870.98', '17.51', '888.49'),
        month('2026-01', '879.67', '8.80', '888.47'),
      ],
    });
  });

  it('takes the ten largest exposures by structure for the top-10 share', async () => {
    const desk = await servicingDesk(app);
    // Eleven structures, one loan each of 1,000.00 × k (k = 1..11): 66,000.00 outstanding, the ten largest 65,000.00.
    for (let k = 1; k <= 11; k++) {
      const structure = await createStructure(app, desk.fund.id, desk.manager.secret);
      await lend(desk.api, desk.product, structure, {
        principal: `${k * 1000}.00`,
        term_periods: 12,
        disbursement_date: '2025-01-15',
      });
    }
    expect((await report(desk.fund.id, '2025-01-31')).concentration).toEqual({
      top10_exposure_share: '0.984848', // 65,000 / 66,000 = 0.98484848…
      herfindahl_sector: '1.000000',
      herfindahl_territory: '1.000000', // one NAF code, one department
    });
  });

  it('never counts another fund’s loans; an unknown fund is not found', async () => {
    const ours = await servicingDesk(app, 'recovery');
    const theirs = await servicingDesk(app);
    await disbursedLoan(ours, { principal: '4000.00', annual_rate_percent: '0', term_periods: 4 });
    await disbursedLoan(theirs);
    await disbursedLoan(theirs, { principal: '20000.00' });
    const indicators = await report(ours.fund.id, '2025-01-31');
    expect(indicators).toMatchObject({
      loan_count: 1,
      active_loan_count: 1,
      outstanding_principal: '4000.00',
      by_kind: [{ key: 'recovery', loan_count: 1, outstanding_principal: '4000.00' }],
      write_off: { disbursed_principal: '4000.00' },
      supported: { structure_count: 1, jobs_fte: '12.50' },
    });
    expect(indicators.expected_repayments.months.slice(0, 6)).toEqual([
      month('2025-01', '0.00'),
      month('2025-02', '1000.00'),
      month('2025-03', '1000.00'),
      month('2025-04', '1000.00'),
      month('2025-05', '1000.00'),
      month('2025-06', '0.00'),
    ]);
    expect(await report(theirs.fund.id, '2025-01-31')).toMatchObject({
      loan_count: 2,
      outstanding_principal: '30000.00',
    });
    await expect(report(randomUUID(), '2025-01-31')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('on the embedded PGlite', () => {
  let db: Db;
  const admin = { Authorization: 'Bearer pglite-report-admin-key-0123456789' };
  beforeAll(async () => {
    db = await connectDatabase({ dataDir: 'memory://' });
    await migrate(db);
  });
  afterAll(() => db.destroy());

  it('computes the same indicators', async () => {
    const pgliteApp = createApp({
      logger: pino({ level: 'silent' }),
      db,
      adminKeyHash: hashSecret('pglite-report-admin-key-0123456789'),
    });
    const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await request(pgliteApp)
        .post(path)
        .set(admin)
        .set(headers)
        .send(body as object);
      expect(res.status).toBeLessThan(300);
      return res.body;
    };
    const fund = await post('/v1/funds', {
      name: 'Fonds embarqué',
      region_code: '84',
      department_codes: ['69'],
    });
    const product = await post('/v1/products', {
      fund_id: fund.id,
      name: 'Relance',
      kind: 'recovery',
      principal_min: '1000',
      principal_max: '50000',
      annual_rate_percent_min: '0',
      annual_rate_percent_max: '0',
      term_periods_min: 6,
      term_periods_max: 60,
      deferral_periods_max: 12,
      methods: ['annuity'],
      periodicities: ['monthly'],
      guarantee_coverage_percent: '50',
    });
    const structure = await post('/v1/structures', {
      fund_id: fund.id,
      legal_name: 'Ressourcerie des Pentes',
      siret: '73282932000074',
      legal_form: 'association',
      naf_code: '38.32Z',
      commune_code: '69123',
      department_code: '69',
      region_code: '84',
      jobs_fte: '4.5',
      contact_email: 'contact@example.org',
    });
    const loan = await post('/v1/loans', {
      product_id: product.id,
      structure_id: structure.id,
      principal: '12000.00',
      annual_rate_percent: '0',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-01-31',
    });
    await post(`/v1/loans/${loan.id}/disbursement`, { date: '2025-01-31', amount: '12000.00' });
    await post(
      `/v1/loans/${loan.id}/repayments`,
      { amount: '1000.00', value_date: '2025-02-28' },
      { 'Idempotency-Key': 'pglite-report-1' },
    );
    // 31 May: February paid; March (31st), April and May unpaid: 3,000.00 late, the oldest 61 days.
    const indicators = await computeReportIndicators(db, fund.id, '2025-05-31' as CalendarDate);
    expect(indicators).toMatchObject({
      loan_count: 1,
      outstanding_principal: '11000.00',
      ageing: { '61_90': { loan_count: 1, outstanding_principal: '11000.00', arrears: '3000.00' } },
      par30: '1.000000',
      par90: '0.000000',
      expected_loss: { amount: '2750.00', gross_amount: '5500.00' }, // 11,000 × 0.50 × (1 − 0.5)
      supported: { structure_count: 1, jobs_fte: '4.50' },
      expected_repayments: { arrears: '3000.00' },
    });
    expect(indicators.expected_repayments.months.slice(0, 2)).toEqual([
      month('2025-05', '0.00'),
      month('2025-06', '1000.00'),
    ]);
  });
});
