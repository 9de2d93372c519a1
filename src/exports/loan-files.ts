import type { CalendarDate } from '../domain/dates';
import { cents, formatMoney } from '../domain/money';
import { formatRate } from '../domain/rate';
import type { Cell, CsvPair } from './export-files';
import { loanStates, type LoanState } from './loan-states';

const TAPE_COLUMNS = [
  'loan_id',
  'structure_id',
  'structure_name',
  'product_id',
  'product_name',
  'kind',
  'principal',
  'annual_rate_percent',
  'current_annual_rate_percent',
  'periodicity',
  'term_periods',
  'deferral_periods',
  'deferral_type',
  'method',
  'day_count',
  'rounding',
  'disbursed_on',
  'first_due_date',
  'schedule_version',
  'status',
  'outstanding_principal',
  'overdue_principal',
  'overdue_interest',
  'overdue_fees',
  'overdue_total',
  'overdue_instalments',
  'days_past_due',
  'restructured',
  'written_off',
  'written_off_on',
  'written_off_principal',
  'repaid_on',
];

const INSTALMENT_COLUMNS = [
  'loan_id',
  'schedule_version',
  'number',
  'due_date',
  'principal',
  'interest',
  'total',
  'balance_after',
  'capitalised_interest',
  'paid',
  'paid_interest',
  'paid_principal',
  'status',
];

/** loans.csv and instalments.csv, from one read of the loans: the tape's row of each, and its instalments' rows. */
export function loanFiles(fundId: string, asOf: CalendarDate): CsvPair {
  return {
    names: ['loans.csv', 'instalments.csv'],
    columns: [TAPE_COLUMNS, INSTALMENT_COLUMNS],
    async *pages(trx) {
      for await (const page of loanStates(trx, fundId, asOf))
        yield [page.map(tapeRow), page.flatMap(instalmentRows)];
    },
  };
}

/** A loan of the tape: its terms, and where it stands as of the date. */
function tapeRow({ loan, outstanding, arrears }: LoanState): Cell[] {
  const { overdue, overdueInstalments, daysPastDue } = arrears;
  return [
    loan.id,
    loan.structure_id,
    loan.structure_name,
    loan.product_id,
    loan.product_name,
    loan.kind,
    formatMoney(loan.principal),
    formatRate(loan.annual_rate_percent),
    formatRate(loan.current_annual_rate_percent),
    loan.periodicity,
    loan.term_periods,
    loan.deferral_periods,
    loan.deferral_type,
    loan.method,
    loan.day_count,
    loan.rounding,
    loan.disbursed_on,
    loan.first_due_date,
    loan.schedule_version,
    loan.status,
    formatMoney(outstanding),
    formatMoney(overdue.principal),
    formatMoney(cents(overdue.interest + overdue.late_interest)),
    formatMoney(overdue.fees),
    formatMoney(cents(overdue.principal + overdue.interest + overdue.late_interest + overdue.fees)),
    overdueInstalments,
    daysPastDue,
    loan.restructured,
    loan.status === 'written_off',
    loan.written_off_on,
    loan.written_off_principal === null ? null : formatMoney(loan.written_off_principal),
    loan.repaid_on,
  ];
}

/** A loan's current schedule, each instalment with what was paid towards it and its status then. */
function instalmentRows({ loan, instalments, paid, statuses }: LoanState): Cell[][] {
  return instalments.map((line, k) => [
    loan.id,
    loan.schedule_version,
    line.number,
    line.due_date,
    formatMoney(line.principal),
    formatMoney(line.interest),
    formatMoney(line.total),
    formatMoney(line.balance_after),
    formatMoney(line.capitalised_interest),
    formatMoney(cents(paid[k]!.interest + paid[k]!.principal)),
    formatMoney(paid[k]!.interest),
    formatMoney(paid[k]!.principal),
    statuses[k]!,
  ]);
}
