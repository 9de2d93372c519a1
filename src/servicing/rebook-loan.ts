import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { CalendarDate } from '../domain/dates';
import { COMPONENTS } from '../domain/allocation';
import type { JournalLine } from '../domain/ledger';
import { DomainError } from '../domain/errors';
import { cents, formatMoney, MAX_AMOUNT, parseMoney } from '../domain/money';
import { formatRate, parseRate } from '../domain/rate';
import type { DeferralType } from '../domain/schedule';
import { serviceLoan, type DesiredPosting, type PrepaymentChoice, type Servicing, type ServicingEvent } from '../domain/servicing';
import { postJournalEntry, reverseJournalEntry, standingEntriesOfLoan, type PostedEntry } from '../ledger/post-journal-entry';
import { instalmentView } from '../schedules/schedule.view';
import { originOf } from './loan-origin';
import {
  allocationsOfLoan, insertScheduleVersion, instalmentsOfVersion, restructuringsOfLoan, saveRepaymentOutcome, standingRepayments, updateLoanState,
  type AllocationRow, type InstalmentRow, type LoanRow, type RepaymentRow, type RestructuringRow,
} from './servicing.repository';

/** Why the loan is being rebooked: names the schedule version it may create. */
export type VersionReason = 'disbursement' | 'prepayment' | 'repayment' | 'reversal' | 'restructuring' | 'write_off';

export interface Cause {
  /** Fixed, or told by the outcome (a repayment that prepaid makes a "prepayment" version). */
  readonly reason: VersionReason | ((servicing: Servicing) => VersionReason);
  readonly effectiveDate: CalendarDate;
  /** The request field to blame when the new schedule's amounts would not fit numeric(14,2). */
  readonly field?: string;
}

export interface Rebooked {
  readonly loan: LoanRow;
  readonly servicing: Servicing;
  /** Whether the cause produced a new schedule version. */
  readonly newVersion: boolean;
}

/**
 * Brings a locked, disbursed loan in line with its history: replays every repayment, restructuring
 * and write-off, then stores what changed — allocations, a new schedule version, the journal entries
 * that differ (the old one reversed, the new one posted) and the loan's state. `today` dates the
 * outstanding principal the loan row shows.
 */
export async function rebookLoan(trx: Transaction<Database>, loan: LoanRow, cause: Cause, today: CalendarDate): Promise<Rebooked> {
  const repayments = await standingRepayments(trx, loan.id);
  const restructurings = await restructuringsOfLoan(trx, loan.id);
  const servicing = serviceLoan(originOf(loan), history(loan, repayments, restructurings));
  if (servicing.rows.some((row) => row.total > MAX_AMOUNT || row.balanceAfter > MAX_AMOUNT)) {
    throw new DomainError('rule_violation', 'The new schedule would hold amounts above the largest one (999999999999.99).', [
      { field: cause.field ?? 'amount', message: 'would make the schedule’s amounts too large: shorten the deferral' },
    ]);
  }

  await saveOutcomes(trx, repayments, await allocationsOfLoan(trx, loan.id), servicing);
  const current = await instalmentsOfVersion(trx, loan.id, loan.schedule_version);
  const rows = servicing.rows.map((row) => ({ loan_id: loan.id, version: loan.schedule_version + 1, ...instalmentView(row) }));
  const newVersion = !sameRows(current, rows);
  if (newVersion) {
    await insertScheduleVersion(trx, {
      loan_id: loan.id, version: loan.schedule_version + 1, reason: typeof cause.reason === 'function' ? cause.reason(servicing) : cause.reason, effective_date: cause.effectiveDate }, rows);
  }
  await postDifferences(trx, loan, servicing.postings);

  const updated = await updateLoanState(trx, loan.id, {
    status: servicing.status,
    repaid_on: servicing.status === 'repaid' ? servicing.closedOn : null,
    written_off_principal: servicing.status === 'written_off' ? formatMoney(servicing.writtenOffPrincipal) : null,
    restructured: servicing.restructured,
    schedule_version: loan.schedule_version + (newVersion ? 1 : 0),
    outstanding_principal: formatMoney(outstandingAsOf(loan, servicing.postings, today)),
    current_annual_rate_percent: formatRate(servicing.annualRate),
  });
  return { loan: updated, servicing, newVersion };
}

function history(loan: LoanRow, repayments: RepaymentRow[], restructurings: RestructuringRow[]): ServicingEvent[] {
  const timed: { at: [string, number, string]; event: ServicingEvent }[] = [
    ...repayments.map((r) => ({
      at: [r.value_date, r.created_at.getTime(), r.seq] as [string, number, string],
      event: { kind: 'repayment' as const, id: r.id, date: r.value_date as CalendarDate, amount: parseMoney(r.amount), prepayment: r.prepayment as PrepaymentChoice },
    })),
    ...restructurings.map((r) => ({ at: [r.effective_date, r.created_at.getTime(), r.seq] as [string, number, string], event: restructuringEvent(r) })),
  ];
  if (loan.written_off_on && loan.written_off_at) {
    timed.push({ at: [loan.written_off_on, loan.written_off_at.getTime(), ''], event: { kind: 'write_off', id: loan.id, date: loan.written_off_on as CalendarDate } });
  }
  const order = (a: (typeof timed)[number], b: (typeof timed)[number]) =>
    a.at[0].localeCompare(b.at[0]) || a.at[1] - b.at[1] || a.at[2].length - b.at[2].length || a.at[2].localeCompare(b.at[2]);
  return timed.sort(order).map((t) => t.event);
}

function restructuringEvent(r: RestructuringRow): ServicingEvent {
  const date = r.effective_date as CalendarDate;
  const base = { kind: 'restructuring' as const, id: r.id, date, capitaliseArrears: r.capitalise_arrears };
  if (r.type === 'moratorium') return { ...base, change: { type: 'moratorium', periods: r.periods!, deferralType: r.deferral_type as DeferralType } };
  if (r.type === 'extension') return { ...base, change: { type: 'extension', remainingPeriods: r.remaining_periods! } };
  return { ...base, change: { type: 'rate_change', annualRate: parseRate(r.annual_rate_percent!) } };
}

async function saveOutcomes(trx: Transaction<Database>, repayments: RepaymentRow[], stored: AllocationRow[], servicing: Servicing): Promise<void> {
  const storedBy = new Map<string, string>();
  for (const a of stored) storedBy.set(a.repayment_id, (storedBy.get(a.repayment_id) ?? '') + allocationKey(a));
  for (const repayment of repayments) {
    const outcome = servicing.outcomes.get(repayment.id)!;
    const split = {
      kind: outcome.recovered > 0n ? 'recovery' : 'repayment',
      principal_prepaid: formatMoney(outcome.principalPrepaid),
      excess: formatMoney(outcome.excess),
    };
    const allocations = outcome.allocations.map((a) => ({
      number: a.number, ...Object.fromEntries(COMPONENTS.map((c) => [c, formatMoney(a.amounts[c])])) as Record<(typeof COMPONENTS)[number], string>,
    }));
    const unchanged = split.kind === repayment.kind && parseMoney(split.principal_prepaid) === parseMoney(repayment.principal_prepaid)
      && parseMoney(split.excess) === parseMoney(repayment.excess)
      && (storedBy.get(repayment.id) ?? '') === allocations.map((a) => allocationKey(a)).join('');
    if (!unchanged) await saveRepaymentOutcome(trx, repayment.id, split, allocations);
  }
}

const allocationKey = (a: Omit<AllocationRow, 'repayment_id'>) =>
  `${a.number}:${COMPONENTS.map((c) => parseMoney(a[c]).toString()).join(',')};`;

function sameRows(stored: InstalmentRow[], wanted: InstalmentRow[]): boolean {
  const columns = ['principal', 'interest', 'total', 'balance_after', 'capitalised_interest'] as const;
  return stored.length === wanted.length && stored.every((row, k) => {
    const other = wanted[k]!;
    return row.number === other.number && row.due_date === other.due_date && columns.every((c) => parseMoney(row[c]) === parseMoney(other[c]));
  });
}

const sameLines = (a: readonly JournalLine[], b: readonly JournalLine[]) =>
  a.length === b.length && a.every((line, k) => line.account === b[k]!.account && line.debit === b[k]!.debit && line.credit === b[k]!.credit);

/** Posts what the history calls for and is not posted; reverses what is posted and no longer called for. */
async function postDifferences(trx: Transaction<Database>, loan: LoanRow, postings: readonly DesiredPosting[]): Promise<void> {
  const standing = await standingEntriesOfLoan(trx, loan.id);
  standing.delete('disbursement');
  const stale: PostedEntry[] = [];
  const fresh: DesiredPosting[] = [];
  for (const posting of postings) {
    const posted = standing.get(posting.source);
    standing.delete(posting.source);
    if (posted && posted.event === posting.event && posted.valueDate === posting.valueDate && sameLines(posted.lines, posting.lines)) continue;
    if (posted) stale.push(posted);
    fresh.push(posting);
  }
  stale.push(...standing.values());
  for (const entry of stale) await reverseJournalEntry(trx, loan.fund_id, loan.id, entry);
  for (const posting of fresh) {
    await postJournalEntry(trx, { fundId: loan.fund_id, loanId: loan.id, event: posting.event, valueDate: posting.valueDate, lines: posting.lines, source: posting.source });
  }
}

/** The loan's receivable as of a date: the disbursement, then every desired entry's effect on it. */
function outstandingAsOf(loan: LoanRow, postings: readonly DesiredPosting[], asOf: CalendarDate) {
  let balance = parseMoney(loan.principal) as bigint;
  for (const posting of postings) {
    if (posting.valueDate > asOf) continue;
    for (const line of posting.lines) if (line.account === 'loans_receivable') balance += line.debit - line.credit;
  }
  return cents(balance);
}
