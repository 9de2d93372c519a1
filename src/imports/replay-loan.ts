import type { Transaction } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../db/schema';
import type { CalendarDate } from '../domain/dates';
import { disbursementLines } from '../domain/ledger';
import { NOTHING, type Amounts } from '../domain/allocation';
import type { StandingRow } from '../domain/append-repayment';
import { cents, type Money } from '../domain/money';
import { buildSchedule } from '../domain/schedule';
import type { PrepaymentChoice, Servicing } from '../domain/servicing';
import { entryRows, type EntryRows, type PostedEntry } from '../ledger/post-journal-entry';
import { termsOfLoan } from '../loans/loan-terms';
import { loanView } from '../loans/loan.view';
import { instalmentsOf } from '../loans/instalments';
import { appendToHistory, type RecordedRepayment } from '../servicing/append-to-history';
import { rebookLoan, type Rebooked } from '../servicing/rebook-loan';
import { loanStateView, repaymentView } from '../servicing/repayment.view';
import { aidAtDisbursement, cachedBaseRate, type LoanAid } from '../state-aid/loan-aid';
import type {
  Instalment,
  LoanHistory,
  Loan,
  LoanStanding,
  Repayment,
  RepaymentAllocation,
} from '../servicing/loan-history';

/** A repayment of the file, canonical (the API's spelling), in the order it is entered. */
export interface ImportedRepayment {
  readonly amount: Money;
  readonly value_date: CalendarDate;
  readonly reference: string | null;
  readonly prepayment: PrepaymentChoice;
}

/** A change of the loan's audit stream, in order: hashed and chained when it is written. */
export interface LoanChange {
  readonly action: 'loan.created' | 'loan.disbursed' | 'repayment.recorded';
  readonly entityType: 'loan' | 'repayment';
  readonly entityId: string;
  readonly state: unknown;
}

/** Everything one loan's history leaves in the database, as rows to insert in bulk. */
export interface ReplayedLoan {
  /** The loan as its last step left it (what each step's loan write would have made of the row). */
  readonly loan: Loan;
  readonly versions: {
    loan_id: string;
    version: number;
    reason: string;
    effective_date: string;
    created_at: Date;
  }[];
  readonly instalments: Instalment[];
  /** In the order entered: the database numbers them (seq) in this order. */
  readonly repayments: Omit<Repayment, 'seq'>[];
  readonly allocations: RepaymentAllocation[];
  readonly journal: (EntryRows & { readonly at: Date })[];
  readonly changes: LoanChange[];
  /** The aid its disbursement granted (state aid, docs/state-aid.md). */
  readonly aidGrants: NonNullable<LoanAid['grants']>[number][];
}

/**
 * The instants a loan's rows are stamped with, strictly increasing: each step's versions and entries
 * take one (as a request's rows take its transaction's start), its repayment the next (as it takes the
 * request's clock later). The schedule of a replaced version counts the repayments made before the
 * next version by these instants, as it does for a loan entered by hand.
 */
function stepClock(): () => Date {
  let last = 0;
  return () => new Date((last = Math.max(Date.now(), last + 1)));
}

/**
 * A loan's history as hand entry through the API would make it — disbursed on its disbursement date
 * for its whole principal (disburseLoan), then each repayment in turn (recordRepayment) — by the same
 * functions: buildSchedule, rebookLoan and appendToHistory, fed from what the earlier steps produced
 * instead of from the database (nothing of the loan is stored yet). The created loan is the stored
 * row (pending, as POST /v1/loans leaves it); repayments come in value-date order, then line order.
 */
export async function replayLoan(
  trx: Transaction<Database>,
  created: Loan,
  repayments: readonly ImportedRepayment[],
  today: CalendarDate,
): Promise<ReplayedLoan> {
  const out: Omit<ReplayedLoan, 'loan'> = {
    versions: [],
    instalments: [],
    repayments: [],
    allocations: [],
    journal: [],
    changes: [],
    aidGrants: [],
  };
  const tick = stepClock();
  out.changes.push({
    action: 'loan.created',
    entityType: 'loan',
    entityId: created.id,
    state: loanView(created),
  });

  // disburseLoan: schedule version 1 from the actual date, the disbursement entry, then a rebooking
  // that posts the interest a total deferral capitalises.
  const date = created.disbursement_date;
  const terms = termsOfLoan(created, date);
  const firstSchedule = buildSchedule(terms).rows;
  const firstRows = instalmentsOf(created.id, 1, firstSchedule);
  // State aid (docs/state-aid.md): the GGE disburseLoan stores, by the same function.
  const aid = await aidAtDisbursement(trx, created, date, firstSchedule, cachedBaseRate);
  out.aidGrants.push(...(aid.grants ?? []));
  const disbursedAt = tick();
  out.versions.push({
    loan_id: created.id,
    version: 1,
    reason: 'disbursement',
    effective_date: date,
    created_at: disbursedAt,
  });
  out.instalments.push(...firstRows);
  const disbursement = entryRows({
    fundId: created.fund_id,
    loanId: created.id,
    event: 'disbursement',
    valueDate: date,
    lines: disbursementLines(terms.principal),
  });
  out.journal.push({ ...disbursement, at: disbursedAt });

  const state: LoanState = {
    loan: {
      ...created,
      status: 'active',
      disbursed_on: date,
      outstanding_principal: terms.principal,
      schedule_version: 1,
      ...aid.changes,
    },
    instalments: firstRows,
    repayments: [],
    allocations: [],
    entries: [standingEntry(disbursement)],
  };
  const booked = await rebookLoan(
    trx,
    state.loan,
    { reason: 'disbursement', effectiveDate: date },
    today,
    { history: historyOf(state) },
  );
  apply(state, out, booked, disbursedAt);
  out.changes.push({
    action: 'loan.disbursed',
    entityType: 'loan',
    entityId: created.id,
    state: loanView(state.loan),
  });

  for (const [k, line] of repayments.entries()) {
    const newRepayment = { id: uuidv7(), loan_id: created.id, ...line };
    const reason = (servicing: Servicing) =>
      (servicing.outcomes.get(newRepayment.id)?.principalPrepaid ?? 0n) > 0n
        ? 'prepayment'
        : 'repayment';
    const stepAt = tick();
    const recorded =
      appendToHistory(state.loan, standingOf(state), newRepayment, today) ??
      (await rebookLoan(trx, state.loan, { reason, effectiveDate: line.value_date }, today, {
        newRepayment,
        history: historyOf(state),
      }));
    const repayment = { ...recorded.repayment!, seq: String(k + 1), created_at: tick() };
    state.repayments.push(repayment);
    apply(state, out, recorded, stepAt);
    const view = {
      ...repaymentView(repayment, recorded.allocations),
      loan: loanStateView(recorded.loan),
    };
    out.changes.push({
      action: 'repayment.recorded',
      entityType: 'repayment',
      entityId: newRepayment.id,
      state: view,
    });
  }

  return {
    ...out,
    loan: state.loan,
    repayments: state.repayments.map(({ seq: _s, ...row }) => row),
    allocations: state.allocations,
  };
}

/** What the database would hold of the loan between two steps: what its next step reads. */
interface LoanState {
  loan: Loan;
  /** The current version's rows. */
  instalments: Instalment[];
  repayments: Repayment[];
  allocations: RepaymentAllocation[];
  /** Entries that stand: neither reversed nor reversals. */
  entries: PostedEntry[];
  /** Where the loan stands, derived from the rows above and kept while repayments are only appended (a replay drops it). */
  standing?: LoanStanding;
}

/** One step's results folded into the state, its new rows into the loan's output. */
function apply(
  state: LoanState,
  out: Omit<ReplayedLoan, 'loan'>,
  step: Rebooked | RecordedRepayment,
  at: Date,
): void {
  // Each step's loan write moves the revision on (loanStateWrite, outstandingWrite).
  state.loan = { ...step.loan, revision: state.loan.revision + 1 };
  if ('reallocated' in step) {
    for (const { id, split } of step.reallocated) {
      const k = state.repayments.findIndex((r) => r.id === id);
      state.repayments[k] = { ...state.repayments[k]!, ...split };
    }
    state.allocations = step.allocations; // every standing repayment's, the new one's included
    state.standing = undefined;
    if (step.schedule) {
      out.versions.push({ ...step.schedule.version, created_at: at });
      out.instalments.push(...step.schedule.instalments);
      state.instalments = step.schedule.instalments;
    }
  } else {
    state.allocations = [...state.allocations, ...step.allocations];
    if (state.standing) state.standing = appended(state.standing, step);
  }
  for (const posted of step.journal) {
    out.journal.push({ ...posted, at });
    if (posted.entry.reverses)
      state.entries = state.entries.filter((e) => e.id !== posted.entry.reverses);
    else state.entries.push(standingEntry(posted));
  }
}

const standingEntry = ({ entry, lines }: EntryRows): PostedEntry => ({
  id: entry.id,
  source: entry.source ?? entry.event,
  event: entry.event,
  valueDate: entry.value_date,
  lines,
});

function historyOf(state: LoanState): LoanHistory {
  return {
    repayments: state.repayments,
    restructurings: [],
    settlements: [],
    allocations: state.allocations,
    instalments: state.instalments,
    entries: state.entries,
  };
}

/** Where the loan stands, as lockLoanWithStandingQuery reads it (an import's loans are never restructured). */
function standingOf(state: LoanState): LoanStanding {
  if (state.standing) return state.standing;
  const paid = paidBy(state.allocations);
  const rows: StandingRow[] = state.instalments.map((i) => ({
    number: i.number,
    dueDate: i.due_date,
    interest: i.interest,
    principal: i.principal,
    capitalisedInterest: i.capitalised_interest,
    paid: paid.get(i.number) ?? NOTHING,
  }));
  const numbers = new Set(rows.map((row) => row.number));
  return (state.standing = {
    rows,
    paidOutsideVersion: [...paid.keys()].some((number) => !numbers.has(number)),
    lastRepaidOn: state.repayments.reduce<CalendarDate | null>(
      (last, r) => (last === null || r.value_date > last ? r.value_date : last),
      null,
    ),
    principalPrepaid: sumOf(state.repayments.map((r) => r.principal_prepaid)),
    totalPayable: sumOf(state.instalments.map((i) => i.total)),
    restructurings: 0,
  });
}

/** The standing after a repayment appended to it: what it paid added to its rows. */
function appended(standing: LoanStanding, step: RecordedRepayment): LoanStanding {
  const paid = paidBy(step.allocations);
  return {
    ...standing,
    rows: standing.rows.map((row) => {
      const more = paid.get(row.number);
      return more ? { ...row, paid: addAmounts(row.paid, more) } : row;
    }),
    lastRepaidOn: step.repayment.value_date,
    principalPrepaid: cents(standing.principalPrepaid + step.repayment.principal_prepaid),
  };
}

const sumOf = (amounts: readonly Money[]): Money =>
  cents(amounts.reduce((total, amount) => total + amount, 0n));

/** The sums allocations paid per instalment number. */
function paidBy(allocations: readonly (Amounts & { number: number })[]): Map<number, Amounts> {
  const paid = new Map<number, Amounts>();
  for (const a of allocations) paid.set(a.number, addAmounts(paid.get(a.number) ?? NOTHING, a));
  return paid;
}

const addAmounts = (a: Amounts, b: Amounts): Amounts => ({
  fees: cents(a.fees + b.fees),
  late_interest: cents(a.late_interest + b.late_interest),
  interest: cents(a.interest + b.interest),
  principal: cents(a.principal + b.principal),
});
