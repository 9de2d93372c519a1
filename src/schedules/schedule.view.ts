import { formatMoney } from '../domain/money';
import type { Schedule, ScheduleRow } from '../domain/schedule';

export function instalmentView(row: ScheduleRow) {
  return {
    number: row.number,
    due_date: row.dueDate,
    principal: formatMoney(row.principal),
    interest: formatMoney(row.interest),
    total: formatMoney(row.total),
    balance_after: formatMoney(row.balanceAfter),
    capitalised_interest: formatMoney(row.capitalisedInterest),
  };
}

export function schedulePreviewView(schedule: Schedule) {
  return {
    instalment_amount: formatMoney(schedule.instalmentAmount),
    total_interest: formatMoney(schedule.totalInterest),
    total_capitalised_interest: formatMoney(schedule.totalCapitalisedInterest),
    total_payable: formatMoney(schedule.totalPayable),
    instalments: schedule.rows.map(instalmentView),
  };
}
