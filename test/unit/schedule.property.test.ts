import fc from 'fast-check';
import { addMonths, type CalendarDate } from '../../src/domain/dates';
import { cents, type Money } from '../../src/domain/money';
import type { Rate } from '../../src/domain/rate';
import { buildSchedule, type ScheduleTerms } from '../../src/domain/schedule';
import { checkScheduleTerms } from '../../src/domain/schedule-terms';

const RUNS = 2000;

const date = fc
  .record({
    year: fc.integer({ min: 1990, max: 2100 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 31 }),
  })
  .map(({ year, month, day }) =>
    addMonths(`${year}-${String(month).padStart(2, '0')}-01` as CalendarDate, 0, day),
  );

/** Every valid combination of terms (DOMAIN.md "Schedule rules"), money in cents, rates in millionths of a percent. */
const validTerms: fc.Arbitrary<ScheduleTerms> = fc
  .record({
    principal: fc.oneof(
      fc.bigInt({ min: 1n, max: 10_000_000n }),
      fc.bigInt({ min: 1n, max: 9_999_999_999n }),
    ),
    annualRate: fc.oneof(
      fc.constant(0n),
      fc.bigInt({ min: 0n, max: 20_000_000n }),
      fc.bigInt({ min: 0n, max: 100_000_000n }),
    ),
    periodicity: fc.constantFrom(
      'monthly' as const,
      'quarterly' as const,
      'semiannual' as const,
      'annual' as const,
    ),
    termPeriods: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 600 })),
    deferralShare: fc.double({ min: 0, max: 1, noNaN: true }),
    deferralType: fc.constantFrom('partial' as const, 'total' as const),
    method: fc.constantFrom('annuity' as const, 'linear' as const, 'bullet' as const),
    dayCount: fc.constantFrom('30E/360' as const, 'ACT/365' as const, 'ACT/360' as const),
    rounding: fc.constantFrom('half_up' as const, 'half_even' as const),
    instalmentMultiple: fc.constantFrom(1n, 1n, 1n, 5n, 100n, 1000n),
    disbursementDate: date,
    firstDueShift: fc.option(fc.integer({ min: -25, max: 70 }), { nil: undefined }),
  })
  .map(({ deferralShare, firstDueShift, principal, annualRate, instalmentMultiple, ...rest }) => {
    const deferralPeriods = Math.floor(deferralShare * 0.5 * rest.termPeriods);
    const terms: ScheduleTerms = {
      ...rest,
      principal: cents(principal),
      annualRate: annualRate as Rate,
      instalmentMultiple: instalmentMultiple as Money,
      deferralPeriods: Math.min(deferralPeriods, rest.termPeriods - 1),
    };
    if (firstDueShift === undefined) return terms;
    // A first due date some days before or after the default one, but after disbursement.
    const months = { monthly: 1, quarterly: 3, semiannual: 6, annual: 12 }[rest.periodicity];
    const byDefault = new Date(`${addMonths(rest.disbursementDate, months)}T00:00:00Z`);
    byDefault.setUTCDate(byDefault.getUTCDate() + firstDueShift);
    const firstDueDate = byDefault.toISOString().slice(0, 10) as CalendarDate;
    return firstDueDate > rest.disbursementDate ? { ...terms, firstDueDate } : terms;
  });

const sumOf = (values: readonly bigint[]) => values.reduce((a, b) => a + b, 0n);

/** Rule 7, checked without expect() per row (thousands of schedules of up to 600 rows). */
function brokenInvariants(terms: ScheduleTerms): string[] {
  const s = buildSchedule(terms);
  const broken: string[] = [];
  if (s.rows.length !== terms.termPeriods) broken.push('row count');
  const capitalised = sumOf(s.rows.map((r) => r.capitalisedInterest));
  if (sumOf(s.rows.map((r) => r.principal)) !== terms.principal + capitalised)
    broken.push('Σ principal ≠ principal + Σ capitalised');
  let balance: bigint = terms.principal;
  for (const row of s.rows) {
    if (
      [row.principal, row.interest, row.total, row.capitalisedInterest, row.balanceAfter].some(
        (amount) => amount < 0n,
      )
    )
      broken.push(`negative amount in row ${row.number}`);
    if (row.total !== row.principal + row.interest)
      broken.push(`total ≠ principal + interest in row ${row.number}`);
    balance = balance - row.principal + row.capitalisedInterest;
    if (row.balanceAfter !== balance) broken.push(`balance not chained in row ${row.number}`);
  }
  if (s.rows.at(-1)!.balanceAfter !== 0n) broken.push('final balance ≠ 0.00');
  if (s.totalPayable !== sumOf(s.rows.map((r) => r.total))) broken.push('total payable ≠ Σ totals');
  if (s.totalInterest !== sumOf(s.rows.map((r) => r.interest)) + capitalised)
    broken.push('total interest ≠ Σ interest + Σ capitalised');
  if (s.totalPayable !== terms.principal + s.totalInterest)
    broken.push('total payable ≠ principal + total interest');
  return broken;
}

describe('schedule invariants (DOMAIN.md rule 7) over random valid terms', () => {
  it('every generated term is valid', () => {
    fc.assert(
      fc.property(validTerms, (terms) => expect(checkScheduleTerms(terms)).toEqual([])),
      { numRuns: 500 },
    );
  });

  it('Σ principal = principal + Σ capitalised; balances ≥ 0 and chained; final balance 0.00; total = principal + interest; nothing negative', () => {
    fc.assert(
      fc.property(validTerms, (terms) => {
        expect(brokenInvariants(terms)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('deferral rows repay no principal; under total deferral nothing is due; after deferral only an annuity instalment short of its interest capitalises', () => {
    fc.assert(
      fc.property(validTerms, (terms) => {
        const s = buildSchedule(terms);
        const deferral = s.rows.slice(0, terms.deferralPeriods);
        expect(deferral.every((r) => r.principal === 0n)).toBe(true);
        if (terms.deferralType === 'total')
          expect(deferral.every((r) => r.total === 0n)).toBe(true);
        else expect(deferral.every((r) => r.capitalisedInterest === 0n)).toBe(true);
        const capitalising = s.rows
          .slice(terms.deferralPeriods)
          .filter((r) => r.capitalisedInterest > 0n);
        if (terms.method !== 'annuity') expect(capitalising).toEqual([]);
        expect(
          capitalising.every((r) => r.principal === 0n && r.total === s.instalmentAmount),
        ).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('annuity instalments are level: every row after deferral but the last totals the instalment, unless the loan is repaid early', () => {
    fc.assert(
      fc.property(
        validTerms.filter((t) => t.method === 'annuity'),
        (terms) => {
          const s = buildSchedule(terms);
          const amortising = s.rows.slice(terms.deferralPeriods, -1);
          // Rounding the instalment up (a coarse multiple, or a loan of a few cents) can repay it before its last row.
          const repaid = amortising.findIndex((r) => r.balanceAfter === 0n);
          const level = repaid === -1 ? amortising : amortising.slice(0, repaid);
          expect(level.every((r) => r.total === s.instalmentAmount)).toBe(true);
          expect(s.instalmentAmount % terms.instalmentMultiple).toBe(0n);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('linear principal parts are equal (to the multiple) until the last; bullet repays everything at the end', () => {
    fc.assert(
      fc.property(
        validTerms.filter((t) => t.method !== 'annuity'),
        (terms) => {
          const rows = buildSchedule(terms).rows;
          const amortising = rows.slice(terms.deferralPeriods, -1);
          if (terms.method === 'bullet') {
            expect(amortising.every((r) => r.principal === 0n)).toBe(true);
            expect(rows.at(-1)!.principal).toBe(rows.at(-2)?.balanceAfter ?? terms.principal);
          } else {
            const first = amortising[0]?.principal;
            expect(amortising.every((r) => r.principal === first || r.balanceAfter === 0n)).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('due dates strictly increase and the first is after disbursement', () => {
    fc.assert(
      fc.property(validTerms, (terms) => {
        const rows = buildSchedule(terms).rows;
        expect(rows[0]!.dueDate > terms.disbursementDate).toBe(true);
        expect(rows.every((row, k) => k === 0 || row.dueDate > rows[k - 1]!.dueDate)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
