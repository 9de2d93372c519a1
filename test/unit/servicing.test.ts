import fc from 'fast-check';
import { COMPONENTS } from '../../src/domain/allocation';
import { addMonths, toYmd, type CalendarDate } from '../../src/domain/dates';
import { imbalance } from '../../src/domain/ledger';
import { cents, formatMoney, parseMoney, type Money } from '../../src/domain/money';
import { parseRate } from '../../src/domain/rate';
import { buildSchedule, type ScheduleTerms } from '../../src/domain/schedule';
import {
  serviceLoan,
  type LoanOrigin,
  type PrepaymentChoice,
  type ServicingEvent,
} from '../../src/domain/servicing';

const d = (text: string) => text as CalendarDate;
const m = (text: string) => parseMoney(text);

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

const terms = (overrides: Partial<ScheduleTerms> = {}): ScheduleTerms => ({
  principal: m('10000'),
  annualRate: parseRate('12'),
  periodicity: 'monthly',
  termPeriods: 12,
  deferralPeriods: 0,
  deferralType: 'partial',
  method: 'annuity',
  dayCount: '30E/360',
  rounding: 'half_up',
  instalmentMultiple: m('0.01'),
  disbursementDate: d('2025-01-15'),
  ...overrides,
});

const repayment = (
  id: string,
  date: string,
  amount: string,
  prepayment: PrepaymentChoice = 'reduce_instalment',
): ServicingEvent => ({ kind: 'repayment', id, date: d(date), amount: m(amount), prepayment });

/** The loan's receivable as of a date, from the disbursement and the entries the history calls for. */
const receivableAsOf = (
  origin: LoanOrigin,
  postings: ReturnType<typeof serviceLoan>['postings'],
  date: string,
) =>
  postings
    .filter((p) => p.valueDate <= date)
    .flatMap((p) => p.lines)
    .filter((l) => l.account === 'loans_receivable')
    .reduce((sum, l) => sum + l.debit - l.credit, origin.principal as bigint);

describe('replaying a loan’s history (src/domain/servicing.ts)', () => {
  it('a prepayment during a total deferral reschedules from the next due date, and repaying everything never drives the principal below zero', () => {
    const origin = originOf(terms({ deferralPeriods: 6, deferralType: 'total', termPeriods: 18 }));
    // Three months in, before any instalment is due: the next one (a 0.00 deferral period) is settled,
    // its interest capitalised at once, and the rest is a prepayment.
    const partial = serviceLoan(origin, [repayment('a', '2025-03-20', '4000')]);
    expect(partial.outcomes.get('a')).toMatchObject({
      allocations: [],
      principalPrepaid: m('4000'),
      excess: 0n,
    });
    expect(partial.rows[3]!.capitalisedInterest).toBeGreaterThan(0n);
    expect(partial.rows[4]!.capitalisedInterest).toBeLessThan(origin.rows[4]!.capitalisedInterest);

    const everything = serviceLoan(origin, [repayment('a', '2025-03-20', '20000')]);
    expect(everything.status).toBe('repaid');
    const outcome = everything.outcomes.get('a')!;
    // 10,000 capitalised three times at 1 % (to 15 April, the period paid in advance): 10,303.01.
    expect(formatMoney(outcome.principalPrepaid)).toBe('10303.01');
    expect(formatMoney(outcome.excess)).toBe('9696.99');
    expect(receivableAsOf(origin, everything.postings, '2025-03-20')).toBe(0n);
    expect(receivableAsOf(origin, everything.postings, '2030-01-01')).toBe(0n);
  });

  it('a write-off closes exactly the principal outstanding on its date; later payments are recoveries', () => {
    const origin = originOf(terms());
    const result = serviceLoan(origin, [
      repayment('a', '2025-02-15', '888.49'),
      { kind: 'write_off', id: 'w', date: d('2025-05-01') },
      repayment('b', '2025-06-01', '50'),
    ]);
    expect(result.status).toBe('written_off');
    expect(formatMoney(result.writtenOffPrincipal)).toBe('9211.51');
    expect(result.outcomes.get('b')).toMatchObject({ recovered: m('50'), allocations: [] });
    expect(receivableAsOf(origin, result.postings, '2025-05-01')).toBe(0n);
  });

  it('a restructuring with nothing left after its date is ignored', () => {
    const origin = originOf(terms({ termPeriods: 2 }));
    const result = serviceLoan(origin, [
      {
        kind: 'restructuring',
        id: 'r',
        date: d('2025-04-01'),
        change: { type: 'rate_change', annualRate: parseRate('5') },
        capitaliseArrears: false,
      },
    ]);
    expect(result.ignored.has('r')).toBe(true);
    expect(result.restructured).toBe(false);
  });

  it('an ignored restructuring leaves the arrears as they were, even when asked to capitalise them', () => {
    // 500.00 at 0 % over 24 months; a one-month moratorium on the 23rd due date puts a deferral ahead of
    // the last row, so an extension to one period is ignored. It must not have settled 23 months of arrears.
    const origin = originOf(
      terms({ principal: m('500'), annualRate: parseRate('0'), termPeriods: 24 }),
    );
    const result = serviceLoan(origin, [
      {
        kind: 'restructuring',
        id: 'm',
        date: d('2026-12-15'),
        change: { type: 'moratorium', periods: 1, deferralType: 'partial' },
        capitaliseArrears: false,
      },
      {
        kind: 'restructuring',
        id: 'x',
        date: d('2027-01-01'),
        change: { type: 'extension', remainingPeriods: 1 },
        capitaliseArrears: true,
      },
      repayment('r', '2027-01-02', '20.91'),
    ]);
    expect(result.ignored.has('x')).toBe(true);
    expect(result.settlements.has('x')).toBe(false);
    expect(result.status).toBe('active');
    expect(result.outcomes.get('r')!.allocations[0]).toMatchObject({ number: 1 });
    expect(receivableAsOf(origin, result.postings, '2027-01-02')).toBe(m('479.09'));
  });
});

// Random histories: the invariants every replay must keep, whatever happens to the loan.
const amountArb = fc.integer({ min: 1, max: 600_000 }).map((c) => formatMoney(cents(BigInt(c))));
const eventArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('repayment' as const),
      month: fc.integer({ min: 0, max: 30 }),
      day: fc.integer({ min: 1, max: 28 }),
      amount: amountArb,
      prepayment: fc.constantFrom<PrepaymentChoice>(
        'reduce_instalment',
        'reduce_term',
        'pay_ahead',
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('moratorium' as const),
      month: fc.integer({ min: 0, max: 30 }),
      day: fc.integer({ min: 1, max: 28 }),
      periods: fc.integer({ min: 1, max: 6 }),
      total: fc.boolean(),
      capitalise: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('extension' as const),
      month: fc.integer({ min: 0, max: 30 }),
      day: fc.integer({ min: 1, max: 28 }),
      periods: fc.integer({ min: 1, max: 36 }),
      capitalise: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rate_change' as const),
      month: fc.integer({ min: 0, max: 30 }),
      day: fc.integer({ min: 1, max: 28 }),
      rate: fc.constantFrom('0', '2.5', '7', '15'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('write_off' as const),
      month: fc.integer({ min: 0, max: 30 }),
      day: fc.integer({ min: 1, max: 28 }),
    }),
  },
);
const termsArb = fc
  .record({
    principal: fc.integer({ min: 50_000, max: 5_000_000 }).map((c) => cents(BigInt(c))),
    rate: fc.constantFrom('0', '1.5', '4', '12'),
    term: fc.integer({ min: 2, max: 36 }),
    deferral: fc.integer({ min: 0, max: 6 }),
    deferralType: fc.constantFrom<'partial' | 'total'>('partial', 'total'),
    method: fc.constantFrom<'annuity' | 'linear' | 'bullet'>('annuity', 'linear', 'bullet'),
  })
  .filter((t) => t.deferral < t.term);

describe('invariants of any history (fast-check)', () => {
  it('money is conserved, nothing is over-paid, every entry balances, the principal never goes below zero', () => {
    fc.assert(
      fc.property(termsArb, fc.array(eventArb, { maxLength: 12 }), (t, raw) => {
        const origin = originOf(
          terms({
            principal: t.principal as Money,
            annualRate: parseRate(t.rate),
            termPeriods: t.term,
            deferralPeriods: t.deferral,
            deferralType: t.deferralType,
            method: t.method,
          }),
        );
        const events: ServicingEvent[] = raw
          .map((e, k): ServicingEvent => {
            const date = addMonths(d('2025-01-01'), e.month, e.day);
            const id = `e${k}`;
            if (e.kind === 'repayment')
              return { kind: 'repayment', id, date, amount: m(e.amount), prepayment: e.prepayment };
            if (e.kind === 'moratorium')
              return {
                kind: 'restructuring',
                id,
                date,
                change: {
                  type: 'moratorium',
                  periods: e.periods,
                  deferralType: e.total ? 'total' : 'partial',
                },
                capitaliseArrears: e.capitalise,
              };
            if (e.kind === 'extension')
              return {
                kind: 'restructuring',
                id,
                date,
                change: { type: 'extension', remainingPeriods: e.periods },
                capitaliseArrears: e.capitalise,
              };
            if (e.kind === 'rate_change')
              return {
                kind: 'restructuring',
                id,
                date,
                change: { type: 'rate_change', annualRate: parseRate(e.rate) },
                capitaliseArrears: false,
              };
            return { kind: 'write_off', id, date };
          })
          .filter((e) => e.date > origin.disbursedOn)
          .sort((a, b) => a.date.localeCompare(b.date));
        const result = serviceLoan(origin, events);

        for (const event of events) {
          if (event.kind !== 'repayment') continue;
          const outcome = result.outcomes.get(event.id)!;
          const allocated = outcome.allocations.reduce(
            (sum, a) => sum + COMPONENTS.reduce((s, c) => s + a.amounts[c], 0n),
            0n,
          );
          expect(allocated + outcome.principalPrepaid + outcome.excess + outcome.recovered).toBe(
            event.amount,
          );
        }
        const overPaid = result.rows.filter(
          (row, i) =>
            result.paid[i]!.principal > row.principal || result.paid[i]!.interest > row.interest,
        );
        expect(overPaid).toEqual([]);
        expect(
          result.rows.every(
            (row, i) =>
              row.balanceAfter >= 0n &&
              row.number === i + 1 &&
              (i === 0 || row.dueDate > result.rows[i - 1]!.dueDate),
          ),
        ).toBe(true);
        const badEntries = result.postings.filter(
          (p) =>
            imbalance(p.lines) !== 0n ||
            !p.lines.every(
              (l) => l.debit >= 0n && l.credit >= 0n && l.debit > 0n !== l.credit > 0n,
            ),
        );
        expect(badEntries).toEqual([]);
        const dates = [
          ...new Set([
            ...result.postings.map((p) => p.valueDate),
            ...result.rows.map((r) => r.dueDate),
          ]),
        ];
        expect(dates.filter((date) => receivableAsOf(origin, result.postings, date) < 0n)).toEqual(
          [],
        );
        if (result.status === 'repaid')
          expect(receivableAsOf(origin, result.postings, '2100-01-01')).toBe(0n);
        if (result.status === 'written_off')
          expect(receivableAsOf(origin, result.postings, result.closedOn!)).toBe(0n);
        if (result.status === 'active')
          expect(result.rows[result.rows.length - 1]!.balanceAfter).toBe(0n);
      }),
      { numRuns: 2000 },
    );
  });
});
