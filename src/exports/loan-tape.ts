import { parseDate, type CalendarDate } from '../domain/dates';
import { parseMoney, ROUNDINGS, type Money, type Rounding } from '../domain/money';
import { oneOf } from '../domain/one-of';
import { DAY_COUNTS, PERIODICITIES, type DayCount, type Periodicity } from '../domain/periods';
import { LOAN_KINDS, type LoanKind } from '../domain/product-ranges';
import { parseRate, type Rate } from '../domain/rate';
import { DEFERRAL_TYPES, METHODS, type DeferralType, type Method } from '../domain/schedule';

/** A loan's state on the tape: its status as of the date (a loan paid out by then is one of these). */
const TAPE_STATUSES = ['active', 'repaid', 'written_off'] as const;

/** A loan of the tape as of a date, in domain values; the repaid and written-off fields are null until then. */
export interface LoanTape {
  readonly id: string;
  readonly structure_id: string;
  readonly structure_name: string;
  readonly product_id: string;
  readonly product_name: string;
  readonly kind: LoanKind;
  readonly principal: Money;
  readonly annual_rate_percent: Rate;
  /** The rate in force now, or the contract's when it never changed. */
  readonly current_annual_rate_percent: Rate;
  readonly periodicity: Periodicity;
  readonly term_periods: number;
  readonly deferral_periods: number;
  readonly deferral_type: DeferralType;
  readonly method: Method;
  readonly day_count: DayCount;
  readonly rounding: Rounding;
  readonly disbursed_on: CalendarDate;
  readonly first_due_date: CalendarDate | null;
  readonly schedule_version: number;
  readonly status: (typeof TAPE_STATUSES)[number];
  readonly repaid_on: CalendarDate | null;
  readonly written_off_on: CalendarDate | null;
  readonly written_off_principal: Money | null;
  readonly restructured: boolean;
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
    kind: oneOf(LOAN_KINDS, row.kind, 'loans.kind'),
    principal: parseMoney(row.principal),
    annual_rate_percent: parseRate(row.annual_rate_percent),
    current_annual_rate_percent: parseRate(row.current_annual_rate_percent),
    periodicity: oneOf(PERIODICITIES, row.periodicity, 'loans.periodicity'),
    deferral_type: oneOf(DEFERRAL_TYPES, row.deferral_type, 'loans.deferral_type'),
    method: oneOf(METHODS, row.method, 'loans.method'),
    day_count: oneOf(DAY_COUNTS, row.day_count, 'loans.day_count'),
    rounding: oneOf(ROUNDINGS, row.rounding, 'loans.rounding'),
    disbursed_on: parseDate(row.disbursed_on),
    first_due_date: dateOrNull(row.first_due_date),
    status: oneOf(TAPE_STATUSES, row.status, 'the loan tape status'),
    repaid_on: dateOrNull(row.repaid_on),
    written_off_on: dateOrNull(row.written_off_on),
    written_off_principal:
      row.written_off_principal === null ? null : parseMoney(row.written_off_principal),
  };
}
