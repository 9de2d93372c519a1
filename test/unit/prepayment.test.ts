import fc from 'fast-check';
import { cents, formatMoney, parseMoney, type Money } from '../../src/domain/money';
import {
  reschedulePrepayment,
  type KeptTerms,
  type PrepaymentMode,
} from '../../src/domain/prepayment';
import { buildSchedule, type Schedule, type ScheduleTerms } from '../../src/domain/schedule';
import { parseScheduleTerms } from '../../src/schedules/schedule-terms.input';

const m = (text: string) => parseMoney(text);

const keptOf = (terms: ScheduleTerms): KeptTerms => ({
  annualRate: terms.annualRate,
  periodicity: terms.periodicity,
  dayCount: terms.dayCount,
  deferralType: terms.deferralType,
  method: terms.method,
  rounding: terms.rounding,
  instalmentMultiple: terms.instalmentMultiple,
});

/** The instalments after the first `paid` ones, as a prepayment made then would see them. */
function remainingAfter(terms: ScheduleTerms, schedule: Schedule, paid: number) {
  const rest = schedule.rows.slice(paid);
  return {
    start: paid === 0 ? terms.disbursementDate : schedule.rows[paid - 1]!.dueDate,
    dueDates: rest.map((r) => r.dueDate),
    deferralAhead: Math.max(0, terms.deferralPeriods - paid),
    principal: cents(
      rest.reduce((s, r) => s + r.principal, 0n) -
        rest.reduce((s, r) => s + r.capitalisedInterest, 0n),
    ),
    level:
      terms.method === 'linear'
        ? schedule.rows[terms.deferralPeriods]!.principal
        : schedule.instalmentAmount,
  };
}

// 10,000.00 at 12 % over 12 months (DOMAIN.md): after instalments 1 and 2, 8,415.14 remains; 2,000.00 is prepaid.
const terms = parseScheduleTerms({
  principal: '10000.00',
  annual_rate_percent: '12',
  periodicity: 'monthly',
  term_periods: 12,
  method: 'annuity',
  disbursement_date: '2025-01-31',
});
const schedule = buildSchedule(terms);

describe('prepayment (DOMAIN.md "Prepayment")', () => {
  it('reduce_instalment: 6,415.14 over the same 10 due dates → a level instalment of 677.32', () => {
    const remaining = remainingAfter(terms, schedule, 2);
    expect(formatMoney(remaining.principal)).toBe('8415.14');
    const result = reschedulePrepayment(keptOf(terms), remaining, m('2000'), 'reduce_instalment');
    if (result.kind !== 'schedule') throw new Error('expected a schedule');
    expect(formatMoney(result.schedule.instalmentAmount)).toBe('677.32'); // 6415.14 × 1 % / (1 − 1.01^−10) = 677.3238…
    expect(result.schedule.rows.map((r) => r.dueDate)).toEqual(remaining.dueDates);
    expect(result.schedule.rows[0]).toMatchObject({ interest: m('64.15'), total: m('677.32') });
  });

  it('reduce_term: the 888.49 instalment is kept and the loan ends after 8 of the 10 periods, the last taking the residue', () => {
    const result = reschedulePrepayment(
      keptOf(terms),
      remainingAfter(terms, schedule, 2),
      m('2000'),
      'reduce_term',
    );
    if (result.kind !== 'schedule') throw new Error('expected a schedule');
    const rows = result.schedule.rows;
    expect(rows).toHaveLength(8);
    expect(rows.slice(0, 7).every((r) => r.total === m('888.49'))).toBe(true);
    expect(rows[7]).toMatchObject({
      principal: m('468.74'),
      interest: m('4.69'),
      total: m('473.43'),
      balanceAfter: 0n,
    });
    expect(rows[7]!.dueDate).toBe(schedule.rows[9]!.dueDate);
  });

  it('linear reduce_term keeps the principal part', () => {
    const linear = parseScheduleTerms({
      principal: '12000.00',
      annual_rate_percent: '6',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'linear',
      disbursement_date: '2025-01-31',
    });
    const result = reschedulePrepayment(
      keptOf(linear),
      remainingAfter(linear, buildSchedule(linear), 3),
      m('2500'),
      'reduce_term',
    );
    if (result.kind !== 'schedule') throw new Error('expected a schedule');
    expect(result.schedule.rows.map((r) => formatMoney(r.principal))).toEqual([
      '1000.00',
      '1000.00',
      '1000.00',
      '1000.00',
      '1000.00',
      '1000.00',
      '500.00',
    ]);
  });

  it('prepaying all the remaining principal repays the loan; beyond it is an excess owed back', () => {
    const result = reschedulePrepayment(
      keptOf(terms),
      remainingAfter(terms, schedule, 2),
      m('9000'),
      'reduce_instalment',
    );
    expect(result).toEqual({ kind: 'repaid', excess: m('584.86') });
  });
});

describe('prepayment invariants over random loans', () => {
  const loans = fc
    .record({
      principal: fc.integer({ min: 1_000, max: 500_000 }),
      rate: fc.constantFrom('0', '1.5', '3.5', '7', '12'),
      term: fc.integer({ min: 2, max: 120 }),
      deferral: fc.integer({ min: 0, max: 12 }),
      deferralType: fc.constantFrom('partial' as const, 'total' as const),
      method: fc.constantFrom('annuity' as const, 'linear' as const, 'bullet' as const),
      dayCount: fc.constantFrom('30E/360' as const, 'ACT/365' as const),
      paidShare: fc.double({ min: 0, max: 0.95, noNaN: true }),
      prepaidPerMille: fc.integer({ min: 1, max: 999 }),
      mode: fc.constantFrom<PrepaymentMode>('reduce_instalment', 'reduce_term'),
    })
    .filter((l) => l.deferral < l.term);

  it('the new rows repay exactly the reduced principal, end at 0.00, keep the due dates, and reduce_term never lengthens', () => {
    fc.assert(
      fc.property(loans, (l) => {
        const t = parseScheduleTerms({
          principal: `${l.principal}.00`,
          annual_rate_percent: l.rate,
          periodicity: 'monthly',
          term_periods: l.term,
          deferral_periods: l.deferral,
          deferral_type: l.deferralType,
          method: l.method,
          day_count: l.dayCount,
          disbursement_date: '2025-01-31',
        });
        const s = buildSchedule(t);
        const paid = Math.floor(l.paidShare * (l.term - 1));
        const remaining = remainingAfter(t, s, paid);
        const prepaid: Money = cents((remaining.principal * BigInt(l.prepaidPerMille)) / 1000n);
        const result = reschedulePrepayment(keptOf(t), remaining, prepaid, l.mode);
        if (result.kind === 'repaid') return expect(prepaid >= remaining.principal).toBe(true);
        const rows = result.schedule.rows;
        const capitalised = rows.reduce((sum, r) => sum + r.capitalisedInterest, 0n);
        expect(rows.reduce((sum, r) => sum + r.principal, 0n)).toBe(
          remaining.principal - prepaid + capitalised,
        );
        expect(rows.at(-1)!.balanceAfter).toBe(0n);
        expect(rows.map((r) => r.dueDate)).toEqual(remaining.dueDates.slice(0, rows.length));
        expect(
          rows.every(
            (r) => r.principal >= 0n && r.interest >= 0n && r.total === r.principal + r.interest,
          ),
        ).toBe(true);
        if (l.mode === 'reduce_instalment' || l.method === 'bullet')
          expect(rows).toHaveLength(remaining.dueDates.length);
        else expect(rows.length <= remaining.dueDates.length).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});
