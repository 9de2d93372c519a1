import {
  allocatePayment,
  COMPONENTS,
  NOTHING,
  total,
  unpaidOf,
  type Allocation,
  type Amounts,
  type Component,
} from './allocation';
import { monthDate, monthIndex, type CalendarDate } from './dates';
import {
  capitalisationLines,
  recoveryLines,
  repaymentLines,
  writeOffLines,
  type JournalLine,
} from './ledger';
import { cents, ZERO, type Money } from './money';
import { firstPeriodIsWhole, MONTHS_PER_PERIOD, periodFractions } from './periods';
import { reschedulePrepayment, type KeptTerms } from './prepayment';
import type { Rate } from './rate';
import { amortise, type DeferralType, type ScheduleRow } from './schedule';

export type PrepaymentChoice = 'reduce_instalment' | 'reduce_term' | 'pay_ahead';

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

/** A schedule row and, for deferral periods, their type. */
export interface ServicedRow extends ScheduleRow {
  readonly deferral: DeferralType | null;
}

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
  readonly status: 'active' | 'repaid' | 'written_off';
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

interface Book {
  terms: KeptTerms;
  rows: ServicedRow[];
  paid: Amounts[];
  /** Touched by a payment (0.00 deferral periods included): such a row is settled, and kept by later versions. */
  touched: boolean[];
  /** A capitalising row settled before its due date capitalises on the day it is settled. */
  capitalisedOn: (CalendarDate | undefined)[];
  status: Servicing['status'];
  closedOn: CalendarDate | null;
  restructured: boolean;
  principalRepaid: bigint;
  arrearsCapitalised: bigint;
  settlements: Map<string, Allocation[]>;
  writtenOffPrincipal: Money;
}

const add = (a: Amounts, b: Amounts): Amounts =>
  Object.fromEntries(COMPONENTS.map((c) => [c, cents(a[c] + b[c])])) as Record<Component, Money>;
const dueOf = (row: ScheduleRow): Amounts => ({
  ...NOTHING,
  interest: row.interest,
  principal: row.principal,
});

/**
 * Replays a disbursed loan's history (DOMAIN.md "Loan lifecycle and servicing"): allocates each
 * repayment, turns what remains into a prepayment, applies restructurings and a write-off, and says
 * which journal entries that history calls for. Replaying rather than patching state is what lets a
 * reversal or a back-dated repayment re-allocate every later repayment in value-date order.
 */
export function serviceLoan(origin: LoanOrigin, events: readonly ServicingEvent[]): Servicing {
  const book: Book = {
    terms: origin.terms,
    rows: [...origin.rows],
    paid: origin.rows.map(() => NOTHING),
    touched: origin.rows.map(() => false),
    capitalisedOn: origin.rows.map(() => undefined),
    status: 'active',
    closedOn: null,
    restructured: false,
    principalRepaid: 0n,
    arrearsCapitalised: 0n,
    settlements: new Map(),
    writtenOffPrincipal: ZERO,
  };
  const outcomes = new Map<string, RepaymentOutcome>();
  const ignored = new Set<string>();
  const postings: DesiredPosting[] = [];

  for (const event of events) {
    if (event.kind === 'repayment') {
      const outcome = repay(origin, book, event);
      outcomes.set(event.id, outcome);
      postings.push(repaymentPosting(event, outcome));
    } else if (book.status !== 'active') {
      ignored.add(event.id);
    } else if (event.kind === 'restructuring') {
      const capitalised = restructure(origin, book, event);
      if (capitalised === undefined) ignored.add(event.id);
      else if (capitalised > 0n)
        postings.push({
          source: `restructuring:${event.id}`,
          event: 'capitalised_interest',
          valueDate: event.date,
          lines: capitalisationLines(cents(capitalised)),
        });
    } else {
      const outstanding = cents(
        origin.principal +
          capitalisedUpTo(book, event.date) +
          book.arrearsCapitalised -
          book.principalRepaid,
      );
      Object.assign(book, {
        status: 'written_off',
        closedOn: event.date,
        writtenOffPrincipal: outstanding,
      });
      if (outstanding > 0n)
        postings.push({
          source: 'write_off',
          event: 'write_off',
          valueDate: event.date,
          lines: writeOffLines(outstanding),
        });
    }
  }

  book.rows.forEach((row, i) => {
    const on = book.capitalisedOn[i] ?? row.dueDate;
    if (row.capitalisedInterest === 0n || (book.status === 'written_off' && on > book.closedOn!))
      return;
    postings.push({
      source: `capitalisation:${row.dueDate}`,
      event: 'capitalised_interest',
      valueDate: on,
      lines: capitalisationLines(row.capitalisedInterest),
    });
  });

  return {
    rows: book.rows,
    paid: book.paid,
    status: book.status,
    closedOn: book.closedOn,
    restructured: book.restructured,
    annualRate: book.terms.annualRate,
    writtenOffPrincipal: book.writtenOffPrincipal,
    outcomes,
    settlements: book.settlements,
    ignored,
    postings,
  };
}

function capitalisedUpTo(book: Book, date: CalendarDate): bigint {
  return book.rows.reduce(
    (sum, row, i) =>
      (book.capitalisedOn[i] ?? row.dueDate) <= date ? sum + row.capitalisedInterest : sum,
    0n,
  );
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
  book: Book,
  event: Extract<ServicingEvent, { kind: 'repayment' }>,
): RepaymentOutcome {
  const none = { allocations: [], principalPrepaid: ZERO, excess: ZERO, recovered: ZERO };
  if (book.status === 'written_off') return { ...none, recovered: event.amount };
  if (book.status === 'repaid') return { ...none, excess: event.amount };

  const states = book.rows.map((row, i) => ({
    number: row.number,
    dueDate: row.dueDate,
    due: dueOf(row),
    paid: book.paid[i]!,
    settled: book.touched[i]!,
  }));
  const { allocations, remainder } = allocatePayment(
    states,
    event.amount,
    event.date,
    event.prepayment === 'pay_ahead',
  );
  for (const { number, amounts } of allocations) {
    const i = number - 1;
    book.paid[i] = add(book.paid[i]!, amounts);
    book.touched[i] = true;
    if (book.rows[i]!.dueDate > event.date && book.capitalisedOn[i] === undefined)
      book.capitalisedOn[i] = event.date;
    book.principalRepaid += amounts.principal;
  }

  let principalPrepaid = ZERO;
  let excess = remainder;
  if (remainder > 0n && event.prepayment !== 'pay_ahead')
    ({ principalPrepaid, excess } = prepay(origin, book, remainder, event.date, event.prepayment));
  book.principalRepaid += principalPrepaid;
  if (
    book.rows.every(
      (row, i) =>
        unpaidOf({
          number: row.number,
          dueDate: row.dueDate,
          due: dueOf(row),
          paid: book.paid[i]!,
        }) === 0n,
    )
  ) {
    book.status = 'repaid';
    book.closedOn = event.date;
  }
  return {
    allocations: allocations.filter((a) => total(a.amounts) > 0n),
    principalPrepaid,
    excess,
    recovered: ZERO,
  };
}

/** The rows a new version keeps: those due by `date` and those already settled in advance. */
function keptCount(book: Book, date: CalendarDate): number {
  let kept = 0;
  book.rows.forEach((row, i) => {
    if (row.dueDate <= date || book.touched[i]) kept = i + 1;
  });
  return kept;
}

const leadingDeferrals = (rows: readonly ServicedRow[]): DeferralType[] => {
  const types: DeferralType[] = [];
  for (const row of rows) {
    if (row.deferral === null) break;
    types.push(row.deferral);
  }
  return types;
};

/** Puts new rows after the `kept` first ones, numbering them on. */
function replaceAfter(
  book: Book,
  kept: number,
  keptRows: readonly ServicedRow[],
  fresh: readonly ScheduleRow[],
  deferrals: readonly DeferralType[],
): void {
  const renumbered = fresh.map((row, j) => ({
    ...row,
    number: kept + j + 1,
    deferral: deferrals[j] ?? null,
  }));
  book.rows = [...keptRows, ...renumbered];
  book.paid = [...book.paid.slice(0, kept), ...renumbered.map(() => NOTHING)];
  book.touched = [...book.touched.slice(0, kept), ...renumbered.map(() => false)];
  book.capitalisedOn = [...book.capitalisedOn.slice(0, kept), ...renumbered.map(() => undefined)];
}

/**
 * The principal the rows from `from` on repay: the balance they open with. Not the balance after the
 * row before them, which a prepayment made since then has already reduced.
 */
const openingBalance = (rows: readonly ServicedRow[], from: number): Money => {
  const first = rows[from]!;
  return cents(first.balanceAfter + first.principal - first.capitalisedInterest);
};

/** DOMAIN.md "Prepayment": what remains after the allocation reduces the principal of the rows not yet settled. */
function prepay(
  origin: LoanOrigin,
  book: Book,
  amount: Money,
  date: CalendarDate,
  mode: 'reduce_instalment' | 'reduce_term',
): { principalPrepaid: Money; excess: Money } {
  const kept = keptCount(book, date);
  const remaining = book.rows.slice(kept);
  if (remaining.length === 0) return { principalPrepaid: ZERO, excess: amount };
  const deferrals = leadingDeferrals(remaining);
  const firstAmortising = remaining[deferrals.length]!;
  const result = reschedulePrepayment(
    book.terms,
    {
      start: kept === 0 ? origin.disbursedOn : book.rows[kept - 1]!.dueDate,
      dueDates: remaining.map((row) => row.dueDate),
      deferralAhead: deferrals.length,
      deferralTypes: deferrals,
      principal: openingBalance(book.rows, kept),
      level: book.terms.method === 'linear' ? firstAmortising.principal : firstAmortising.total,
    },
    amount,
    mode,
  );
  if (result.kind === 'repaid') {
    replaceAfter(book, kept, book.rows.slice(0, kept), [], []);
    return { principalPrepaid: cents(amount - result.excess), excess: result.excess };
  }
  replaceAfter(book, kept, book.rows.slice(0, kept), result.schedule.rows, deferrals);
  return { principalPrepaid: amount, excess: ZERO };
}

/**
 * DOMAIN.md "Restructuring": a new version replaces the rows falling due after the effective date
 * (those settled in advance stay), rescheduling the principal they would repay. Returns the interest
 * in arrears it capitalised, or undefined when nothing falls due after the date.
 */
function restructure(
  origin: LoanOrigin,
  book: Book,
  event: Extract<ServicingEvent, { kind: 'restructuring' }>,
): bigint | undefined {
  const kept = keptCount(book, event.date);
  const remaining = book.rows.slice(kept);
  if (remaining.length === 0) return undefined;
  const keptRows = book.rows.slice(0, kept);
  const { change } = event;
  const months = MONTHS_PER_PERIOD[book.terms.periodicity];
  const later = (date: CalendarDate, periods: number) =>
    monthDate(monthIndex(date) + periods * months, origin.anchorDay);
  const first = remaining[0]!.dueDate;
  let deferrals = leadingDeferrals(remaining);
  let dueDates = remaining.map((row) => row.dueDate);
  if (change.type === 'extension') {
    const periods =
      'remainingPeriods' in change ? change.remainingPeriods : change.termPeriods - kept;
    if (periods <= deferrals.length) return undefined;
    dueDates = Array.from({ length: periods }, (_, j) => later(first, j));
  }
  if (change.type === 'moratorium') {
    dueDates = [
      ...Array.from({ length: change.periods }, (_, j) => later(first, j)),
      ...dueDates.map((date) => later(date, change.periods)),
    ];
    deferrals = [
      ...Array.from({ length: change.periods }, () => change.deferralType),
      ...deferrals,
    ];
  }

  // Nothing changes before this point: an ignored restructuring leaves the book as it was.
  if (change.type === 'rate_change') book.terms = { ...book.terms, annualRate: change.annualRate };
  let capitalised = 0n;
  let moved = 0n;
  if (event.capitaliseArrears) {
    // Arrears join the rescheduled principal. The rows due by then keep their amounts (they were owed,
    // and in arrears, until this date); what they still owed is settled, on this date, by the capitalisation.
    const settled: Allocation[] = [];
    keptRows.forEach((row, i) => {
      const owed = cents(
        unpaidOf({
          number: row.number,
          dueDate: row.dueDate,
          due: dueOf(row),
          paid: book.paid[i]!,
        }),
      );
      if (row.dueDate > event.date || owed === 0n) return;
      const amounts = {
        ...NOTHING,
        principal: cents(row.principal - book.paid[i]!.principal),
        interest: cents(row.interest - book.paid[i]!.interest),
      };
      moved += amounts.principal;
      capitalised += amounts.interest;
      book.paid[i] = add(book.paid[i]!, amounts);
      settled.push({ number: row.number, amounts });
    });
    if (settled.length > 0) book.settlements.set(event.id, settled);
  }

  const start = kept === 0 ? origin.disbursedOn : book.rows[kept - 1]!.dueDate;
  const whole =
    kept > 0 || firstPeriodIsWhole(book.terms.periodicity, origin.disbursedOn, dueDates[0]!);
  const schedule = amortise({
    balance: cents(openingBalance(book.rows, kept) + moved + capitalised),
    dueDates,
    fractions: periodFractions(book.terms, start, dueDates, whole),
    deferralPeriods: deferrals.length,
    deferralType: deferrals[0] ?? book.terms.deferralType,
    deferralTypes: deferrals,
    method: book.terms.method,
    rounding: book.terms.rounding,
    instalmentMultiple: book.terms.instalmentMultiple,
  });
  replaceAfter(book, kept, keptRows, schedule.rows, deferrals);
  book.restructured = true;
  book.arrearsCapitalised += capitalised;
  return capitalised;
}
