import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { CalendarDate } from '../domain/dates';
import { COMPONENTS, NOTHING, type Amounts } from '../domain/allocation';
import { ledgerChanges, type Account } from '../domain/ledger';
import { DomainError, type FieldError } from '../domain/errors';
import { cents, formatMoney, MAX_AMOUNT, parseMoney } from '../domain/money';
import { formatRate, parseRate } from '../domain/rate';
import type { DeferralType } from '../domain/schedule';
import { appendRepayment } from '../domain/append-repayment';
import {
  serviceLoan,
  type DesiredPosting,
  type PrepaymentChoice,
  type RepaymentOutcome,
  type Servicing,
  type ServicingEvent,
} from '../domain/servicing';
import {
  entryRows,
  entryWrites,
  reversalOf,
  type EntryRows,
  type LedgerEvent,
  type PostedEntry,
} from '../ledger/post-journal-entry';
import { instalmentView } from '../schedules/schedule.view';
import { originOf } from './loan-origin';
import type { Write } from '../db/writes';
import {
  loadHistory,
  loanStateWrite,
  newRepaymentWrites,
  outstandingWrite,
  replaceSettlements,
  saveRepaymentOutcome,
  scheduleVersionWrites,
  type AllocationRow,
  type InstalmentRow,
  type LoanHistory,
  type LoanRow,
  type LoanStanding,
  type RepaymentRow,
  type RestructuringRow,
  type SettlementRow,
  type StandingEntry,
} from './servicing.repository';

/** Why the loan is being rebooked: names the schedule version it may create. */
export type VersionReason =
  'disbursement' | 'prepayment' | 'repayment' | 'reversal' | 'restructuring' | 'write_off';

export interface Cause {
  /** Fixed, or told by the outcome (a repayment that prepaid makes a "prepayment" version). */
  readonly reason: VersionReason | ((servicing: Servicing) => VersionReason);
  readonly effectiveDate: CalendarDate;
  /** What in the request to blame when the new schedule would not fit (amounts, length); `amount` by default. */
  readonly blame?: Omit<FieldError, 'message'>;
}

export interface Rebooked {
  /** The loan as it will be once `writes` are sent. */
  readonly loan: LoanRow;
  /** What is left to store, to send with the use case's audit event in one statement (executeWrites). */
  readonly writes: Write[];
  readonly servicing: Servicing;
  /** Whether the cause produced a new schedule version. */
  readonly newVersion: boolean;
  /** The new repayment, stored, and the allocations of every standing repayment. */
  readonly repayment?: RepaymentRow;
  readonly allocations: AllocationRow[];
  /** The journal entries posted (reversals included), also in `writes`. */
  readonly journal: EntryRows[];
  /** The new schedule version, if any, also in `writes`. */
  readonly schedule?: NewScheduleVersion;
  /** Stored repayments the replay allocated anew: already rewritten, unless `deferRewrites` (then the caller's to store). */
  readonly reallocated: Reallocation[];
}

export interface NewScheduleVersion {
  readonly version: {
    loan_id: string;
    version: number;
    reason: VersionReason;
    effective_date: string;
  };
  readonly instalments: InstalmentRow[];
}

export interface Reallocation {
  readonly id: string;
  readonly split: Pick<RepaymentRow, 'kind' | 'principal_prepaid' | 'excess'>;
  readonly rows: Omit<AllocationRow, 'repayment_id'>[];
}

/** A repayment to record with the rebooking: replayed as the latest fact, then stored with its allocation. */
export type NewRepayment = Omit<
  RepaymentRow,
  'seq' | 'created_at' | 'reversed_at' | 'reversal_reason' | 'kind' | 'principal_prepaid' | 'excess'
>;

/**
 * Brings a locked, disbursed loan in line with its history: replays every repayment (and the new
 * one, if given), restructuring and write-off, and works out what changed — allocations, a new
 * schedule version, the journal entries that differ (the old one reversed, the new one posted) and
 * the loan's state. Re-allocations of stored repayments (rare) are written at once, unless
 * `deferRewrites` (an import, whose history is not stored yet); everything else is returned as writes
 * for the caller to send, with its audit event, in one statement. `today` dates the outstanding
 * principal the loan row shows.
 */
export async function rebookLoan(
  trx: Transaction<Database>,
  loan: LoanRow,
  cause: Cause,
  today: CalendarDate,
  {
    fresh,
    history: preloaded,
    deferRewrites = false,
  }: { fresh?: NewRepayment; history?: LoanHistory; deferRewrites?: boolean } = {},
): Promise<Rebooked> {
  const stored = preloaded ?? (await loadHistory(trx, loan.id, loan.schedule_version));
  const latest: RepaymentRow[] = fresh
    ? [
        {
          ...fresh,
          seq: LATEST,
          created_at: new Date(),
          reversed_at: null,
          reversal_reason: null,
          kind: 'repayment',
          principal_prepaid: '0.00',
          excess: '0.00',
        },
      ]
    : [];
  const servicing = serviceLoan(
    originOf(loan),
    history(loan, [...stored.repayments, ...latest], stored.restructurings),
  );
  const blame = cause.blame ?? { field: 'amount' };
  if (servicing.rows.some((row) => row.total > MAX_AMOUNT || row.balanceAfter > MAX_AMOUNT)) {
    throw new DomainError(
      'rule_violation',
      'The new schedule would hold amounts above the largest one (999999999999.99).',
      [
        {
          ...blame,
          message: 'would make the schedule’s amounts too large (above 999999999999.99)',
        },
      ],
    );
  }
  if (servicing.rows.length > MAX_SCHEDULE_ROWS) {
    throw new DomainError(
      'rule_violation',
      `The new schedule would have ${servicing.rows.length} instalments, more than ${MAX_SCHEDULE_ROWS}.`,
      [
        {
          ...blame,
          message: `would make the schedule longer than ${MAX_SCHEDULE_ROWS} instalments`,
        },
      ],
    );
  }

  const { allocations, reallocated } = outcomesOf(stored, servicing);
  if (!deferRewrites)
    for (const r of reallocated) await saveRepaymentOutcome(trx, r.id, r.split, r.rows);
  const writes: Write[] = await saveSettlements(trx, stored, servicing);
  let repayment: RepaymentRow | undefined;
  if (fresh) {
    const { split, rows } = outcomeRows(servicing, fresh.id);
    const { seq: _seq, ...row } = (repayment = {
      ...fresh,
      ...split,
      seq: LATEST,
      created_at: new Date(),
      reversed_at: null,
      reversal_reason: null,
    });
    writes.push(...newRepaymentWrites(row, rows));
    allocations.push(...rows.map((a) => ({ repayment_id: fresh.id, ...a })));
  }
  const rows = servicing.rows.map((row) => ({
    loan_id: loan.id,
    version: loan.schedule_version + 1,
    ...instalmentView(row),
  }));
  const newVersion = !sameRows(stored.instalments, rows);
  let schedule: NewScheduleVersion | undefined;
  if (newVersion) {
    schedule = {
      version: {
        loan_id: loan.id,
        version: loan.schedule_version + 1,
        reason: typeof cause.reason === 'function' ? cause.reason(servicing) : cause.reason,
        effective_date: cause.effectiveDate,
      },
      instalments: rows,
    };
    writes.push(...scheduleVersionWrites(trx, schedule.version, rows));
  }
  const journal = postingDifferences(loan, stored.entries, servicing.postings);
  writes.push(...journal.flatMap(entryWrites));

  const changes = {
    status: servicing.status,
    repaid_on: servicing.status === 'repaid' ? servicing.closedOn : null,
    written_off_principal:
      servicing.status === 'written_off' ? formatMoney(servicing.writtenOffPrincipal) : null,
    // Once granted, forbearance stays on record, even if a back-dated payment left it nothing to change.
    restructured: servicing.restructured || stored.restructurings.length > 0,
    schedule_version: loan.schedule_version + (newVersion ? 1 : 0),
    outstanding_principal: formatMoney(outstandingAsOf(loan, servicing.postings, today)),
    current_annual_rate_percent: formatRate(servicing.annualRate),
  };
  writes.push(loanStateWrite(trx, loan.id, changes));
  return {
    loan: { ...loan, ...changes },
    writes,
    servicing,
    newVersion,
    allocations,
    journal,
    reallocated,
    ...(schedule ? { schedule } : {}),
    ...(repayment ? { repayment } : {}),
  };
}

/** A repayment recorded, what is left to store, and the loan after it. */
export type RecordedRepayment = Pick<
  Rebooked,
  'loan' | 'writes' | 'allocations' | 'newVersion' | 'journal'
> & { readonly repayment: RepaymentRow };

/**
 * Records a repayment without replaying the loan's history, from where the loan stands (read under
 * its lock): when the loan is active, was never restructured nor written off, no standing repayment
 * is dated after this one, and appendRepayment finds that the repayment changes nothing but itself
 * (it pays what is due and the next instalment, no more, and does not repay the loan). That is the
 * common case, and it costs the same whatever the loan's history. Otherwise undefined: rebookLoan.
 */
export function appendToHistory(
  loan: LoanRow,
  standing: LoanStanding | undefined,
  fresh: NewRepayment,
): RecordedRepayment | undefined {
  if (
    !standing ||
    loan.status !== 'active' ||
    loan.written_off_on !== null ||
    standing.restructurings > 0
  )
    return undefined;
  if (standing.last_repaid_on !== null && standing.last_repaid_on > fresh.value_date)
    return undefined;
  const paidBy = new Map<number, Amounts>(
    standing.paid.map(([number, fees, lateInterest, interest, principal]) => [
      number,
      {
        fees: parseMoney(fees),
        late_interest: parseMoney(lateInterest),
        interest: parseMoney(interest),
        principal: parseMoney(principal),
      },
    ]),
  );
  const rows = standing.rows.map(([number, dueDate, principal, interest, capitalised]) => ({
    number,
    dueDate: dueDate as CalendarDate,
    interest: parseMoney(interest),
    principal: parseMoney(principal),
    capitalisedInterest: parseMoney(capitalised),
    paid: paidBy.get(number) ?? NOTHING,
  }));
  // An allocation to an instalment the current version does not have: replay.
  const numbers = new Set(rows.map((row) => row.number));
  if (standing.paid.some(([number]) => !numbers.has(number))) return undefined;
  const allocated = rows.reduce((sum, row) => sum + row.paid.principal, 0n);
  const appended = appendRepayment(rows, {
    id: fresh.id,
    date: fresh.value_date as CalendarDate,
    amount: parseMoney(fresh.amount),
    prepayment: fresh.prepayment as PrepaymentChoice,
  });
  if (!appended) return undefined;

  const { split, rows: allocations } = rowsOfOutcome(appended.outcome);
  const repayment: RepaymentRow = {
    ...fresh,
    ...split,
    seq: LATEST,
    created_at: new Date(),
    reversed_at: null,
    reversal_reason: null,
  };
  const { seq: _seq, ...row } = repayment;
  const principalPaid = appended.outcome.allocations.reduce(
    (sum, a) => sum + a.amounts.principal,
    0n,
  );
  // Never restructured, nothing capitalised: what is outstanding is the principal less every principal repaid.
  const changes = {
    outstanding_principal: formatMoney(
      cents(
        parseMoney(loan.principal) -
          allocated -
          parseMoney(standing.principal_prepaid) -
          principalPaid,
      ),
    ),
  };
  const { posting } = appended;
  const entry = entryRows({
    fundId: loan.fund_id,
    loanId: loan.id,
    event: posting.event,
    valueDate: posting.valueDate,
    lines: posting.lines,
    source: posting.source,
  });
  const writes = [
    ...newRepaymentWrites(row, allocations),
    ...entryWrites(entry),
    outstandingWrite(loan.id, changes.outstanding_principal),
  ];
  return {
    loan: { ...loan, ...changes },
    writes,
    newVersion: false,
    repayment,
    allocations: allocations.map((a) => ({ repayment_id: fresh.id, ...a })),
    journal: [entry],
  };
}

/** A hundred years of monthly instalments: beyond, a schedule is no longer a loan (and would not fit one INSERT). */
const MAX_SCHEDULE_ROWS = 1200;

/** Sorts after every stored fact: the new repayment is the last one recorded. */
const LATEST = '9'.repeat(30);

/** Facts of one date in the order they were recorded (one sequence numbers them all). */
const bySeq = (a: string, b: string) => a.length - b.length || a.localeCompare(b);

function history(
  loan: LoanRow,
  repayments: RepaymentRow[],
  restructurings: RestructuringRow[],
): ServicingEvent[] {
  const timed: { date: string; seq: string; event: ServicingEvent }[] = [
    ...repayments.map((r) => ({
      date: r.value_date,
      seq: r.seq,
      event: {
        kind: 'repayment' as const,
        id: r.id,
        date: r.value_date as CalendarDate,
        amount: parseMoney(r.amount),
        prepayment: r.prepayment as PrepaymentChoice,
      },
    })),
    ...restructurings.map((r) => ({
      date: r.effective_date,
      seq: r.seq,
      event: restructuringEvent(r),
    })),
  ];
  if (loan.written_off_on && loan.written_off_seq) {
    timed.push({
      date: loan.written_off_on,
      seq: loan.written_off_seq,
      event: { kind: 'write_off', id: loan.id, date: loan.written_off_on as CalendarDate },
    });
  }
  return timed
    .sort((a, b) => a.date.localeCompare(b.date) || bySeq(a.seq, b.seq))
    .map((t) => t.event);
}

function restructuringEvent(r: RestructuringRow): ServicingEvent {
  const date = r.effective_date as CalendarDate;
  const base = {
    kind: 'restructuring' as const,
    id: r.id,
    date,
    capitaliseArrears: r.capitalise_arrears,
  };
  if (r.type === 'moratorium')
    return {
      ...base,
      change: {
        type: 'moratorium',
        periods: r.periods!,
        deferralType: r.deferral_type as DeferralType,
      },
    };
  if (r.type === 'extension') {
    return {
      ...base,
      change:
        r.term_periods !== null
          ? { type: 'extension', termPeriods: r.term_periods }
          : { type: 'extension', remainingPeriods: r.remaining_periods! },
    };
  }
  return {
    ...base,
    change: { type: 'rate_change', annualRate: parseRate(r.annual_rate_percent!) },
  };
}

const outcomeRows = (servicing: Servicing, repaymentId: string) =>
  rowsOfOutcome(servicing.outcomes.get(repaymentId)!);

function rowsOfOutcome(outcome: RepaymentOutcome) {
  const split = {
    kind: outcome.recovered > 0n ? 'recovery' : 'repayment',
    principal_prepaid: formatMoney(outcome.principalPrepaid),
    excess: formatMoney(outcome.excess),
  };
  const rows = outcome.allocations.map((a) => ({
    number: a.number,
    ...(Object.fromEntries(COMPONENTS.map((c) => [c, formatMoney(a.amounts[c])])) as Record<
      (typeof COMPONENTS)[number],
      string
    >),
  }));
  return { split, rows };
}

/** Every standing repayment's allocations, and the repayments the replay allocated differently from how they are stored. */
function outcomesOf(
  stored: LoanHistory,
  servicing: Servicing,
): { allocations: AllocationRow[]; reallocated: Reallocation[] } {
  const storedBy = new Map<string, string>();
  for (const a of stored.allocations)
    storedBy.set(a.repayment_id, (storedBy.get(a.repayment_id) ?? '') + allocationKey(a));
  const all: AllocationRow[] = [];
  const reallocated: Reallocation[] = [];
  for (const repayment of stored.repayments) {
    const { split, rows } = outcomeRows(servicing, repayment.id);
    all.push(...rows.map((row) => ({ repayment_id: repayment.id, ...row })));
    const unchanged =
      split.kind === repayment.kind &&
      sameAmount(split.principal_prepaid, repayment.principal_prepaid) &&
      sameAmount(split.excess, repayment.excess) &&
      (storedBy.get(repayment.id) ?? '') === rows.map((a) => allocationKey(a)).join('');
    if (!unchanged) reallocated.push({ id: repayment.id, split, rows });
  }
  return { allocations: all, reallocated };
}

/** The arrears settlements the replay calls for, where they differ from those stored. */
async function saveSettlements(
  trx: Transaction<Database>,
  stored: LoanHistory,
  servicing: Servicing,
): Promise<Write[]> {
  const key = (rows: readonly { number: number; interest: string; principal: string }[]) =>
    rows.map((r) => `${r.number}:${parseMoney(r.interest)}:${parseMoney(r.principal)}`).join(';');
  const storedBy = new Map<string, SettlementRow[]>();
  for (const row of stored.settlements)
    storedBy.set(row.restructuring_id, [...(storedBy.get(row.restructuring_id) ?? []), row]);
  const writes: Write[] = [];
  for (const restructuring of stored.restructurings) {
    const wanted = (servicing.settlements.get(restructuring.id) ?? []).map((s) => ({
      number: s.number,
      interest: formatMoney(s.amounts.interest),
      principal: formatMoney(s.amounts.principal),
    }));
    const had = storedBy.get(restructuring.id) ?? [];
    if (key(had) !== key(wanted))
      writes.push(...(await replaceSettlements(trx, restructuring.id, had.length > 0, wanted)));
  }
  return writes;
}

/** Amounts as PostgreSQL prints numeric(14, 2) and as formatMoney writes them are the same text: compare that first. */
const sameAmount = (a: string, b: string) => a === b || parseMoney(a) === parseMoney(b);
const canonical = (amount: string) =>
  /^\d+\.\d\d$/.test(amount) && !/^0\d/.test(amount) ? amount : formatMoney(parseMoney(amount));

const allocationKey = (a: Omit<AllocationRow, 'repayment_id'>) =>
  `${a.number}:${COMPONENTS.map((c) => canonical(a[c])).join(',')};`;

function sameRows(stored: InstalmentRow[], wanted: InstalmentRow[]): boolean {
  const columns = [
    'principal',
    'interest',
    'total',
    'balance_after',
    'capitalised_interest',
  ] as const;
  return (
    stored.length === wanted.length &&
    stored.every((row, k) => {
      const other = wanted[k]!;
      return (
        row.number === other.number &&
        row.due_date === other.due_date &&
        columns.every((c) => sameAmount(row[c], other[c]))
      );
    })
  );
}

/** The entries the history calls for that are not posted, and the reversals of those posted that it no longer calls for. */
function postingDifferences(
  loan: LoanRow,
  entries: readonly StandingEntry[],
  postings: readonly DesiredPosting[],
): EntryRows[] {
  const { stale, fresh } = ledgerChanges(
    entries.map(postedEntry).filter((entry) => entry.source !== 'disbursement'),
    postings,
  );
  return [
    ...stale.map((entry) => reversalOf(loan.fund_id, loan.id, entry)),
    ...fresh.map((posting) =>
      entryRows({
        fundId: loan.fund_id,
        loanId: loan.id,
        event: posting.event,
        valueDate: posting.valueDate,
        lines: posting.lines,
        source: posting.source,
      }),
    ),
  ];
}

const postedEntry = (entry: StandingEntry): PostedEntry => ({
  id: entry.id,
  source: entry.source,
  event: entry.event as LedgerEvent,
  valueDate: entry.value_date,
  lines: entry.lines.map(([account, debit, credit]) => ({
    account: account as Account,
    debit: parseMoney(debit),
    credit: parseMoney(credit),
  })),
});

/** The loan's receivable as of a date: the disbursement, then every desired entry's effect on it. */
function outstandingAsOf(loan: LoanRow, postings: readonly DesiredPosting[], asOf: CalendarDate) {
  let balance = parseMoney(loan.principal) as bigint;
  for (const posting of postings) {
    if (posting.valueDate > asOf) continue;
    for (const line of posting.lines)
      if (line.account === 'loans_receivable') balance += line.debit - line.credit;
  }
  return cents(balance);
}
