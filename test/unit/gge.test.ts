import fc from 'fast-check';
import type { CalendarDate } from '../../src/domain/dates';
import {
  addBasisPoints,
  grossGrantEquivalent,
  marginBasisPoints,
  type AidRow,
} from '../../src/domain/gge';
import { cents, formatMoney, parseMoney, type Money } from '../../src/domain/money';
import type { Rate } from '../../src/domain/rate';
import { buildSchedule, type ScheduleTerms } from '../../src/domain/schedule';
import { parseScheduleTerms } from '../../src/schedules/schedule-terms.input';

/** The GGE of a loan's first schedule, grant date = disbursement date (2025-01-15 unless said). */
function ggeOf(
  terms: Record<string, unknown>,
  referenceRatePercent: string,
  discountRatePercent: string,
): string {
  const parsed = parseScheduleTerms({
    periodicity: 'quarterly',
    method: 'annuity',
    disbursement_date: '2025-01-15',
    ...terms,
  } as never);
  return formatMoney(gge(parsed, referenceRatePercent, discountRatePercent));
}

function gge(
  terms: ScheduleTerms,
  referenceRatePercent: string,
  discountRatePercent: string,
): Money {
  const rows: readonly AidRow[] = buildSchedule(terms).rows;
  return grossGrantEquivalent({
    principal: terms.principal,
    grantDate: terms.disbursementDate,
    rows,
    referenceRatePercent,
    discountRatePercent,
  });
}

describe('the Communication 2008/C 14/02 margins', () => {
  it.each([
    ['strong', 'high', 60],
    ['strong', 'normal', 75],
    ['strong', 'low', 100],
    ['good', 'high', 75],
    ['good', 'normal', 100],
    ['good', 'low', 220],
    ['satisfactory', 'high', 100],
    ['satisfactory', 'normal', 220],
    ['satisfactory', 'low', 400],
    ['weak', 'high', 220],
    ['weak', 'normal', 400],
    ['weak', 'low', 650],
    ['bad', 'high', 400],
    ['bad', 'normal', 650],
    ['bad', 'low', 1000],
    ['no_credit_history', 'high', 400],
    ['no_credit_history', 'normal', 400],
    ['no_credit_history', 'low', 400],
  ] as const)('%s × %s collateral → %i bp', (rating, collateral, bp) => {
    expect(marginBasisPoints(rating, collateral)).toBe(bp);
  });

  it('adds basis points to a percent exactly', () => {
    expect(addBasisPoints('3.5', 400)).toBe('7.5');
    expect(addBasisPoints('-0.31', 100)).toBe('0.69');
    expect(addBasisPoints('2.123456', 220)).toBe('4.323456');
  });
});

/**
 * Hand-checked (docs/state-aid.md shows each row): python's decimal module at 50 digits, with
 * (1 + disc)^(−t) raised per row as DOMAIN.md writes it. Base rate 3.5 %, so the discount rate is 4.5 %.
 */
describe('worked examples, computed independently', () => {
  it('a 0 % recovery loan: 10,000.00 over 12 quarters, no credit history (ref 7.5 %) → 1,156.67', () => {
    expect(
      ggeOf({ principal: '10000.00', annual_rate_percent: '0', term_periods: 12 }, '7.5', '4.5'),
    ).toBe('1156.67');
  });

  it('a below-market common-law loan: 50,000.00 at 2 % over 8 quarters, satisfactory × normal (ref 5.7 %) → 2,011.63', () => {
    expect(
      ggeOf({ principal: '50000.00', annual_rate_percent: '2', term_periods: 8 }, '5.7', '4.5'),
    ).toBe('2011.63');
  });

  it('a total deferral: 20,000.00 at 1 %, 6 quarters of which 2 capitalised (ref 7.5 %) → 1,419.19', () => {
    expect(
      ggeOf(
        {
          principal: '20000.00',
          annual_rate_percent: '1',
          term_periods: 6,
          deferral_periods: 2,
          deferral_type: 'total',
        },
        '7.5',
        '4.5',
      ),
    ).toBe('1419.19');
  });

  it('a 120-month loan (the benchmark’s): 50,000.00 at 1 % monthly, ref 7.5 % → 14,408.20 (python: 14408.2012888…)', () => {
    expect(
      ggeOf(
        {
          principal: '50000.00',
          annual_rate_percent: '1',
          term_periods: 120,
          periodicity: 'monthly',
        },
        '7.5',
        '4.5',
      ),
    ).toBe('14408.20');
  });

  it('floors at 0: the same loan at 2 % against a 2 % reference rate charges more on 30E/360 than ACT/365 asks', () => {
    expect(
      ggeOf({ principal: '50000.00', annual_rate_percent: '2', term_periods: 8 }, '2', '3'),
    ).toBe('0.00');
  });

  it('rounds half-up once, at the end, not per row', () => {
    // One row of 1.00 at 0 %, 365 days, ref 0.5 %: exactly 0.5 cent undiscounted → 0.01 (disc 0 %).
    const rows: AidRow[] = [
      {
        dueDate: '2026-01-15' as CalendarDate,
        interest: cents(0n),
        capitalisedInterest: cents(0n),
        balanceAfter: cents(0n),
      },
    ];
    const one = (referenceRatePercent: string) =>
      grossGrantEquivalent({
        principal: parseMoney('1.00'),
        grantDate: '2025-01-15' as CalendarDate,
        rows,
        referenceRatePercent,
        discountRatePercent: '0',
      });
    expect(formatMoney(one('0.5'))).toBe('0.01');
    expect(formatMoney(one('0.49'))).toBe('0.00');
    // Two such rows of 0.49 cent each: 0.98 cent in all → 0.01, where rounding each row would give 0.00.
    const two = grossGrantEquivalent({
      principal: parseMoney('1.00'),
      grantDate: '2025-01-15' as CalendarDate,
      rows: [
        { ...rows[0]!, balanceAfter: parseMoney('1.00') },
        { ...rows[0]!, dueDate: '2027-01-15' as CalendarDate },
      ],
      referenceRatePercent: '0.49',
      discountRatePercent: '0',
    });
    expect(formatMoney(two)).toBe('0.01');
  });
});

const plainAnnuity = fc.record({
  principal: fc.bigInt({ min: 100_000n, max: 100_000_000n }), // 1,000.00 to 1,000,000.00
  termPeriods: fc.integer({ min: 1, max: 120 }),
  periodicity: fc.constantFrom('monthly' as const, 'quarterly' as const),
  loanRate: fc.bigInt({ min: 0n, max: 8_000_000n }), // millionths of a percent: 0 to 8 %
  base: fc.integer({ min: -50, max: 600 }), // base rate in bp
  margin: fc.constantFrom(60, 100, 220, 400, 650, 1000),
});

const termsOf = (p: {
  principal: bigint;
  termPeriods: number;
  periodicity: 'monthly' | 'quarterly';
  loanRate: bigint;
}): ScheduleTerms => ({
  principal: cents(p.principal),
  annualRate: p.loanRate as Rate,
  periodicity: p.periodicity,
  termPeriods: p.termPeriods,
  deferralPeriods: 0,
  deferralType: 'partial',
  method: 'annuity',
  dayCount: 'ACT/365',
  rounding: 'half_up',
  instalmentMultiple: cents(1n),
  disbursementDate: '2025-01-15' as CalendarDate,
});
const percent = (bp: number) => (bp / 100).toFixed(2);

describe('properties', () => {
  it('never negative, and 0 when the loan charges at least the reference rate (+0.5 pt for the cents of rounding)', () => {
    fc.assert(
      fc.property(plainAnnuity, (p) => {
        const ref = p.base + p.margin;
        const terms = termsOf({ ...p, loanRate: BigInt(ref + 50) * 10_000n });
        expect(gge(terms, percent(ref), percent(p.base + 100))).toBe(0n);
        expect(gge(termsOf(p), percent(ref), percent(p.base + 100)) >= 0n).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  // Up to the cents the engine rounds: a rate 0.000002 pt higher can move an instalment, and with it every
  // later balance, by a cent (found by fast-check: +0.01 on a 89-quarter loan), so a cent per row is allowed.
  it('a higher loan rate never gives a larger GGE, to a cent per row', () => {
    fc.assert(
      fc.property(plainAnnuity, fc.bigInt({ min: 1n, max: 3_000_000n }), (p, more) => {
        const ref = percent(p.base + p.margin);
        const disc = percent(p.base + 100);
        expect(
          gge(termsOf({ ...p, loanRate: p.loanRate + more }), ref, disc) <=
            gge(termsOf(p), ref, disc) + BigInt(p.termPeriods),
        ).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('the rounding counterexample: 22,671.27 over 89 quarters, 0.989625 % then 0.989627 %: +0.01, and a point more lowers it by far', () => {
    const at = (loanRate: bigint) =>
      gge(
        termsOf({ principal: 2_267_127n, termPeriods: 89, periodicity: 'quarterly', loanRate }),
        '10',
        '1',
      );
    expect([at(989_625n), at(989_627n), at(1_989_625n)].map((c) => formatMoney(c))).toEqual([
      '22091.58',
      '22091.59',
      '20301.87',
    ]);
  });

  it('a higher reference rate never gives a smaller GGE', () => {
    fc.assert(
      fc.property(plainAnnuity, fc.integer({ min: 1, max: 500 }), (p, more) => {
        const disc = percent(p.base + 100);
        const terms = termsOf(p);
        expect(
          gge(terms, percent(p.base + p.margin + more), disc) >=
            gge(terms, percent(p.base + p.margin), disc),
        ).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('discounting at a positive rate never raises a 0 % loan’s GGE above its undiscounted sum (nor a negative rate below it)', () => {
    fc.assert(
      fc.property(plainAnnuity, (p) => {
        const terms = termsOf({ ...p, loanRate: 0n });
        const ref = percent(p.base + p.margin);
        const undiscounted = gge(terms, ref, '0');
        const value = gge(terms, ref, percent(p.base + 100));
        expect(p.base + 100 > 0 ? value <= undiscounted : value >= undiscounted).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
