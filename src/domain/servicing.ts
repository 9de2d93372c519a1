import { allocatePayment, total, type Allocation, type Amounts } from './allocation';
import type { CalendarDate } from './dates';
import {
  capitalisationLines,
  recoveryLines,
  repaymentLines,
  writeOffLines,
  type JournalLine,
} from './ledger';
import { cents, ZERO, type Money } from './money';
import { reschedulePrepayment, type KeptTerms } from './prepayment';
import type { Rate } from './rate';
import { restructure } from './restructure';
import type { DeferralType } from './schedule';
import {
  dueOf,
  leadingDeferrals,
  openingBalance,
  unpaidRow,
  type ServicedRow,
} from './serviced-rows';
import {
  capitalisedUpTo,
  closeAsRepaid,
  initialState,
  payRows,
  replaceRowsAfter,
  rowsKeptBy,
  writeOff,
  type LoanStatus,
  type ReplayState,
} from './servicing-state';

export type { ServicedRow } from './serviced-rows';

export const PREPAYMENT_CHOICES = ['reduce_instalment', 'reduce_term', 'pay_ahead'] as const;
export type PrepaymentChoice = (typeof PREPAYMENT_CHOICES)[number];

export type RestructuringChange =
  | { readonly type: 'moratorium'; readonly periods: number; readonly deferralType: DeferralType }
  /** A new number of periods after the effective date, or a new term (every instalment, those kept included). */
  | { readonly type: 'extension'; readonly remainingPeriods: number }
  | { readonly type: 'extension'; readonly termPeriods: number }
  | { readonly type: 'rate_change'; readonly annualRate: Rate };

/** What happens to a loan after disbursement, replayed in value-date order (then in the order recorded). */
export type ServicingEvent =
  | {
      readonly kind: 'repayment';
      readonly id: string;
      readonly date: CalendarDate;
      readonly amount: Money;
      readonly prepayment: PrepaymentChoice;
    }
  | {
      readonly kind: 'restructuring';
      readonly id: string;
      readonly date: CalendarDate;
      readonly change: RestructuringChange;
      readonly capitaliseArrears: boolean;
    }
  | { readonly kind: 'write_off'; readonly id: string; readonly date: CalendarDate };

/** The loan as disbursed: its terms, the day its due dates are anchored on, and schedule version 1. */
export interface LoanOrigin {
  readonly terms: KeptTerms;
  readonly principal: Money;
  readonly disbursedOn: CalendarDate;
  readonly anchorDay: number;
  readonly rows: readonly ServicedRow[];
}

export interface RepaymentOutcome {
  /** What it paid towards each instalment (instalments it only passed, at 0.00, are left out). */
  readonly allocations: readonly Allocation[];
  readonly principalPrepaid: Money;
  /** Beyond everything owed: owed back to the borrower. */
  readonly excess: Money;
  /** Received after a write-off. */
  readonly recovered: Money;
}

export type PostedEvent = 'repayment' | 'recovery' | 'capitalised_interest' | 'write_off';

/** A journal entry the loan's history calls for; `source` names what it stands for, stable across replays. */
export interface DesiredPosting {
  readonly source: string;
  readonly event: PostedEvent;
  readonly valueDate: CalendarDate;
  readonly lines: readonly JournalLine[];
}

export interface Servicing {
  readonly rows: readonly ServicedRow[];
  readonly paid: readonly Amounts[];
  readonly status: LoanStatus;
  /** The value date on which it was repaid or written off. */
  readonly closedOn: CalendarDate | null;
  readonly restructured: boolean;
  readonly annualRate: Rate;
  readonly writtenOffPrincipal: Money;
  readonly outcomes: ReadonlyMap<string, RepaymentOutcome>;
  /** What each restructuring with capitalise_arrears settled of the rows in arrears, by capitalising it. */
  readonly settlements: ReadonlyMap<string, readonly Allocation[]>;
  /** Restructurings and write-offs that found nothing to change (the loan was already closed, say). */
  readonly ignored: ReadonlySet<string>;
  /** Every entry after the disbursement's, in the order of the history. */
  readonly postings: readonly DesiredPosting[];
}

/**
 * Replays a disbursed loan's history (DOMAIN.md "Loan lifecycle and servicing"): allocates each
 * repayment, turns what remains into a prepayment, applies restructurings and a write-off, and says
 * which journal entries that history calls for. Replaying rather than patching state is what lets a
 * reversal or a back-dated repayment re-allocate every later repayment in value-date order.
 */
export function serviceLoan(origin: LoanOrigin, events: readonly ServicingEvent[]): Servicing {
  let state = initialState(origin.terms, origin.rows);
  const outcomes = new Map<string, RepaymentOutcome>();
  const ignored = new Set<string>();
  const postings: DesiredPosting[] = [];

  for (const event of events) {
    if (event.kind === 'repayment') {
      const repaid = repay(origin, state, event);
      state = repaid.state;
      outcomes.set(event.id, repaid.outcome);
      postings.push(repaymentPosting(event, repaid.outcome));
    } else if (state.status !== 'active') {
      ignored.add(event.id);
    } else if (event.kind === 'restructuring') {
      const restructured = restructure(origin, state, event);
      if (restructured === undefined) {
        ignored.add(event.id);
        continue;
      }
      state = restructured.state;
      if (restructured.capitalised > 0n)
        postings.push({
          source: `restructuring:${event.id}`,
          event: 'capitalised_interest',
          valueDate: event.date,
          lines: capitalisationLines(cents(restructured.capitalised)),
        });
    } else {
      // Rows capitalise once the replay ends (a payment may move the day): add those capitalised by then.
      const outstanding =
        outstandingPrincipal(origin.principal, postings, event.date) +
        capitalisedUpTo(state, event.date);
      state = writeOff(state, event.date, cents(outstanding));
      if (state.writtenOffPrincipal > 0n)
        postings.push({
          source: 'write_off',
          event: 'write_off',
          valueDate: event.date,
          lines: writeOffLines(state.writtenOffPrincipal),
        });
    }
  }
  postings.push(...capitalisationPostings(state));

  return {
    rows: state.rows,
    paid: state.paid,
    status: state.status,
    closedOn: state.closedOn,
    restructured: state.restructured,
    annualRate: state.terms.annualRate,
    writtenOffPrincipal: state.writtenOffPrincipal,
    outcomes,
    settlements: state.settlements,
    ignored,
    postings,
  };
}

/**
 * The principal owed as of `asOf`: `opening`, moved by what each posting dated by then debits or
 * credits to loans receivable (repayments, capitalisations, a write-off).
 */
export function outstandingPrincipal(
  opening: Money,
  postings: readonly DesiredPosting[],
  asOf: CalendarDate,
): Money {
  let balance: bigint = opening;
  for (const posting of postings) {
    if (posting.valueDate > asOf) continue;
    for (const line of posting.lines)
      if (line.account === 'loans_receivable') balance += line.debit - line.credit;
  }
  return cents(balance);
}

/** Each row's capitalised interest, on the day it capitalises (none after a write-off). */
function capitalisationPostings(state: ReplayState): DesiredPosting[] {
  const postings: DesiredPosting[] = [];
  state.rows.forEach((row, i) => {
    const on = state.capitalisedOn[i] ?? row.dueDate;
    if (row.capitalisedInterest === 0n || (state.status === 'written_off' && on > state.closedOn!))
      return;
    postings.push({
      source: `capitalisation:${row.dueDate}`,
      event: 'capitalised_interest',
      valueDate: on,
      lines: capitalisationLines(row.capitalisedInterest),
    });
  });
  return postings;
}

export function repaymentPosting(
  event: { id: string; date: CalendarDate; amount: Money },
  outcome: RepaymentOutcome,
): DesiredPosting {
  const source = `repayment:${event.id}`;
  if (outcome.recovered > 0n)
    return {
      source,
      event: 'recovery',
      valueDate: event.date,
      lines: recoveryLines(outcome.recovered),
    };
  let principal: bigint = outcome.principalPrepaid;
  let interest = 0n;
  for (const { amounts } of outcome.allocations) {
    principal += amounts.principal;
    interest += amounts.interest + amounts.late_interest + amounts.fees;
  }
  return {
    source,
    event: 'repayment',
    valueDate: event.date,
    lines: repaymentLines(event.amount, cents(principal), cents(interest), outcome.excess),
  };
}

function repay(
  origin: LoanOrigin,
  before: ReplayState,
  event: Extract<ServicingEvent, { kind: 'repayment' }>,
): { state: ReplayState; outcome: RepaymentOutcome } {
  const none = { allocations: [], principalPrepaid: ZERO, excess: ZERO, recovered: ZERO };
  if (before.status === 'written_off')
    return { state: before, outcome: { ...none, recovered: event.amount } };
  if (before.status === 'repaid')
    return { state: before, outcome: { ...none, excess: event.amount } };

  const instalments = before.rows.map((row, i) => ({
    number: row.number,
    dueDate: row.dueDate,
    due: dueOf(row),
    paid: before.paid[i]!,
    settled: before.settledByPayment[i]!,
  }));
  const { allocations, remainder } = allocatePayment(
    instalments,
    event.amount,
    event.date,
    event.prepayment === 'pay_ahead',
  );
  let state = payRows(before, allocations, event.date);

  let principalPrepaid = ZERO;
  let excess = remainder;
  if (remainder > 0n && event.prepayment !== 'pay_ahead')
    ({ state, principalPrepaid, excess } = prepay(
      origin,
      state,
      remainder,
      event.date,
      event.prepayment,
    ));
  if (state.rows.every((row, i) => unpaidRow(row, state.paid[i]!) === 0n))
    state = closeAsRepaid(state, event.date);
  return {
    state,
    outcome: {
      allocations: allocations.filter((a) => total(a.amounts) > 0n),
      principalPrepaid,
      excess,
      recovered: ZERO,
    },
  };
}

/** DOMAIN.md "Prepayment": what remains after the allocation reduces the principal of the rows not yet settled. */
function prepay(
  origin: LoanOrigin,
  state: ReplayState,
  amount: Money,
  date: CalendarDate,
  mode: 'reduce_instalment' | 'reduce_term',
): { state: ReplayState; principalPrepaid: Money; excess: Money } {
  const kept = rowsKeptBy(state, date);
  const remaining = state.rows.slice(kept);
  if (remaining.length === 0) return { state, principalPrepaid: ZERO, excess: amount };
  const deferrals = leadingDeferrals(remaining);
  const firstAmortising = remaining[deferrals.length]!;
  const result = reschedulePrepayment(
    state.terms,
    {
      start: kept === 0 ? origin.disbursedOn : state.rows[kept - 1]!.dueDate,
      dueDates: remaining.map((row) => row.dueDate),
      deferralAhead: deferrals.length,
      deferralTypes: deferrals,
      principal: openingBalance(state.rows, kept),
      level: state.terms.method === 'linear' ? firstAmortising.principal : firstAmortising.total,
    },
    amount,
    mode,
  );
  if (result.kind === 'repaid')
    return {
      state: replaceRowsAfter(state, kept, [], []),
      principalPrepaid: cents(amount - result.excess),
      excess: result.excess,
    };
  return {
    state: replaceRowsAfter(state, kept, result.schedule.rows, deferrals),
    principalPrepaid: amount,
    excess: ZERO,
  };
}
