import { scheduleOf } from '../support/terms';

/** [principal, interest] of each row, for compact tables. */
const parts = (rows: { principal: string; interest: string }[]) =>
  rows.map((r) => [r.principal, r.interest]);

describe('annuity schedules reproduce published figures', () => {
  it('DOMAIN.md: 10,000.00 at 12 % over 12 months → 888.49; first row interest 100.00, principal 788.49', () => {
    const s = scheduleOf({ principal: '10000.00', annual_rate_percent: '12', term_periods: 12 });
    expect(s.instalment).toBe('888.49');
    expect(s.rows[0]).toMatchObject({
      principal: '788.49',
      interest: '100.00',
      total: '888.49',
      balance: '9211.51',
    });
    expect(s.rows.slice(0, 11).every((r) => r.total === '888.49')).toBe(true);
    expect(s.rows[11]).toMatchObject({
      principal: '879.67',
      interest: '8.80',
      total: '888.47',
      balance: '0.00',
    });
  });

  it('numpy-financial pmt docs: 200,000 at 7.5 % over 15 years monthly → 1854.02 (npf.pmt = -1854.0247…)', () => {
    const s = scheduleOf({ principal: '200000.00', annual_rate_percent: '7.5', term_periods: 180 });
    expect(s.instalment).toBe('1854.02');
    expect(s.rows[0]).toMatchObject({ principal: '604.02', interest: '1250.00' });
  });

  it('Microsoft Excel PMT docs: =PMT(8%/12, 10, 10000) → 1,037.03', () => {
    const s = scheduleOf({ principal: '10000.00', annual_rate_percent: '8', term_periods: 10 });
    expect(s.instalment).toBe('1037.03');
    expect(s.rows[9]).toMatchObject({
      principal: '1030.20',
      interest: '6.87',
      total: '1037.07',
      balance: '0.00',
    });
  });

  it('numpy-financial ipmt/ppmt docs: 2,500 at 8.24 % over 12 months, rows 1–5 as printed there', () => {
    const s = scheduleOf({ principal: '2500.00', annual_rate_percent: '8.24', term_periods: 12 });
    expect(s.instalment).toBe('217.75');
    expect(parts(s.rows.slice(0, 5))).toEqual([
      ['200.58', '17.17'],
      ['201.96', '15.79'],
      ['203.35', '14.40'],
      ['204.74', '13.01'],
      ['206.15', '11.60'],
    ]);
    // numpy keeps unrounded interest and prints 112.98 in total; rounding each row to the cent gives 112.97.
    expect(s.totalInterest).toBe('112.97');
  });

  it('rounds the level instalment to instalment_multiple: "1.00" gives 888.00 and the last row takes the residue', () => {
    const s = scheduleOf({
      principal: '10000.00',
      annual_rate_percent: '12',
      term_periods: 12,
      instalment_multiple: '1.00',
    });
    expect(s.instalment).toBe('888.00');
    expect(s.rows.slice(0, 11).every((r) => r.total === '888.00')).toBe(true);
    expect(s.rows[11]).toMatchObject({
      principal: '885.33',
      interest: '8.85',
      total: '894.18',
      balance: '0.00',
    });
  });

  it('at 0 % repays B / n, the last row taking the residue: 100.00 over 3 → 33.33, 33.33, 33.34', () => {
    const s = scheduleOf({ principal: '100.00', annual_rate_percent: '0', term_periods: 3 });
    expect(parts(s.rows)).toEqual([
      ['33.33', '0.00'],
      ['33.33', '0.00'],
      ['33.34', '0.00'],
    ]);
  });
});

describe('linear and bullet schedules', () => {
  it('DOMAIN.md: 10,000.00 at 0 % over 3 periods, linear → 3333.33, 3333.33, 3333.34', () => {
    const s = scheduleOf({
      principal: '10000.00',
      annual_rate_percent: '0',
      term_periods: 3,
      method: 'linear',
    });
    expect(s.rows.map((r) => r.principal)).toEqual(['3333.33', '3333.33', '3333.34']);
  });

  it('linear at 6 %: equal principal parts, interest on the declining balance (12,000 over 4 months)', () => {
    const s = scheduleOf({
      principal: '12000.00',
      annual_rate_percent: '6',
      term_periods: 4,
      method: 'linear',
    });
    expect(parts(s.rows)).toEqual([
      ['3000.00', '60.00'],
      ['3000.00', '45.00'],
      ['3000.00', '30.00'],
      ['3000.00', '15.00'],
    ]);
    expect(s.instalment).toBe('3060.00');
    expect(s.totalInterest).toBe('150.00');
  });

  it('bullet, quarterly: 1.5 % interest each quarter, all principal in the last instalment', () => {
    const s = scheduleOf({
      principal: '12000.00',
      annual_rate_percent: '6',
      term_periods: 4,
      method: 'bullet',
      periodicity: 'quarterly',
    });
    expect(s.rows.map((r) => [r.due, r.principal, r.interest])).toEqual([
      ['2025-04-15', '0.00', '180.00'],
      ['2025-07-15', '0.00', '180.00'],
      ['2025-10-15', '0.00', '180.00'],
      ['2026-01-15', '12000.00', '180.00'],
    ]);
    expect(s.totalPayable).toBe('12720.00');
  });
});

describe('deferral', () => {
  it('partial: each deferral period pays its interest, then the annuity runs over the remaining periods', () => {
    const s = scheduleOf({
      principal: '12000.00',
      annual_rate_percent: '6',
      term_periods: 6,
      deferral_periods: 2,
    });
    expect(parts(s.rows.slice(0, 2))).toEqual([
      ['0.00', '60.00'],
      ['0.00', '60.00'],
    ]);
    expect(s.instalment).toBe('3037.59'); // 12000 × 0.005 / (1 − 1.005^−4)
    expect(s.rows[2]).toMatchObject({ principal: '2977.59', interest: '60.00', total: '3037.59' });
    expect(s.totalCapitalised).toBe('0.00');
  });

  it('total: nothing is due, the rounded interest is capitalised and itself bears interest', () => {
    const s = scheduleOf({
      principal: '12000.00',
      annual_rate_percent: '6',
      term_periods: 6,
      deferral_periods: 2,
      deferral_type: 'total',
    });
    expect(s.rows[0]).toMatchObject({
      principal: '0.00',
      interest: '0.00',
      total: '0.00',
      capitalised: '60.00',
      balance: '12060.00',
    });
    expect(s.rows[1]).toMatchObject({ total: '0.00', capitalised: '60.30', balance: '12120.30' });
    expect(s.rows[2]).toMatchObject({ interest: '60.60', total: s.instalment });
    expect(s.totalCapitalised).toBe('120.30');
    // total interest counts the capitalised interest too: total payable = principal + total interest
    expect(s.totalInterest).toBe('272.17');
    expect(s.totalPayable).toBe('12272.17');
  });

  it('a recovery loan at 0 % with 23 months of deferral repays everything in the 24th', () => {
    const s = scheduleOf({
      principal: '30000.00',
      annual_rate_percent: '0',
      term_periods: 24,
      deferral_periods: 23,
      deferral_type: 'total',
    });
    expect(s.rows.slice(0, 23).every((r) => r.total === '0.00' && r.balance === '30000.00')).toBe(
      true,
    );
    expect(s.rows[23]).toMatchObject({ principal: '30000.00', interest: '0.00', balance: '0.00' });
  });
});

describe('day counts and the first period', () => {
  it('ACT/365: each period uses actual days (31 Jan → 29 Feb 2024 is 29 days: 10,000 × 5 % × 29/365 = 39.73)', () => {
    const s = scheduleOf({
      principal: '10000.00',
      annual_rate_percent: '5',
      term_periods: 4,
      day_count: 'ACT/365',
      disbursement_date: '2024-01-31',
    });
    expect(s.rows.map((r) => r.due)).toEqual([
      '2024-02-29',
      '2024-03-31',
      '2024-04-30',
      '2024-05-31',
    ]);
    expect(s.rows.map((r) => r.interest)).toEqual(['39.73', '31.91', '20.63', '10.68']);
    // a level instalment: every row but the last has the same total
    expect(new Set(s.rows.slice(0, 3).map((r) => r.total))).toEqual(new Set(['2525.74']));
  });

  it('ACT/360 charges more than ACT/365 on the same days (29 days: 40.28 against 39.73)', () => {
    const terms = {
      principal: '10000.00',
      annual_rate_percent: '5',
      term_periods: 1,
      disbursement_date: '2024-01-31',
    };
    expect(scheduleOf({ ...terms, day_count: 'ACT/360' }).rows[0]!.interest).toBe('40.28'); // 10,000 × 5 % × 29/360 = 40.277…
    expect(scheduleOf({ ...terms, day_count: 'ACT/365' }).rows[0]!.interest).toBe('39.73'); // 10,000 × 5 % × 29/365 = 39.726…
  });

  it('a first period so long that its interest exceeds the instalment: the shortfall is capitalised, every instalment stays level', () => {
    // 50,000 at 3 %, first due a year after disbursement: 1,500.00 of interest against a 496.05 instalment.
    // A solves 50,000 = A/1.03 + Σ A/(1.03 · 1.0025^k): 51,500 = A (1 + (1 − 1.0025^−119) / 0.0025).
    const s = scheduleOf({
      principal: '50000.00',
      annual_rate_percent: '3',
      term_periods: 120,
      disbursement_date: '2025-01-15',
      first_due_date: '2026-01-15',
    });
    expect(s.instalment).toBe('496.05');
    expect(s.rows[0]).toEqual({
      due: '2026-01-15',
      principal: '0.00',
      interest: '496.05',
      total: '496.05',
      balance: '51003.95',
      capitalised: '1003.95',
    });
    expect(s.rows[1]).toMatchObject({ principal: '368.54', interest: '127.51', total: '496.05' }); // 51,003.95 × 0.25 %
    expect(s.rows.slice(0, 119).every((r) => r.total === '496.05')).toBe(true);
    expect(s.rows[119]).toMatchObject({
      principal: '494.44',
      interest: '1.24',
      total: '495.68',
      balance: '0.00',
    });
    expect(s.totalCapitalised).toBe('1003.95');
    expect(s.totalInterest).toBe('9525.63');
  });

  it('30E/360: a broken first period (15 Jan → 1 Mar, 46 days) uses rate × 46/360, later periods exactly r', () => {
    const s = scheduleOf({
      principal: '10000.00',
      annual_rate_percent: '6',
      term_periods: 3,
      first_due_date: '2025-03-01',
    });
    expect(s.rows.map((r) => r.due)).toEqual(['2025-03-01', '2025-04-01', '2025-05-01']);
    expect(s.rows[0]!.interest).toBe('76.67'); // 10,000 × 6 % × 46/360
    expect(s.rows[1]!.interest).toBe('33.51'); // 6,701.01 × 0.5 %
    expect(s.rows[0]!.total).toBe(s.rows[1]!.total);
  });

  it('30E/360: a whole first period ending on a clamped month end is exactly r (31 Jan → 29 Feb)', () => {
    const s = scheduleOf({
      principal: '10000.00',
      annual_rate_percent: '12',
      term_periods: 2,
      disbursement_date: '2024-01-31',
    });
    expect(s.rows[0]).toMatchObject({ due: '2024-02-29', interest: '100.00' });
  });
});

describe('due dates', () => {
  it('disbursed on the 31st: due 29 Feb, 31 Mar, 30 Apr, 31 May (anchor day kept, clamped)', () => {
    const s = scheduleOf({
      principal: '1000.00',
      annual_rate_percent: '3',
      term_periods: 4,
      disbursement_date: '2024-01-31',
    });
    expect(s.rows.map((r) => r.due)).toEqual([
      '2024-02-29',
      '2024-03-31',
      '2024-04-30',
      '2024-05-31',
    ]);
  });

  it('disbursed on 29 February 2024, yearly: due 28 Feb 2025, 2026, 2027, then 29 Feb 2028', () => {
    const s = scheduleOf({
      principal: '1000.00',
      annual_rate_percent: '3',
      term_periods: 4,
      periodicity: 'annual',
      disbursement_date: '2024-02-29',
    });
    expect(s.rows.map((r) => r.due)).toEqual([
      '2025-02-28',
      '2026-02-28',
      '2027-02-28',
      '2028-02-29',
    ]);
  });

  it('a first due date anchors every later one on its own day', () => {
    const s = scheduleOf({
      principal: '1000.00',
      annual_rate_percent: '3',
      term_periods: 3,
      periodicity: 'semiannual',
      disbursement_date: '2025-01-10',
      first_due_date: '2025-06-30',
    });
    expect(s.rows.map((r) => r.due)).toEqual(['2025-06-30', '2025-12-30', '2026-06-30']);
  });
});

describe('edge cases', () => {
  it('one period: the whole principal and one period of interest', () => {
    const s = scheduleOf({ principal: '1000.00', annual_rate_percent: '12', term_periods: 1 });
    expect(s.rows).toEqual([
      {
        due: '2025-02-15',
        principal: '1000.00',
        interest: '10.00',
        total: '1010.00',
        balance: '0.00',
        capitalised: '0.00',
      },
    ]);
    expect(s.instalment).toBe('1010.00');
  });

  it('600 monthly periods end 50 years later, at 0.00', () => {
    const s = scheduleOf({ principal: '250000.00', annual_rate_percent: '3.5', term_periods: 600 });
    expect(s.rows).toHaveLength(600);
    expect(s.rows[599]).toMatchObject({ due: '2075-01-15', balance: '0.00' });
    expect(s.instalment).toBe('883.00'); // 250000 × r / (1 − (1+r)^−600) = 883.0004…, r = 0.035/12
  });

  it('100 % a year over 600 months: interest nearly equals the instalment, no amount goes negative', () => {
    const s = scheduleOf({
      principal: '99999999.99',
      annual_rate_percent: '100',
      term_periods: 600,
    });
    for (const r of s.rows)
      for (const v of [r.principal, r.interest, r.total, r.balance])
        expect(v.startsWith('-')).toBe(false);
    expect(s.rows[599]!.balance).toBe('0.00');
  });

  it('principal 0.01 at 3 % over 12 months: one cent, repaid in the last instalment', () => {
    const s = scheduleOf({ principal: '0.01', annual_rate_percent: '3', term_periods: 12 });
    expect(s.rows.slice(0, 11).every((r) => r.principal === '0.00' && r.interest === '0.00')).toBe(
      true,
    );
    expect(s.rows[11]).toMatchObject({ principal: '0.01', balance: '0.00' });
  });

  it('principal 99,999,999.99 at 4 % over 240 months stays exact to the cent', () => {
    const s = scheduleOf({ principal: '99999999.99', annual_rate_percent: '4', term_periods: 240 });
    expect(s.instalment).toBe('605980.33'); // B·r / (1 − (1+r)^−240) = 605980.3292…
    expect(s.rows[0]!.interest).toBe('333333.33');
  });

  it('deferral = term − 1: all principal in the last row', () => {
    const s = scheduleOf({
      principal: '5000.00',
      annual_rate_percent: '2.4',
      term_periods: 12,
      deferral_periods: 11,
    });
    expect(s.rows.slice(0, 11).every((r) => r.principal === '0.00' && r.interest === '10.00')).toBe(
      true,
    );
    expect(s.rows[11]).toMatchObject({ principal: '5000.00', interest: '10.00', total: '5010.00' });
  });

  it('half_even rounds a tie to the even cent where half_up rounds it away from zero', () => {
    // 1,000.50 × 0.5 % = 5.0025 (no tie); 1,001.00 × 0.5 % = 5.005 → 5.01 half up, 5.00 half even
    const up = scheduleOf({
      principal: '1001.00',
      annual_rate_percent: '6',
      term_periods: 2,
      method: 'bullet',
    });
    const even = scheduleOf({
      principal: '1001.00',
      annual_rate_percent: '6',
      term_periods: 2,
      method: 'bullet',
      rounding: 'half_even',
    });
    expect(up.rows[0]!.interest).toBe('5.01');
    expect(even.rows[0]!.interest).toBe('5.00');
  });

  it('an instalment multiple larger than the loan never drives a balance below zero', () => {
    const s = scheduleOf({
      principal: '150.00',
      annual_rate_percent: '5',
      term_periods: 3,
      instalment_multiple: '100.00',
    });
    expect(s.instalment).toBe('100.00'); // 50.42 rounded to a multiple of 100
    expect(s.rows.map((r) => r.principal)).toEqual(['99.37', '50.63', '0.00']);
    expect(s.rows.map((r) => r.balance)).toEqual(['50.63', '0.00', '0.00']);
  });
});
