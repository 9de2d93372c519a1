import { parseDate, type CalendarDate } from '../domain/dates';
import { parseMoney } from '../domain/money';
import { oneOf } from '../domain/one-of';
import { parseRate, type Rate } from '../domain/rate';
import { rowToLoanTerms, type Loan } from '../loans/loan-rows';

/** A loan's state on the tape: its status as of the date (a loan paid out by then is one of these). */
const TAPE_STATUSES = ['active', 'repaid', 'written_off'] as const;

/** A loan of the tape as of a date, in domain values; the repaid and written-off fields are null until then. */
export interface LoanTape extends Pick<
  Loan,
  | 'id'
  | 'structure_id'
  | 'product_id'
  | 'kind'
  | 'principal'
  | 'annual_rate_percent'
  | 'periodicity'
  | 'term_periods'
  | 'deferral_periods'
  | 'deferral_type'
  | 'method'
  | 'day_count'
  | 'rounding'
  | 'first_due_date'
  | 'schedule_version'
  | 'repaid_on'
  | 'written_off_on'
  | 'written_off_principal'
  | 'restructured'
> {
  readonly structure_name: string;
  readonly product_name: string;
  /** The rate in force now, or the contract's when it never changed. */
  readonly current_annual_rate_percent: Rate;
  readonly disbursed_on: CalendarDate;
  readonly status: (typeof TAPE_STATUSES)[number];
}
/** The same loan as the query prints it: text where LoanTape holds a domain value. */
export type LoanTapeRow = {
  readonly [K in keyof LoanTape]: LoanTape[K] extends number | boolean
    ? LoanTape[K]
    : null extends LoanTape[K]
      ? string | null
      : string;
};

const dateOrNull = (text: string | null) => (text === null ? null : parseDate(text));
export function rowToLoanTape(row: LoanTapeRow): LoanTape {
  return {
    ...row,
    ...rowToLoanTerms(row),
    current_annual_rate_percent: parseRate(row.current_annual_rate_percent),
    disbursed_on: parseDate(row.disbursed_on),
    status: oneOf(TAPE_STATUSES, row.status, 'the loan tape status'),
    repaid_on: dateOrNull(row.repaid_on),
    written_off_on: dateOrNull(row.written_off_on),
    written_off_principal:
      row.written_off_principal === null ? null : parseMoney(row.written_off_principal),
  };
}
