import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { Write } from '../db/writes';
import type { CalendarDate } from '../domain/dates';
import type { FieldError } from '../domain/errors';
import type { Money } from '../domain/money';
import { outstandingPrincipal, serviceLoan, type Servicing } from '../domain/servicing';
import { entryWrites, type EntryRows } from '../ledger/post-journal-entry';
import { journalChanges } from './journal-changes';
import { originOf } from './loan-origin';
import {
  reallocations,
  recordedRepayment,
  type NewRepayment,
  type Reallocation,
} from './repayment-outcomes';
import type { AllocationAmounts } from './servicing-rows';
import {
  checkScheduleFits,
  newScheduleVersion,
  type NewScheduleVersion,
  type VersionReason,
} from './schedule-version';
import { servicingEvents, UNSTORED_SEQ } from './servicing-events';
import {
  loanStateWrite,
  newRepaymentWrites,
  reallocationWrites,
  scheduleVersionWrites,
  settlementWrites,
  type Loan,
  type Repayment,
  type RepaymentAllocation,
} from './servicing.repository';
import { loadHistory, type LoanHistory } from './loan-history';
import { settlementChanges, type SettlementChange } from './settlement-changes';

export interface Cause {
  /** Fixed, or told by the outcome (a repayment that prepaid makes a "prepayment" version). */
  readonly reason: VersionReason | ((servicing: Servicing) => VersionReason);
  readonly effectiveDate: CalendarDate;
  /** What in the request to blame when the new schedule would not fit (amounts, length); `amount` by default. */
  readonly blame?: Omit<FieldError, 'message'>;
}

/** Everything a rebooking changes, as rows, and the same rows as `writes` to send in one statement. */
export interface Rebooked {
  /** The loan as it will be once `writes` are sent. */
  readonly loan: Loan;
  /** Every row below, to send with the use case's audit event in one statement (executeWrites). */
  readonly writes: Write[];
  readonly servicing: Servicing;
  /** Whether the cause produced a new schedule version. */
  readonly newVersion: boolean;
  /** The new repayment, not stored yet, and the allocations of every standing repayment. */
  readonly repayment?: Repayment;
  readonly allocations: RepaymentAllocation[];
  /** The journal entries to post (reversals included). */
  readonly journal: EntryRows[];
  readonly schedule?: NewScheduleVersion;
  /** Stored repayments the replay allocated anew. */
  readonly reallocated: Reallocation[];
  /** Restructurings whose arrears settlements the replay changed. */
  readonly settlements: SettlementChange[];
}

/**
 * Brings a locked, disbursed loan in line with its history: replays every repayment (and the new
 * one, if given), restructuring and write-off, and works out what changed — allocations, arrears
 * settlements, a new schedule version, the journal entries that differ (the old one reversed, the new
 * one posted) and the loan's state. Nothing is written here: the API's use cases send `writes` with
 * their audit event, an import stores the rows in bulk. `today` dates the outstanding principal the
 * loan row shows.
 */
export async function rebookLoan(
  trx: Transaction<Database>,
  loan: Loan,
  cause: Cause,
  today: CalendarDate,
  { newRepayment, history }: { newRepayment?: NewRepayment; history?: LoanHistory } = {},
): Promise<Rebooked> {
  const stored = history ?? (await loadHistory(trx, loan.id, loan.schedule_version));
  const origin = originOf(loan);
  const unstored = newRepayment ? [{ ...newRepayment, seq: UNSTORED_SEQ }] : [];
  const events = servicingEvents(loan, [...stored.repayments, ...unstored], stored.restructurings);
  const servicing = serviceLoan(origin, events);
  checkScheduleFits(servicing, cause.blame ?? { field: 'amount' });

  const { allocations, reallocated } = reallocations(stored, servicing);
  const recorded = newRepayment && recordedRepayment(servicing, newRepayment);
  if (recorded) allocations.push(...recorded.allocations);
  const reason = typeof cause.reason === 'function' ? cause.reason(servicing) : cause.reason;
  const schedule = newScheduleVersion(
    loan,
    reason,
    cause.effectiveDate,
    stored.instalments,
    servicing.rows,
  );
  const outstanding = outstandingPrincipal(origin.principal, servicing.postings, today);
  const changes = loanChanges(loan, stored, servicing, schedule !== undefined, outstanding);
  const rebooked = {
    loan: { ...loan, ...changes },
    servicing,
    newVersion: schedule !== undefined,
    allocations,
    journal: journalChanges(loan, stored.entries, servicing.postings),
    reallocated,
    settlements: settlementChanges(stored, servicing),
    ...(schedule ? { schedule } : {}),
    ...(recorded ? { repayment: recorded.repayment } : {}),
  };
  const writes = rebookingWrites(trx, {
    ...rebooked,
    newAllocations: recorded?.rows ?? [],
    changes,
  });
  return { ...rebooked, writes };
}

/** The loan row's columns a rebooking sets. */
function loanChanges(
  loan: Loan,
  stored: LoanHistory,
  servicing: Servicing,
  newVersion: boolean,
  outstanding: Money,
) {
  return {
    status: servicing.status,
    repaid_on: servicing.status === 'repaid' ? servicing.closedOn : null,
    written_off_principal:
      servicing.status === 'written_off' ? servicing.writtenOffPrincipal : null,
    // Once granted, forbearance stays on record, even if a back-dated payment left it nothing to change.
    restructured: servicing.restructured || stored.restructurings.length > 0,
    schedule_version: loan.schedule_version + (newVersion ? 1 : 0),
    outstanding_principal: outstanding,
    current_annual_rate_percent: servicing.annualRate,
  };
}

/** A rebooking's rows as writes that can go in one statement: no row is written twice. */
function rebookingWrites(
  trx: Transaction<Database>,
  rows: Omit<Rebooked, 'writes'> & {
    newAllocations: AllocationAmounts[];
    changes: Partial<Loan>;
  },
): Write[] {
  const writes: Write[] = [];
  for (const { id, split, rows: allocations, lostNumbers } of rows.reallocated)
    writes.push(...reallocationWrites(trx, id, split, allocations, lostNumbers));
  for (const { restructuringId, rows: settled, lostNumbers } of rows.settlements)
    writes.push(...settlementWrites(restructuringId, settled, lostNumbers));
  if (rows.repayment) {
    const { seq: _seq, ...repayment } = rows.repayment;
    writes.push(...newRepaymentWrites(repayment, rows.newAllocations));
  }
  if (rows.schedule)
    writes.push(...scheduleVersionWrites(trx, rows.schedule.version, rows.schedule.instalments));
  writes.push(...rows.journal.flatMap(entryWrites));
  writes.push(loanStateWrite(trx, rows.loan.id, rows.changes));
  return writes;
}
