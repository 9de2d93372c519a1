import type { Selectable } from 'kysely';
import type { LoansTable } from '../db/schema';
import { parseDate, type CalendarDate } from '../domain/dates';
import { parseExactDecimal, type ExactDecimal } from '../domain/exact-decimal';
import { COLLATERAL_CLASSES, LEGAL_BASES, RATING_CLASSES } from '../domain/gge';
import { formatMoney, parseMoney, ROUNDINGS, type Money, type Rounding } from '../domain/money';
import { oneOf } from '../domain/one-of';
import { DAY_COUNTS, PERIODICITIES, type DayCount, type Periodicity } from '../domain/periods';
import {
  LOAN_KINDS,
  LOAN_STATUSES,
  type LoanKind,
  type LoanRecordStatus,
} from '../domain/product-ranges';
import { formatRate, parseRate, type Rate } from '../domain/rate';
import { DEFERRAL_TYPES, METHODS, type DeferralType, type Method } from '../domain/schedule';
import type { LoanAidFacts } from '../state-aid/loan-aid';

/**
 * A loan as the application holds it: amounts, rates, dates and closed lists parsed once, here.
 * Its state-aid columns (the grant date's rates, exact decimals) are declared by state aid's
 * LoanAidFacts, which state aid reads of it.
 */
export interface Loan extends LoanAidFacts {
  readonly product_id: string;
  readonly kind: LoanKind;
  readonly status: LoanRecordStatus;
  readonly restructured: boolean;
  readonly annual_rate_percent: Rate;
  readonly periodicity: Periodicity;
  readonly term_periods: number;
  readonly deferral_periods: number;
  readonly deferral_type: DeferralType;
  readonly method: Method;
  readonly day_count: DayCount;
  readonly rounding: Rounding;
  readonly instalment_multiple: Money;
  readonly disbursement_date: CalendarDate;
  readonly first_due_date: CalendarDate | null;
  readonly cancelled_on: CalendarDate | null;
  readonly outstanding_principal: Money;
  readonly schedule_version: number;
  readonly created_at: Date;
  readonly repaid_on: CalendarDate | null;
  readonly written_off_on: CalendarDate | null;
  readonly written_off_at: Date | null;
  readonly written_off_seq: string | null;
  readonly write_off_reason: string | null;
  readonly written_off_principal: Money | null;
  readonly current_annual_rate_percent: Rate | null;
  readonly revision: number;
  readonly external_reference: string | null;
  readonly leverage_bank_loans: Money;
  readonly leverage_grants: Money;
}

/** A loan to create: what POST /v1/loans and the import give; the database fills in the rest. */
export type NewLoan = Pick<
  Loan,
  | 'id'
  | 'fund_id'
  | 'product_id'
  | 'structure_id'
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
  | 'instalment_multiple'
  | 'disbursement_date'
  | 'first_due_date'
  | 'rating_class'
  | 'collateral_class'
  | 'aid_scheme_reference'
> &
  Partial<
    Pick<Loan, 'leverage_bank_loans' | 'leverage_grants' | 'legal_basis' | 'external_reference'>
  >;

const orNull =
  <T>(parse: (text: string) => T) =>
  (text: string | null): T | null =>
    text === null ? null : parse(text);
const dateOrNull = orNull(parseDate);
const moneyOrNull = orNull(parseMoney);
const decimalOrNull = orNull(parseExactDecimal);

/** The columns of a loan's terms, which the export's tape reads too. */
type TermColumns =
  | 'kind'
  | 'principal'
  | 'annual_rate_percent'
  | 'periodicity'
  | 'deferral_type'
  | 'method'
  | 'day_count'
  | 'rounding'
  | 'first_due_date';

/** A loan's terms from their stored text: the loan's row, the export's tape. */
export function rowToLoanTerms(
  row: Pick<Selectable<LoansTable>, TermColumns>,
): Pick<Loan, TermColumns> {
  return {
    kind: oneOf(LOAN_KINDS, row.kind, 'loans.kind'),
    principal: parseMoney(row.principal),
    annual_rate_percent: parseRate(row.annual_rate_percent),
    periodicity: oneOf(PERIODICITIES, row.periodicity, 'loans.periodicity'),
    deferral_type: oneOf(DEFERRAL_TYPES, row.deferral_type, 'loans.deferral_type'),
    method: oneOf(METHODS, row.method, 'loans.method'),
    day_count: oneOf(DAY_COUNTS, row.day_count, 'loans.day_count'),
    rounding: oneOf(ROUNDINGS, row.rounding, 'loans.rounding'),
    first_due_date: dateOrNull(row.first_due_date),
  };
}

export function rowToLoan(row: Selectable<LoansTable>): Loan {
  return {
    ...row,
    ...rowToLoanTerms(row),
    status: oneOf(LOAN_STATUSES, row.status, 'loans.status'),
    instalment_multiple: parseMoney(row.instalment_multiple),
    disbursement_date: parseDate(row.disbursement_date),
    disbursed_on: dateOrNull(row.disbursed_on),
    cancelled_on: dateOrNull(row.cancelled_on),
    outstanding_principal: parseMoney(row.outstanding_principal),
    repaid_on: dateOrNull(row.repaid_on),
    written_off_on: dateOrNull(row.written_off_on),
    written_off_principal: moneyOrNull(row.written_off_principal),
    current_annual_rate_percent: orNull(parseRate)(row.current_annual_rate_percent),
    leverage_bank_loans: parseMoney(row.leverage_bank_loans),
    leverage_grants: parseMoney(row.leverage_grants),
    rating_class:
      row.rating_class === null
        ? null
        : oneOf(RATING_CLASSES, row.rating_class, 'loans.rating_class'),
    collateral_class:
      row.collateral_class === null
        ? null
        : oneOf(COLLATERAL_CLASSES, row.collateral_class, 'loans.collateral_class'),
    legal_basis: oneOf(LEGAL_BASES, row.legal_basis, 'loans.legal_basis'),
    base_rate_percent: decimalOrNull(row.base_rate_percent),
    reference_rate_percent: decimalOrNull(row.reference_rate_percent),
    discount_rate_percent: decimalOrNull(row.discount_rate_percent),
    gross_grant_equivalent: moneyOrNull(row.gross_grant_equivalent),
  };
}

type Formats = { [K in keyof Loan]?: (value: NonNullable<Loan[K]>) => string };
const money = (amount: Money) => formatMoney(amount);
const decimal = (value: ExactDecimal) => value.toFixed();
/** How each column that is not stored as it is held is written (the others go as they are). */
const FORMATS = {
  principal: money,
  annual_rate_percent: formatRate,
  instalment_multiple: money,
  outstanding_principal: money,
  written_off_principal: money,
  current_annual_rate_percent: formatRate,
  leverage_bank_loans: money,
  leverage_grants: money,
  base_rate_percent: decimal,
  reference_rate_percent: decimal,
  discount_rate_percent: decimal,
  gross_grant_equivalent: money,
} satisfies Formats;

/** The members given, as stored: text where FORMATS writes them, null kept. */
export type LoanColumns<T> = {
  [K in keyof T]: K extends keyof typeof FORMATS
    ? null extends T[K]
      ? string | null
      : string
    : T[K];
};

/** A loan's columns as stored, from the members given (every write of a loan goes through it). */
export function loanColumns<T extends Partial<Loan>>(loan: T): LoanColumns<T> {
  return Object.fromEntries(
    Object.entries(loan).map(([column, value]) => {
      const format = (FORMATS as Formats)[column as keyof Loan] as
        ((v: unknown) => string) | undefined;
      return [column, format && value !== null && value !== undefined ? format(value) : value];
    }),
  ) as LoanColumns<T>;
}
