import { sql, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type {
  AllocationsTable,
  ArrearsSettlementsTable,
  Database,
  InstalmentsTable,
  RepaymentsTable,
  RestructuringsTable,
} from '../db/schema';
import { NOTHING, type Amounts } from '../domain/allocation';
import type { StandingRow } from '../domain/append-repayment';
import { parseDate, type CalendarDate } from '../domain/dates';
import { parseDecimalAmount, parseMoney, type Money } from '../domain/money';
import type { PostedEntry } from '../ledger/post-journal-entry';
import { rowToLoan, type Loan } from '../loans/loan-rows';
import { rowToInstalment, type Instalment } from '../loans/instalments';
import {
  rowToAllocation,
  rowToPostedEntry,
  rowToRepayment,
  rowToRestructuring,
  rowToSettlement,
  type Repayment,
  type RepaymentAllocation,
  type Restructuring,
  type Settlement,
  type Stamped,
  type StoredEntry,
} from './servicing-rows';

/**
 * A loan's history (what rebookLoan replays) and where it stands (what appendToHistory extends),
 * each read with the loan's lock in one round trip. The import's replay (src/imports/replay-loan.ts)
 * builds the same shapes in memory instead.
 */

export type { Instalment, Loan, Repayment, RepaymentAllocation };
/** The loan's columns as raw SQL reads them (l.*), before rowToLoan. */
type LoanRow = Selectable<Database['loans']>;

export interface LoanHistory {
  readonly settlements: Settlement[];
  readonly repayments: Repayment[];
  readonly restructurings: Restructuring[];
  readonly allocations: RepaymentAllocation[];
  readonly instalments: Instalment[];
  /** The loan's journal entries that stand: neither reversed nor reversals. */
  readonly entries: PostedEntry[];
}

/** The history as historyJson prints it: the tables' rows, timestamps as ISO text. */
interface StoredHistory {
  readonly settlements: Selectable<ArrearsSettlementsTable>[];
  readonly repayments: Stamped<Selectable<RepaymentsTable>>[];
  readonly restructurings: Stamped<Selectable<RestructuringsTable>>[];
  readonly allocations: Selectable<AllocationsTable>[];
  readonly instalments: Selectable<InstalmentsTable>[];
  readonly entries: StoredEntry[];
}

const rowsToHistory = (stored: StoredHistory): LoanHistory => ({
  settlements: stored.settlements.map(rowToSettlement),
  repayments: stored.repayments.map(rowToRepayment),
  restructurings: stored.restructurings.map(rowToRestructuring),
  allocations: stored.allocations.map(rowToAllocation),
  instalments: stored.instalments.map(rowToInstalment),
  entries: stored.entries.map(rowToPostedEntry),
});

/**
 * Everything a replay compares against, in one round trip (a repayment is the hottest write):
 * standing repayments, restructurings, current allocations, the current version's instalments, and
 * the loan's journal entries that stand (neither reversed nor reversals).
 */
export async function loadHistory(
  trx: Transaction<Database>,
  loanId: string,
  version: number,
): Promise<LoanHistory> {
  const { rows } = await sql<{
    history: StoredHistory;
  }>`SELECT ${historyJson(loanId, sql`${version}::integer`)} AS history`.execute(trx);
  return rowsToHistory(rows[0]!.history);
}

/**
 * Locks the loan and reads its history in one round trip. If the lock had to wait for another
 * change of the loan, the history was read before that change committed (one snapshot per
 * statement): the revision it saw then differs from the locked row's, and it is read again.
 */
export async function lockLoanWithHistory(
  trx: Transaction<Database>,
  loanId: string,
): Promise<{ loan: Loan; history: LoanHistory } | undefined> {
  const { rows } = await sql<LoanRow & { history: StoredHistory; seen_revision: number }>`
    SELECT l.*, ${historyJson(loanId, sql`l.schedule_version`)} AS history, (SELECT s.revision FROM loans s WHERE s.id = l.id) AS seen_revision
    FROM loans l WHERE l.id = ${loanId} FOR UPDATE OF l`.execute(trx);
  const row = rows[0];
  if (!row) return undefined;
  const { history, seen_revision: seen, ...loanRow } = row;
  const loan = rowToLoan(loanRow);
  const upToDate =
    seen === loan.revision
      ? rowsToHistory(history)
      : await loadHistory(trx, loanId, loan.schedule_version);
  return { loan, history: upToDate };
}

/** Where a loan stands as the statement below prints it (JSON of text): rowToStanding reads it. */
interface StoredStanding {
  /** [number, due date, principal, interest, capitalised interest], in number order. */
  readonly rows: [number, string, string, string, string][];
  /** [number, fees, late interest, interest, principal], each a sum. */
  readonly paid: [number, string, string, string, string][];
  readonly last_repaid_on: string | null;
  readonly principal_prepaid: string;
  readonly total_payable: string;
  readonly restructurings: number;
}

/**
 * Where a loan stands, read instead of its history when a repayment is appended to it (see
 * appendRepayment): the current version's rows with what the standing repayments' allocations paid
 * towards each, whether some allocation paid an instalment number the version lacks, the latest
 * value date of those repayments, the principal they prepaid, everything the version asks for, and
 * how many times the loan was restructured.
 */
export interface LoanStanding {
  readonly rows: readonly StandingRow[];
  readonly paidOutsideVersion: boolean;
  readonly lastRepaidOn: CalendarDate | null;
  readonly principalPrepaid: Money;
  readonly totalPayable: Money;
  readonly restructurings: number;
}

function rowToStanding(stored: StoredStanding): LoanStanding {
  // Sums go through the parser of any exact amount; stored columns through the amount parser.
  const paidBy = new Map<number, Amounts>(
    stored.paid.map(([number, fees, lateInterest, interest, principal]) => [
      number,
      {
        fees: parseDecimalAmount(fees),
        late_interest: parseDecimalAmount(lateInterest),
        interest: parseDecimalAmount(interest),
        principal: parseDecimalAmount(principal),
      },
    ]),
  );
  const rows = stored.rows.map(([number, dueDate, principal, interest, capitalised]) => ({
    number,
    dueDate: parseDate(dueDate),
    interest: parseMoney(interest),
    principal: parseMoney(principal),
    capitalisedInterest: parseMoney(capitalised),
    paid: paidBy.get(number) ?? NOTHING,
  }));
  const numbers = new Set(rows.map((row) => row.number));
  return {
    rows,
    paidOutsideVersion: [...paidBy.keys()].some((number) => !numbers.has(number)),
    lastRepaidOn: stored.last_repaid_on === null ? null : parseDate(stored.last_repaid_on),
    principalPrepaid: parseDecimalAmount(stored.principal_prepaid),
    totalPayable: parseDecimalAmount(stored.total_payable),
    restructurings: stored.restructurings,
  };
}

export type LockedStandingRow = LoanRow & { standing: StoredStanding; seen_revision: number };

/** Locks the loan and reads where it stands, in one statement, to run inside another (see claimKey); nothing unless `proceed`. */
export function lockLoanWithStandingQuery(
  loanId: string,
  proceed: RawBuilder<boolean>,
): RawBuilder<LockedStandingRow> {
  const standing = sql`r.loan_id = ${loanId} AND r.reversed_at IS NULL`;
  return sql<LockedStandingRow>`
    SELECT l.*, json_build_object(
      'rows', (SELECT coalesce(json_agg(json_build_array(i.number, i.due_date::text, i.principal::text, i.interest::text, i.capitalised_interest::text)
                 ORDER BY i.number), '[]')
               FROM instalments i WHERE i.loan_id = ${loanId} AND i.version = l.schedule_version),
      'paid', (SELECT coalesce(json_agg(json_build_array(p.number, p.fees::text, p.late_interest::text, p.interest::text, p.principal::text)), '[]')
               FROM (SELECT a.number, sum(a.fees) AS fees, sum(a.late_interest) AS late_interest, sum(a.interest) AS interest, sum(a.principal) AS principal
                     FROM allocations a JOIN repayments r ON r.id = a.repayment_id WHERE ${standing} GROUP BY a.number) p),
      'last_repaid_on', (SELECT max(r.value_date)::text FROM repayments r WHERE ${standing}),
      'principal_prepaid', (SELECT coalesce(sum(r.principal_prepaid), 0)::text FROM repayments r WHERE ${standing}),
      'total_payable', (SELECT coalesce(sum(i.total), 0)::text FROM instalments i WHERE i.loan_id = ${loanId} AND i.version = l.schedule_version),
      'restructurings', (SELECT count(*) FROM restructurings x WHERE x.loan_id = ${loanId})
    ) AS standing, (SELECT s.revision FROM loans s WHERE s.id = l.id) AS seen_revision
    FROM loans l WHERE l.id = ${loanId} AND ${proceed} FOR UPDATE OF l`;
}

/** The loan and where it stands, from a row of lockLoanWithStandingQuery; no standing if it was read before a change the lock waited for. */
export function lockedLoanStanding(
  row: LockedStandingRow | undefined,
): { loan: Loan; standing: LoanStanding | undefined } | undefined {
  if (!row) return undefined;
  const { standing, seen_revision: seen, ...loanRow } = row;
  const loan = rowToLoan(loanRow);
  return { loan, standing: seen === loan.revision ? rowToStanding(standing) : undefined };
}

/** Everything a replay compares against, as one JSON value (see loadHistory). */
function historyJson(loanId: string, version: RawBuilder<unknown>) {
  return sql`json_build_object(
    'repayments', (SELECT coalesce(json_agg(r ORDER BY r.value_date, r.seq), '[]') FROM (
      SELECT id, loan_id, seq::text AS seq, amount::text AS amount, value_date::text AS value_date, reference, prepayment, kind,
        principal_prepaid::text AS principal_prepaid, excess::text AS excess, reversed_at, reversal_reason, created_at
      FROM repayments WHERE loan_id = ${loanId} AND reversed_at IS NULL) r),
    'restructurings', (SELECT coalesce(json_agg(s ORDER BY s.effective_date, s.seq), '[]') FROM (
      SELECT id, loan_id, seq::text AS seq, type, effective_date::text AS effective_date, reason, periods, deferral_type, remaining_periods, term_periods,
        annual_rate_percent::text AS annual_rate_percent, capitalise_arrears, moratorium_id, schedule_version, created_at
      FROM restructurings WHERE loan_id = ${loanId}) s),
    'settlements', (SELECT coalesce(json_agg(t ORDER BY t.restructuring_id, t.number), '[]') FROM (
      SELECT s.restructuring_id, s.number, s.interest::text AS interest, s.principal::text AS principal
      FROM arrears_settlements s JOIN restructurings x ON x.id = s.restructuring_id WHERE x.loan_id = ${loanId}) t),
    'allocations', (SELECT coalesce(json_agg(a ORDER BY a.repayment_id, a.number), '[]') FROM (
      SELECT a.repayment_id, a.number, a.fees::text AS fees, a.late_interest::text AS late_interest, a.interest::text AS interest, a.principal::text AS principal
      FROM allocations a JOIN repayments r ON r.id = a.repayment_id WHERE r.loan_id = ${loanId} AND r.reversed_at IS NULL) a),
    'instalments', (SELECT coalesce(json_agg(i ORDER BY i.number), '[]') FROM (
      SELECT loan_id, version, number, due_date::text AS due_date, principal::text AS principal, interest::text AS interest, total::text AS total,
        balance_after::text AS balance_after, capitalised_interest::text AS capitalised_interest
      FROM instalments WHERE loan_id = ${loanId} AND version = ${version}) i),
    'entries', (SELECT coalesce(json_agg(e), '[]') FROM (
      SELECT e.id, coalesce(e.source, e.event) AS source, e.event, e.value_date::text AS value_date,
        (SELECT json_agg(json_build_array(l.account, l.debit::text, l.credit::text) ORDER BY l.line) FROM journal_lines l WHERE l.entry_id = e.id) AS lines
      FROM journal_entries e
      WHERE e.loan_id = ${loanId} AND e.reverses IS NULL AND NOT EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses = e.id)) e)
  )`;
}
