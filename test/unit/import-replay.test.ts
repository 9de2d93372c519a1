import type { CalendarDate } from '../../src/domain/dates';
import { formatMoney, parseMoney } from '../../src/domain/money';
import { buildSchedule } from '../../src/domain/schedule';
import { checkRepaymentRows } from '../../src/imports/check-repayments';
import { termsFromBody } from '../../src/schedules/schedule-terms.input';

const TODAY = '2026-12-07' as CalendarDate;
const terms = termsFromBody({
  principal: '6000.00',
  annual_rate_percent: '3.5',
  periodicity: 'monthly',
  term_periods: 12,
  method: 'annuity',
  disbursement_date: '2025-01-31',
});
const schedule = buildSchedule(terms).rows;
const loans = new Map([['L', { row: 2, terms }]]);
const line = (row: number, value_date: string, amount: string) => ({
  row,
  fields: { loan_external_reference: 'L', value_date, amount },
});

describe('replaying an imported loan’s repayments', () => {
  it('each instalment paid on its due date settles it; the last one repays the loan, and a repayment after it is a conflict', () => {
    const rows = schedule.map((instalment, k) =>
      line(k + 2, instalment.dueDate, formatMoney(instalment.total)),
    );
    rows.push(line(rows.length + 2, '2026-02-28', '10.00'));
    const checks = checkRepaymentRows(rows, loans, new Map(), [], TODAY);
    expect(checks.errors).toEqual([
      {
        file: 'repayments',
        row: 14,
        column: null,
        rule: 'conflict',
        message: 'The loan is repaid: there is nothing left to repay.',
      },
    ]);
    expect(checks.tally).toEqual({
      rows_read: 13,
      rows_valid: 12,
      rows_to_create: 12,
      rows_already_present: 0,
    });
  });

  it('in value-date order, whatever the order of the lines: the same instalments listed backwards give the same answer', () => {
    const rows = schedule
      .map((instalment, k) => line(k + 2, instalment.dueDate, formatMoney(instalment.total)))
      .reverse();
    rows.unshift(line(99, '2026-02-28', '10.00'));
    expect(
      checkRepaymentRows(rows, loans, new Map(), [], TODAY).errors.map((e) => [e.row, e.rule]),
    ).toEqual([[99, 'conflict']]);
  });

  it('a prepayment reschedules the loan: the limit that follows is twice what the new schedule asks', () => {
    const reference = checkRepaymentRows(
      [line(2, '2025-02-28', '3000.00'), line(3, '2025-03-31', '99999.00')],
      loans,
      new Map(),
      [],
      TODAY,
    );
    const [error] = reference.errors;
    expect(error).toMatchObject({ row: 3, column: 'amount', rule: 'rule_violation' });
    const payable = /\(([\d.]+)\)/.exec(error!.message)![1]!;
    const original = schedule.reduce((sum, row) => sum + row.total, 0n);
    expect(parseMoney(payable) < original).toBe(true); // the schedule asks less once 3,000.00 came early
  });
});
