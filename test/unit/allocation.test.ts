import fc from 'fast-check';
import {
  allocatePayment,
  arrearsAsOf,
  COMPONENTS,
  NOTHING,
  unpaidOf,
  type Amounts,
  type InstalmentState,
} from '../../src/domain/allocation';
import { addMonths, type CalendarDate } from '../../src/domain/dates';
import { cents, formatMoney, parseMoney } from '../../src/domain/money';

const m = (text: string) => parseMoney(text);
const d = (text: string) => text as CalendarDate;
const amounts = (
  interest: string,
  principal: string,
  extra: Partial<Record<'fees' | 'late_interest', string>> = {},
): Amounts => ({
  fees: m(extra.fees ?? '0'),
  late_interest: m(extra.late_interest ?? '0'),
  interest: m(interest),
  principal: m(principal),
});
const show = (a: Amounts) =>
  Object.fromEntries(COMPONENTS.filter((c) => a[c] > 0n).map((c) => [c, formatMoney(a[c])]));

/** Four monthly instalments of 100.00 interest + 800.00 principal, due on the 15th from January 2025. */
const schedule = (paid: Partial<Record<number, Amounts>> = {}): InstalmentState[] =>
  [1, 2, 3, 4].map((n) => ({
    number: n,
    dueDate: addMonths(d('2024-12-15'), n),
    due: amounts('100', '800'),
    paid: paid[n] ?? NOTHING,
  }));

describe('allocating a payment (DOMAIN.md "Allocation")', () => {
  it('a payment on time settles the instalment due that day, interest before principal', () => {
    const result = allocatePayment(schedule(), m('900'), d('2025-01-15'));
    expect(result.allocations.map((a) => [a.number, show(a.amounts)])).toEqual([
      [1, { interest: '100.00', principal: '800.00' }],
    ]);
    expect(result.remainder).toBe(0n);
  });

  it('a late partial payment goes to the oldest overdue instalment, interest first', () => {
    const result = allocatePayment(schedule(), m('950'), d('2025-02-20'));
    expect(result.allocations.map((a) => [a.number, show(a.amounts)])).toEqual([
      [1, { interest: '100.00', principal: '800.00' }],
      [2, { interest: '50.00' }],
    ]);
  });

  it('after what is due, the next instalment is paid in advance, then the rest remains (a prepayment)', () => {
    const result = allocatePayment(schedule(), m('2000'), d('2025-01-20'));
    expect(result.allocations.map((a) => [a.number, show(a.amounts)])).toEqual([
      [1, { interest: '100.00', principal: '800.00' }],
      [2, { interest: '100.00', principal: '800.00' }],
    ]);
    expect(formatMoney(result.remainder)).toBe('200.00');
  });

  it('pay_ahead keeps paying the following instalments in order', () => {
    const result = allocatePayment(schedule(), m('2000'), d('2025-01-20'), true);
    expect(result.allocations.map((a) => [a.number, show(a.amounts)])).toEqual([
      [1, { interest: '100.00', principal: '800.00' }],
      [2, { interest: '100.00', principal: '800.00' }],
      [3, { interest: '100.00', principal: '100.00' }],
    ]);
    expect(result.remainder).toBe(0n);
  });

  it('fees, then late interest, then interest, then principal within an instalment; partly paid ones resume where they stopped', () => {
    const instalments: InstalmentState[] = [
      {
        number: 1,
        dueDate: d('2025-01-15'),
        due: amounts('100', '800', { fees: '15', late_interest: '4.20' }),
        paid: amounts('0', '0', { fees: '15' }),
      },
    ];
    const result = allocatePayment(instalments, m('50'), d('2025-03-01'));
    expect(show(result.allocations[0]!.amounts)).toEqual({
      late_interest: '4.20',
      interest: '45.80',
    });
  });

  it('more than everything owed leaves the excess as remainder', () => {
    const result = allocatePayment(schedule(), m('5000'), d('2025-06-01'));
    expect(formatMoney(result.remainder)).toBe('1400.00');
    expect(result.allocations).toHaveLength(4);
  });
});

describe('arrears (DOMAIN.md "Arrears")', () => {
  it('overdue = due before the as-of date and not fully paid; DPD counts from the oldest unpaid due date', () => {
    const instalments = schedule({ 1: amounts('100', '800'), 2: amounts('100', '300') });
    const arrears = arrearsAsOf(instalments, d('2025-03-20'));
    expect(arrears.overdueInstalments).toBe(2);
    expect(show(arrears.overdue)).toEqual({ interest: '100.00', principal: '1300.00' });
    expect(arrears.daysPastDue).toBe(33); // 15 Feb → 20 Mar 2025
  });

  it('an instalment due on the as-of date is due, not overdue: DPD 0', () => {
    expect(arrearsAsOf(schedule(), d('2025-01-15'))).toMatchObject({
      overdueInstalments: 0,
      daysPastDue: 0,
    });
  });
});

describe('allocation invariants over random schedules and payments', () => {
  const money = (max: bigint) => fc.bigInt({ min: 0n, max }).map((v) => cents(v));
  const instalment = fc.record({
    fees: money(2_000n),
    late_interest: money(2_000n),
    interest: money(50_000n),
    principal: money(500_000n),
    paidShare: fc.integer({ min: 0, max: 100 }),
  });
  const states = fc.array(instalment, { minLength: 1, maxLength: 24 }).map((rows) =>
    rows.map((row, k): InstalmentState => {
      const due: Amounts = {
        fees: row.fees,
        late_interest: row.late_interest,
        interest: row.interest,
        principal: row.principal,
      };
      // part of each component already paid, oldest instalments more likely
      const paid = Object.fromEntries(
        COMPONENTS.map((c) => [c, cents((due[c] * BigInt(k < 3 ? row.paidShare : 0)) / 100n)]),
      ) as Amounts;
      return { number: k + 1, dueDate: addMonths(d('2024-01-10'), k + 1), due, paid };
    }),
  );

  it('Σ allocated + remainder = amount; no component is over-allocated; the earliest unpaid eligible instalment is served first', () => {
    fc.assert(
      fc.property(
        states,
        money(5_000_000n),
        fc.integer({ min: 0, max: 30 }),
        fc.boolean(),
        (instalments, amount, monthsIn, payAhead) => {
          const valueDate = addMonths(d('2024-01-10'), monthsIn);
          const { allocations, remainder } = allocatePayment(
            instalments,
            amount,
            valueDate,
            payAhead,
          );
          const allocated = allocations.reduce(
            (s, a) => s + COMPONENTS.reduce((t, c) => t + a.amounts[c], 0n),
            0n,
          );
          expect(allocated + remainder).toBe(amount);
          for (const a of allocations) {
            const i = instalments[a.number - 1]!;
            for (const c of COMPONENTS) expect(i.paid[c] + a.amounts[c] <= i.due[c]).toBe(true);
          }
          // every allocation but the last settles its instalment completely
          allocations.slice(0, -1).forEach((a) => {
            const settled = COMPONENTS.reduce((t, c) => t + a.amounts[c], 0n);
            expect(settled).toBe(unpaidOf(instalments[a.number - 1]!));
          });
          // numbers strictly increase: oldest first, never skipping an unpaid eligible instalment
          expect(
            allocations.every((a, k) => k === 0 || a.number > allocations[k - 1]!.number),
          ).toBe(true);
          // a remainder only when every eligible instalment is settled
          if (remainder > 0n) {
            const eligible = instalments.filter(
              (i) => unpaidOf(i) > 0n && (payAhead || i.dueDate <= valueDate),
            );
            const nextAhead = instalments.find((i) => unpaidOf(i) > 0n && i.dueDate > valueDate);
            const served = new Set(allocations.map((a) => a.number));
            for (const i of [...eligible, ...(nextAhead ? [nextAhead] : [])])
              expect(served.has(i.number)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the money paid into an instalment never exceeds its total, whatever the sequence of payments', () => {
    fc.assert(
      fc.property(
        states,
        fc.array(money(300_000n), { minLength: 1, maxLength: 6 }),
        (start, payments) => {
          let instalments = start;
          payments.forEach((amount, k) => {
            const { allocations } = allocatePayment(
              instalments,
              amount,
              addMonths(d('2024-01-10'), 2 * k),
            );
            instalments = instalments.map((i) => {
              const a = allocations.find((x) => x.number === i.number);
              if (!a) return i;
              const paid = Object.fromEntries(
                COMPONENTS.map((c) => [c, cents(i.paid[c] + a.amounts[c])]),
              ) as Amounts;
              return { ...i, paid };
            });
          });
          expect(instalments.every((i) => unpaidOf(i) >= 0n)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
