import { COMPONENTS, NOTHING, type Allocation, type Amounts, type Component } from './allocation';
import type { CalendarDate } from './dates';
import { cents, ZERO, type Money } from './money';
import type { KeptTerms } from './prepayment';
import type { DeferralType, ScheduleRow } from './schedule';
import type { ServicedRow } from './serviced-rows';

export type LoanStatus = 'active' | 'repaid' | 'written_off';

/** The loan as the replay has it after each event; changed only by the functions below, each returning a new state. */
export interface ReplayState {
  readonly terms: KeptTerms;
  readonly rows: readonly ServicedRow[];
  readonly paid: readonly Amounts[];
  /** Reached by a payment (0.00 deferral periods included): such a row is settled, and kept by later versions. */
  readonly settledByPayment: readonly boolean[];
  /** A capitalising row settled before its due date capitalises on the day it is settled. */
  readonly capitalisedOn: readonly (CalendarDate | undefined)[];
  readonly status: LoanStatus;
  readonly closedOn: CalendarDate | null;
  readonly restructured: boolean;
  /** What each restructuring with capitalise_arrears settled of the rows in arrears. */
  readonly settlements: ReadonlyMap<string, readonly Allocation[]>;
  readonly writtenOffPrincipal: Money;
}

export function initialState(terms: KeptTerms, rows: readonly ServicedRow[]): ReplayState {
  return {
    terms,
    rows,
    paid: rows.map(() => NOTHING),
    settledByPayment: rows.map(() => false),
    capitalisedOn: rows.map(() => undefined),
    status: 'active',
    closedOn: null,
    restructured: false,
    settlements: new Map(),
    writtenOffPrincipal: ZERO,
  };
}

const addAmounts = (a: Amounts, b: Amounts): Amounts =>
  Object.fromEntries(COMPONENTS.map((c) => [c, cents(a[c] + b[c])])) as Record<Component, Money>;

const paidWith = (paid: readonly Amounts[], allocations: readonly Allocation[]): Amounts[] => {
  const next = [...paid];
  for (const { number, amounts } of allocations)
    next[number - 1] = addAmounts(next[number - 1]!, amounts);
  return next;
};

/** A payment on `date`: what it paid each row is added, and each row it reached is settled. */
export function payRows(
  state: ReplayState,
  allocations: readonly Allocation[],
  date: CalendarDate,
): ReplayState {
  const settledByPayment = [...state.settledByPayment];
  const capitalisedOn = [...state.capitalisedOn];
  for (const { number } of allocations) {
    const i = number - 1;
    settledByPayment[i] = true;
    if (state.rows[i]!.dueDate > date && capitalisedOn[i] === undefined) capitalisedOn[i] = date;
  }
  return {
    ...state,
    paid: paidWith(state.paid, allocations),
    settledByPayment,
    capitalisedOn,
  };
}

export const closeAsRepaid = (state: ReplayState, date: CalendarDate): ReplayState => ({
  ...state,
  status: 'repaid',
  closedOn: date,
});

export const writeOff = (
  state: ReplayState,
  date: CalendarDate,
  principal: Money,
): ReplayState => ({
  ...state,
  status: 'written_off',
  closedOn: date,
  writtenOffPrincipal: principal,
});

export const changeTerms = (state: ReplayState, terms: KeptTerms): ReplayState => ({
  ...state,
  terms,
});

/** A restructuring's capitalisation settles what the rows in arrears still owed. */
export function settleArrears(
  state: ReplayState,
  restructuringId: string,
  settled: readonly Allocation[],
): ReplayState {
  if (settled.length === 0) return state;
  return {
    ...state,
    paid: paidWith(state.paid, settled),
    settlements: new Map([...state.settlements, [restructuringId, settled]]),
  };
}

/** Puts new rows after the `kept` first ones, numbering them on; the new rows are neither paid nor settled. */
export function replaceRowsAfter(
  state: ReplayState,
  kept: number,
  newRows: readonly ScheduleRow[],
  deferrals: readonly DeferralType[],
): ReplayState {
  const renumbered = newRows.map((row, j) => ({
    ...row,
    number: kept + j + 1,
    deferral: deferrals[j] ?? null,
  }));
  return {
    ...state,
    rows: [...state.rows.slice(0, kept), ...renumbered],
    paid: [...state.paid.slice(0, kept), ...renumbered.map(() => NOTHING)],
    settledByPayment: [...state.settledByPayment.slice(0, kept), ...renumbered.map(() => false)],
    capitalisedOn: [...state.capitalisedOn.slice(0, kept), ...renumbered.map(() => undefined)],
  };
}

export const markRestructured = (state: ReplayState): ReplayState => ({
  ...state,
  restructured: true,
});

/** The rows a new version keeps: those due by `date` and those already settled in advance. */
export function rowsKeptBy(state: ReplayState, date: CalendarDate): number {
  let kept = 0;
  state.rows.forEach((row, i) => {
    if (row.dueDate <= date || state.settledByPayment[i]) kept = i + 1;
  });
  return kept;
}

/** Interest capitalised by `date`: each capitalising row on its due date, or earlier if settled earlier. */
export function capitalisedUpTo(state: ReplayState, date: CalendarDate): bigint {
  return state.rows.reduce(
    (sum, row, i) =>
      (state.capitalisedOn[i] ?? row.dueDate) <= date ? sum + row.capitalisedInterest : sum,
    0n,
  );
}
