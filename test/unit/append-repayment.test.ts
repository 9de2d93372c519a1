import fc from 'fast-check';
import { appendRepayment, type StandingRow } from '../../src/domain/append-repayment';
import { COMPONENTS, NOTHING, type Amounts } from '../../src/domain/allocation';
import { toYmd, type CalendarDate } from '../../src/domain/dates';
import { cents, formatMoney, parseMoney } from '../../src/domain/money';
import { parseRate } from '../../src/domain/rate';
import { buildSchedule, type ScheduleTerms } from '../../src/domain/schedule';
import {
  serviceLoan,
  type LoanOrigin,
  type PrepaymentChoice,
  type ServicingEvent,
} from '../../src/domain/servicing';

const d = (text: string) => text as CalendarDate;

function originOf(terms: ScheduleTerms): LoanOrigin {
  const schedule = buildSchedule(terms);
  return {
    terms,
    principal: terms.principal,
    disbursedOn: terms.disbursementDate,
    anchorDay: toYmd(terms.firstDueDate ?? terms.disbursementDate).day,
    rows: schedule.rows.map((row, k) => ({
      ...row,
      deferral: k < terms.deferralPeriods ? terms.deferralType : null,
    })),
  };
}

/** Where the replay of `events` leaves the loan: its rows with what each was paid (as the database sums allocations). */
function standingAfter(origin: LoanOrigin, events: ServicingEvent[]): StandingRow[] {
  const replay = serviceLoan(origin, events);
  const paid = new Map<number, Amounts>();
  for (const outcome of replay.outcomes.values()) {
    for (const a of outcome.allocations) {
      const before = paid.get(a.number) ?? NOTHING;
      paid.set(
        a.number,
        Object.fromEntries(
          COMPONENTS.map((c) => [c, cents(before[c] + a.amounts[c])]),
        ) as unknown as Amounts,
      );
    }
  }
  return replay.rows.map((row) => ({ ...row, paid: paid.get(row.number) ?? NOTHING }));
}

const termsArb = fc
  .record({
    rate: fc.constantFrom('0', '1.5', '4', '12'),
    periods: fc.integer({ min: 2, max: 36 }),
    method: fc.constantFrom<'annuity' | 'linear' | 'bullet'>('annuity', 'linear', 'bullet'),
    deferral: fc.constantFrom<[number, 'partial' | 'total']>(
      [0, 'partial'],
      [2, 'partial'],
      [2, 'total'],
    ),
    principal: fc.integer({ min: 100_000, max: 5_000_000 }),
    periodicity: fc.constantFrom<'monthly' | 'quarterly' | 'semiannual' | 'annual'>(
      'monthly',
      'quarterly',
      'semiannual',
      'annual',
    ),
    dayCount: fc.constantFrom<'30E/360' | 'ACT/365' | 'ACT/360'>('30E/360', 'ACT/365', 'ACT/360'),
    rounding: fc.constantFrom<'half_up' | 'half_even'>('half_up', 'half_even'),
    multiple: fc.constantFrom('0.01', '1', '10'),
    firstDueDate: fc.constantFrom(undefined, '2025-03-10'),
  })
  .filter((t) => t.deferral[0] < t.periods);

const paymentsArb = fc.array(
  fc.record({
    gapDays: fc.integer({ min: 0, max: 200 }),
    cents: fc.integer({ min: 1, max: 400_000 }),
    prepayment: fc.constantFrom<PrepaymentChoice>('reduce_instalment', 'reduce_term', 'pay_ahead'),
  }),
  { minLength: 1, maxLength: 25 },
);

describe('appending a repayment without replaying the history (src/domain/append-repayment.ts)', () => {
  it('agrees with the replay whenever it answers: same allocation, same entry, and nothing else of the replay changes', () => {
    let answered = 0;
    fc.assert(
      fc.property(termsArb, paymentsArb, (t, payments) => {
        const origin = originOf({
          principal: cents(BigInt(t.principal)),
          annualRate: parseRate(t.rate),
          periodicity: t.periodicity,
          termPeriods: t.periods,
          deferralPeriods: t.deferral[0],
          deferralType: t.deferral[1],
          method: t.method,
          dayCount: t.dayCount,
          rounding: t.rounding,
          instalmentMultiple: parseMoney(t.multiple),
          disbursementDate: d('2025-01-15'),
          ...(t.firstDueDate ? { firstDueDate: d(t.firstDueDate) } : {}),
        });
        const events: ServicingEvent[] = [];
        let date = d('2025-01-15');
        payments.forEach((p, k) => {
          date = d(
            new Date(Date.parse(`${date}T00:00:00Z`) + p.gapDays * 86_400_000)
              .toISOString()
              .slice(0, 10),
          );
          const event = {
            kind: 'repayment' as const,
            id: `r${k}`,
            date,
            amount: cents(BigInt(p.cents)),
            prepayment: p.prepayment,
          };
          const before = serviceLoan(origin, events);
          const appended =
            before.status === 'active'
              ? appendRepayment(standingAfter(origin, events), event)
              : undefined;
          events.push(event);
          if (!appended) return;
          answered += 1;
          const after = serviceLoan(origin, events);
          expect(appended.outcome).toEqual(after.outcomes.get(event.id));
          expect(after.postings).toEqual([
            ...before.postings.filter((p) => !p.source.startsWith('capitalisation:')),
            appended.posting,
            ...before.postings.filter((p) => p.source.startsWith('capitalisation:')),
          ]);
          expect(after.rows).toEqual(before.rows);
          expect(after.status).toBe('active');
          for (const [id, outcome] of before.outcomes)
            expect(after.outcomes.get(id)).toEqual(outcome);
        });
      }),
      { numRuns: 300 },
    );
    expect(answered).toBeGreaterThan(300); // the common case is common: most payments of these histories take this path
  });

  it('declines what only a replay can do: a prepayment, the loan’s last payment, a schedule with deferral rows', () => {
    const origin = originOf({
      principal: parseMoney('1200'),
      annualRate: parseRate('0'),
      periodicity: 'monthly',
      termPeriods: 3,
      deferralPeriods: 0,
      deferralType: 'partial',
      method: 'linear',
      dayCount: '30E/360',
      rounding: 'half_up',
      instalmentMultiple: parseMoney('0.01'),
      disbursementDate: d('2025-01-15'),
    });
    const rows = standingAfter(origin, []);
    const pay = (amount: string) => ({
      id: 'x',
      date: d('2025-02-15'),
      amount: parseMoney(amount),
      prepayment: 'reduce_instalment' as const,
    });
    expect(
      formatMoney(appendRepayment(rows, pay('400'))!.outcome.allocations[0]!.amounts.principal),
    ).toBe('400.00');
    // The instalment due, then the next one paid in advance: still no remainder.
    expect(
      appendRepayment(rows, pay('400.01'))!.outcome.allocations.map((a) => [
        a.number,
        formatMoney(a.amounts.principal),
      ]),
    ).toEqual([
      [1, '400.00'],
      [2, '0.01'],
    ]);
    expect(appendRepayment(rows, pay('800.01'))).toBeUndefined(); // a remainder: a prepayment
    const paidAll = rows.map((row, i) =>
      i < 2 ? { ...row, paid: { ...NOTHING, principal: row.principal } } : row,
    );
    expect(appendRepayment(paidAll, { ...pay('400'), date: d('2025-04-15') })).toBeUndefined(); // repays the loan
    const deferred = originOf({
      ...origin.terms,
      principal: parseMoney('1200'),
      disbursementDate: d('2025-01-15'),
      termPeriods: 4,
      deferralPeriods: 1,
      deferralType: 'total',
    } as ScheduleTerms);
    expect(appendRepayment(standingAfter(deferred, []), pay('10'))).toBeUndefined();
  });
});
