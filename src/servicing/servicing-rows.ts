import type { Insertable, Selectable } from 'kysely';
import type {
  AllocationsTable,
  ArrearsSettlementsTable,
  MoratoriaTable,
  RepaymentsTable,
  RestructuringsTable,
} from '../db/schema';
import type { Amounts } from '../domain/allocation';
import { parseDate, type CalendarDate } from '../domain/dates';
import { journalLineOf, LEDGER_EVENTS } from '../domain/ledger';
import { formatMoney, parseMoney, type Money } from '../domain/money';
import { oneOf } from '../domain/one-of';
import { LOAN_KINDS, type LoanKind } from '../domain/product-ranges';
import { formatRate, parseRate, type Rate } from '../domain/rate';
import { DEFERRAL_TYPES, type DeferralType } from '../domain/schedule';
import { PREPAYMENT_CHOICES, type PrepaymentChoice } from '../domain/servicing';
import type { PostedEntry } from '../ledger/post-journal-entry';

/**
 * Servicing's stored facts as the application holds them: amounts, rates, dates and closed lists
 * parsed once, here, whether they come from a Kysely row or from the JSON of a one-trip read (its
 * timestamps are then ISO text); and the columns that store them, formatted once.
 */

export const REPAYMENT_KINDS = ['repayment', 'recovery'] as const;
export type RepaymentKind = (typeof REPAYMENT_KINDS)[number];
export const RESTRUCTURING_TYPES = ['moratorium', 'extension', 'rate_change'] as const;
export type RestructuringType = (typeof RESTRUCTURING_TYPES)[number];

/** A row whose timestamps may come as ISO text (the JSON of a one-trip read). */
export type Stamped<T> = Omit<T, 'created_at' | 'reversed_at'> & {
  readonly created_at: Date | string;
  readonly reversed_at?: Date | string | null;
};
const instant = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

export interface Repayment {
  readonly id: string;
  readonly loan_id: string;
  /** The order facts were recorded in (a bigint, as text). */
  readonly seq: string;
  readonly amount: Money;
  readonly value_date: CalendarDate;
  readonly reference: string | null;
  readonly prepayment: PrepaymentChoice;
  readonly kind: RepaymentKind;
  readonly principal_prepaid: Money;
  readonly excess: Money;
  readonly reversed_at: Date | null;
  readonly reversal_reason: string | null;
  readonly created_at: Date;
}

export function rowToRepayment(row: Stamped<Selectable<RepaymentsTable>>): Repayment {
  return {
    id: row.id,
    loan_id: row.loan_id,
    seq: row.seq,
    amount: parseMoney(row.amount),
    value_date: parseDate(row.value_date),
    reference: row.reference,
    prepayment: oneOf(PREPAYMENT_CHOICES, row.prepayment, 'repayments.prepayment'),
    kind: oneOf(REPAYMENT_KINDS, row.kind, 'repayments.kind'),
    principal_prepaid: parseMoney(row.principal_prepaid),
    excess: parseMoney(row.excess),
    reversed_at: row.reversed_at ? instant(row.reversed_at) : null,
    reversal_reason: row.reversal_reason,
    created_at: instant(row.created_at),
  };
}

/** What a replay decides of a repayment: whether it recovered a written-off loan, prepaid, or paid too much. */
export type RepaymentSplit = Pick<Repayment, 'kind' | 'principal_prepaid' | 'excess'>;

export const splitColumns = (split: RepaymentSplit) => ({
  kind: split.kind,
  principal_prepaid: formatMoney(split.principal_prepaid),
  excess: formatMoney(split.excess),
});

/** The columns that store a repayment; the database numbers it (seq). */
export function repaymentColumns(r: Omit<Repayment, 'seq'>): Insertable<RepaymentsTable> {
  return {
    id: r.id,
    loan_id: r.loan_id,
    amount: formatMoney(r.amount),
    value_date: r.value_date,
    reference: r.reference,
    prepayment: r.prepayment,
    ...splitColumns(r),
    reversed_at: r.reversed_at,
    reversal_reason: r.reversal_reason,
    created_at: r.created_at,
  };
}

/** What one repayment paid towards one instalment. */
export type RepaymentAllocation = {
  readonly repayment_id: string;
  readonly number: number;
} & Amounts;
export type AllocationAmounts = Omit<RepaymentAllocation, 'repayment_id'>;

export function rowToAllocation(row: Selectable<AllocationsTable>): RepaymentAllocation {
  return {
    repayment_id: row.repayment_id,
    number: row.number,
    fees: parseMoney(row.fees),
    late_interest: parseMoney(row.late_interest),
    interest: parseMoney(row.interest),
    principal: parseMoney(row.principal),
  };
}

export const allocationColumns = (a: RepaymentAllocation): Insertable<AllocationsTable> => ({
  repayment_id: a.repayment_id,
  number: a.number,
  fees: formatMoney(a.fees),
  late_interest: formatMoney(a.late_interest),
  interest: formatMoney(a.interest),
  principal: formatMoney(a.principal),
});

export interface Restructuring {
  readonly id: string;
  readonly loan_id: string;
  readonly seq: string;
  readonly type: RestructuringType;
  readonly effective_date: CalendarDate;
  readonly reason: string;
  readonly periods: number | null;
  readonly deferral_type: DeferralType | null;
  readonly remaining_periods: number | null;
  readonly term_periods: number | null;
  readonly annual_rate_percent: Rate | null;
  readonly capitalise_arrears: boolean;
  readonly moratorium_id: string | null;
  readonly schedule_version: number;
  readonly created_at: Date;
}

export function rowToRestructuring(row: Stamped<Selectable<RestructuringsTable>>): Restructuring {
  return {
    ...row,
    type: oneOf(RESTRUCTURING_TYPES, row.type, 'restructurings.type'),
    effective_date: parseDate(row.effective_date),
    deferral_type:
      row.deferral_type === null
        ? null
        : oneOf(DEFERRAL_TYPES, row.deferral_type, 'restructurings.deferral_type'),
    annual_rate_percent:
      row.annual_rate_percent === null ? null : parseRate(row.annual_rate_percent),
    created_at: instant(row.created_at),
  };
}

export const restructuringColumns = (
  r: Omit<Restructuring, 'seq' | 'created_at'>,
): Insertable<RestructuringsTable> => ({
  ...r,
  annual_rate_percent: r.annual_rate_percent === null ? null : formatRate(r.annual_rate_percent),
});

/** A moratorium declared on a fund's loans (of one kind, or all): the restructurings it made name it. */
export interface Moratorium {
  readonly id: string;
  readonly fund_id: string;
  readonly kind: LoanKind | null;
  readonly effective_date: CalendarDate;
  readonly periods: number;
  readonly deferral_type: DeferralType;
  readonly capitalise_arrears: boolean;
  readonly reason: string;
  readonly loans_changed: number;
  readonly loans_skipped: number;
  readonly created_at: Date;
}

export const rowToMoratorium = (row: Selectable<MoratoriaTable>): Moratorium => ({
  ...row,
  kind: row.kind === null ? null : oneOf(LOAN_KINDS, row.kind, 'moratoria.kind'),
  effective_date: parseDate(row.effective_date),
  deferral_type: oneOf(DEFERRAL_TYPES, row.deferral_type, 'moratoria.deferral_type'),
});

/** What a restructuring that capitalised arrears settled of one instalment. */
export interface Settlement {
  readonly restructuring_id: string;
  readonly number: number;
  readonly interest: Money;
  readonly principal: Money;
}

export const rowToSettlement = (row: Selectable<ArrearsSettlementsTable>): Settlement => ({
  restructuring_id: row.restructuring_id,
  number: row.number,
  interest: parseMoney(row.interest),
  principal: parseMoney(row.principal),
});

/** A journal entry of the loan that stands, as the one-trip read prints it: lines are [account, debit, credit]. */
export interface StoredEntry {
  readonly id: string;
  readonly source: string;
  readonly event: string;
  readonly value_date: string;
  readonly lines: [string, string, string][];
}

export const rowToPostedEntry = (row: StoredEntry): PostedEntry => ({
  id: row.id,
  source: row.source,
  event: oneOf(LEDGER_EVENTS, row.event, 'journal_entries.event'),
  valueDate: parseDate(row.value_date),
  lines: row.lines.map(journalLineOf),
});
