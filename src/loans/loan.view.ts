import type { Arrears } from '../domain/allocation';
import type { CalendarDate } from '../domain/dates';
import { cents, formatMoney, type Money } from '../domain/money';
import { formatRate } from '../domain/rate';
import type { LoanSchedule } from './get-loan-schedule';
import type { listScheduleVersions } from './list-schedule-versions';
import type { Loan } from './loan-rows';
import { loanStateAidView } from '../state-aid/state-aid.view';

const moneyOrNull = (amount: Money | null) => (amount === null ? null : formatMoney(amount));

export function loanView(loan: Loan) {
  return {
    id: loan.id,
    fund_id: loan.fund_id,
    product_id: loan.product_id,
    structure_id: loan.structure_id,
    external_reference: loan.external_reference,
    kind: loan.kind,
    status: loan.status,
    restructured: loan.restructured,
    principal: formatMoney(loan.principal),
    annual_rate_percent: formatRate(loan.annual_rate_percent),
    periodicity: loan.periodicity,
    term_periods: loan.term_periods,
    deferral_periods: loan.deferral_periods,
    deferral_type: loan.deferral_type,
    method: loan.method,
    day_count: loan.day_count,
    rounding: loan.rounding,
    instalment_multiple: formatMoney(loan.instalment_multiple),
    disbursement_date: loan.disbursement_date,
    first_due_date: loan.first_due_date,
    disbursed_on: loan.disbursed_on,
    cancelled_on: loan.cancelled_on,
    outstanding_principal: formatMoney(loan.outstanding_principal),
    schedule_version: loan.schedule_version,
    current_annual_rate_percent: formatRate(
      loan.current_annual_rate_percent ?? loan.annual_rate_percent,
    ),
    repaid_on: loan.repaid_on,
    written_off_on: loan.written_off_on,
    written_off_principal: moneyOrNull(loan.written_off_principal),
    write_off_reason: loan.write_off_reason,
    leverage_bank_loans: formatMoney(loan.leverage_bank_loans),
    leverage_grants: formatMoney(loan.leverage_grants),
    created_at: loan.created_at.toISOString(),
    state_aid: loanStateAidView(loan),
  };
}

export function loanScheduleView(schedule: LoanSchedule, asOf: CalendarDate) {
  return {
    loan_id: schedule.loan.id,
    version: schedule.version,
    projected: schedule.projected,
    as_of: asOf,
    instalments: schedule.instalments.map((row, k) => ({
      number: row.number,
      due_date: row.due_date,
      principal: formatMoney(row.principal),
      interest: formatMoney(row.interest),
      total: formatMoney(row.total),
      balance_after: formatMoney(row.balance_after),
      capitalised_interest: formatMoney(row.capitalised_interest),
      paid: formatMoney(cents(schedule.paid[k]!.interest + schedule.paid[k]!.principal)),
      paid_interest: formatMoney(schedule.paid[k]!.interest),
      paid_principal: formatMoney(schedule.paid[k]!.principal),
      status: schedule.statuses[k]!,
    })),
  };
}

export function scheduleVersionsView({
  loan,
  versions,
}: Awaited<ReturnType<typeof listScheduleVersions>>) {
  return {
    loan_id: loan.id,
    current_version: loan.schedule_version,
    items: versions.map((v) => ({
      version: v.version,
      reason: v.reason,
      effective_date: v.effective_date,
      instalment_count: v.instalment_count,
      created_at: v.created_at.toISOString(),
    })),
  };
}

/** The loan with where it stands as of a date: what is overdue, and since when. */
export function loanDetailView(
  loan: Loan,
  arrears: Arrears,
  outstanding: Money,
  asOf: CalendarDate,
) {
  const { overdue } = arrears;
  return {
    ...loanView(loan),
    // As of the date asked: capitalised interest, repayments and a write-off value-dated by then.
    outstanding_principal: formatMoney(outstanding),
    as_of: asOf,
    arrears: {
      overdue_principal: formatMoney(overdue.principal),
      overdue_interest: formatMoney(cents(overdue.interest + overdue.late_interest)),
      overdue_fees: formatMoney(overdue.fees),
      overdue_total: formatMoney(
        cents(overdue.principal + overdue.interest + overdue.late_interest + overdue.fees),
      ),
      overdue_instalments: arrears.overdueInstalments,
      days_past_due: arrears.daysPastDue,
    },
  };
}
