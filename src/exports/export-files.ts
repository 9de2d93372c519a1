import { sql } from 'kysely';
import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { cents, formatMoney } from '../domain/money';
import { normaliseRate } from '../domain/rate';
import { ADMIN } from '../http/auth';
import { getTrialBalance } from '../ledger/get-trial-balance';
import { trialBalanceView } from '../ledger/ledger.view';
import { loanStates } from './loan-states';

/** How many rows each keyset page reads (the pool has no cursors: src/db/connect.ts preparingPool). */
const PAGE = 2000;
/** Journal entries a page: each has two to five lines. */
const ENTRY_PAGE = 1000;

export type Cell = string | number | boolean | null | undefined;

/** One CSV file of the bundle: its columns (the API's field names) and its rows, page by page, from the snapshot. */
export interface CsvFile {
  readonly name: string;
  readonly columns: readonly string[];
  rows(trx: Db): AsyncGenerator<Cell[][]>;
}

/**
 * Pages of a keyset-paginated query, until one is empty: `read` gets the last row of the page before
 * (undefined at first). The next page is asked for before this one is handed over, so that the
 * database works while the page is written (two pages in memory at most).
 */
async function* pages<T>(
  read: (after: T | undefined) => Promise<T[]>,
  row: (item: T) => Cell[],
): AsyncGenerator<Cell[][]> {
  let next = read(undefined);
  for (;;) {
    const items = await next;
    if (items.length === 0) return;
    next = read(items.at(-1));
    next.catch(() => undefined); // awaited at the next turn; a failure then is the generator's
    yield items.map(row);
  }
}

/** The bundle's CSV files, in the order they are written; docs/exports.md describes each column. */
export function exportFiles(fundId: string, asOf: CalendarDate, auditCutoff: Date): CsvFile[] {
  const d = sql`${asOf}::date`;
  const fund = sql`${fundId}::uuid`;
  return [
    {
      name: 'loans.csv',
      columns: [
        'loan_id',
        'structure_id',
        'structure_name',
        'product_id',
        'product_name',
        'kind',
        'principal',
        'annual_rate_percent',
        'current_annual_rate_percent',
        'periodicity',
        'term_periods',
        'deferral_periods',
        'deferral_type',
        'method',
        'day_count',
        'rounding',
        'disbursed_on',
        'first_due_date',
        'schedule_version',
        'status',
        'outstanding_principal',
        'overdue_principal',
        'overdue_interest',
        'overdue_fees',
        'overdue_total',
        'overdue_instalments',
        'days_past_due',
        'restructured',
        'written_off',
        'written_off_on',
        'written_off_principal',
        'repaid_on',
      ],
      async *rows(trx) {
        for await (const page of loanStates(trx, fundId, asOf)) {
          yield page.map(
            ({ loan, outstanding, arrears: { overdue, overdueInstalments, daysPastDue } }) => [
              loan.id,
              loan.structure_id,
              loan.structure_name,
              loan.product_id,
              loan.product_name,
              loan.kind,
              loan.principal,
              normaliseRate(loan.annual_rate_percent),
              normaliseRate(loan.current_annual_rate_percent),
              loan.periodicity,
              loan.term_periods,
              loan.deferral_periods,
              loan.deferral_type,
              loan.method,
              loan.day_count,
              loan.rounding,
              loan.disbursed_on,
              loan.first_due_date,
              loan.schedule_version,
              loan.status,
              formatMoney(outstanding),
              formatMoney(overdue.principal),
              formatMoney(cents(overdue.interest + overdue.late_interest)),
              formatMoney(overdue.fees),
              formatMoney(
                cents(overdue.principal + overdue.interest + overdue.late_interest + overdue.fees),
              ),
              overdueInstalments,
              daysPastDue,
              loan.restructured,
              loan.status === 'written_off',
              loan.written_off_on,
              loan.written_off_principal,
              loan.repaid_on,
            ],
          );
        }
      },
    },
    {
      name: 'instalments.csv',
      columns: [
        'loan_id',
        'schedule_version',
        'number',
        'due_date',
        'principal',
        'interest',
        'total',
        'balance_after',
        'capitalised_interest',
        'paid',
        'paid_interest',
        'paid_principal',
        'status',
      ],
      async *rows(trx) {
        for await (const page of loanStates(trx, fundId, asOf, false)) {
          yield page.flatMap(({ loan, instalments, paid, statuses }) =>
            instalments.map((line, k) => [
              loan.id,
              loan.schedule_version,
              line.number,
              line.due_date,
              line.principal,
              line.interest,
              line.total,
              line.balance_after,
              line.capitalised_interest,
              formatMoney(cents(paid[k]!.interest + paid[k]!.principal)),
              formatMoney(paid[k]!.interest),
              formatMoney(paid[k]!.principal),
              statuses[k]!,
            ]),
          );
        }
      },
    },
    {
      name: 'repayments.csv',
      columns: [
        'repayment_id',
        'loan_id',
        'value_date',
        'amount',
        'kind',
        'prepayment',
        'reference',
        'allocated_fees',
        'allocated_late_interest',
        'allocated_interest',
        'allocated_principal',
        'principal_prepaid',
        'excess',
        'reversed',
        'reversed_at',
        'reversal_reason',
        'created_at',
      ],
      // The page of repayments first, by their unique seq (an index scan), then each one's allocation: no sort of the whole table a page.
      rows: (trx) =>
        pages(
          async (after: { seq: string } | undefined) =>
            (
              await sql<Record<string, string | null> & { seq: string }>`
        SELECT r.seq::text AS seq, r.id, r.loan_id, r.value_date::text AS value_date, r.amount::numeric(20, 2)::text AS amount, r.kind, r.prepayment, r.reference,
          a.fees::numeric(20, 2)::text AS fees, a.late_interest::numeric(20, 2)::text AS late_interest,
          a.interest::numeric(20, 2)::text AS interest, a.principal::numeric(20, 2)::text AS principal,
          r.principal_prepaid::numeric(20, 2)::text AS principal_prepaid, r.excess::numeric(20, 2)::text AS excess,
          to_char(r.reversed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS reversed_at, r.reversal_reason,
          to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
        FROM (SELECT r.* FROM repayments r JOIN loans l ON l.id = r.loan_id
          WHERE l.fund_id = ${fund} AND r.value_date <= ${d} AND r.seq > ${after?.seq ?? '0'}::bigint ORDER BY r.seq LIMIT ${PAGE}) r
        CROSS JOIN LATERAL (SELECT coalesce(sum(a.fees), 0) AS fees, coalesce(sum(a.late_interest), 0) AS late_interest,
          coalesce(sum(a.interest), 0) AS interest, coalesce(sum(a.principal), 0) AS principal FROM allocations a WHERE a.repayment_id = r.id) a
        ORDER BY r.seq`.execute(trx)
            ).rows,
          (r) => [
            r.id!,
            r.loan_id!,
            r.value_date!,
            r.amount!,
            r.kind!,
            r.prepayment!,
            r.reference,
            r.fees!,
            r.late_interest!,
            r.interest!,
            r.principal!,
            r.principal_prepaid!,
            r.excess!,
            r.reversed_at !== null,
            r.reversed_at,
            r.reversal_reason,
            r.created_at!,
          ],
        ),
    },
    {
      name: 'journal.csv',
      columns: [
        'entry_id',
        'value_date',
        'event',
        'loan_id',
        'reverses',
        'source',
        'line',
        'account',
        'debit',
        'credit',
      ],
      // Pages of entries (an index scan of their ids), each with all its lines: no sort of the whole ledger a page.
      rows: (trx) =>
        pages(
          async (after: { entry_id: string } | undefined) =>
            (
              await sql<Record<string, string | null> & { entry_id: string; line: number }>`
        SELECT e.id AS entry_id, e.value_date::text AS value_date, e.event, e.loan_id, e.reverses, e.source, jl.line, jl.account,
          jl.debit::numeric(20, 2)::text AS debit, jl.credit::numeric(20, 2)::text AS credit
        FROM (SELECT * FROM journal_entries e WHERE e.fund_id = ${fund} AND e.value_date <= ${d}
          AND e.id > ${after?.entry_id ?? '00000000-0000-0000-0000-000000000000'}::uuid ORDER BY e.id LIMIT ${ENTRY_PAGE}) e
        JOIN journal_lines jl ON jl.entry_id = e.id
        ORDER BY e.id, jl.line`.execute(trx)
            ).rows,
          (r) => [
            r.entry_id,
            r.value_date!,
            r.event!,
            r.loan_id,
            r.reverses,
            r.source,
            r.line,
            r.account!,
            r.debit!,
            r.credit!,
          ],
        ),
    },
    {
      name: 'trial_balance.csv',
      columns: ['account', 'debits', 'credits', 'balance'],
      async *rows(trx) {
        const trial = trialBalanceView(await getTrialBalance(trx, ADMIN, fundId, asOf));
        yield trial.accounts.map((line) => [line.account, line.debits, line.credits, line.balance]);
      },
    },
    {
      name: 'audit_events.csv',
      columns: [
        'event_id',
        'stream',
        'seq',
        'occurred_at',
        'actor_key_id',
        'action',
        'entity_type',
        'entity_id',
        'request_id',
        'state',
        'prev_hash',
        'hash',
      ],
      rows: (trx) =>
        pages(
          async (after: { stream: string; seq: number } | undefined) =>
            (
              await sql<Record<string, string | null> & { stream: string; seq: number }>`
        SELECT id, stream, seq, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at, actor_key_id, action,
          entity_type, entity_id, request_id, state::text AS state, prev_hash, hash
        FROM audit_events
        WHERE fund_id = ${fund} AND date_trunc('milliseconds', occurred_at) <= ${auditCutoff.toISOString()}::timestamptz
          AND (stream, seq) > (${after?.stream ?? '00000000-0000-0000-0000-000000000000'}::uuid, ${after?.seq ?? 0}::integer)
        ORDER BY stream, seq LIMIT ${PAGE}`.execute(trx)
            ).rows,
          (r) => [
            r.id!,
            r.stream,
            r.seq,
            r.occurred_at!,
            r.actor_key_id!,
            r.action!,
            r.entity_type!,
            r.entity_id!,
            r.request_id,
            r.state,
            r.prev_hash!,
            r.hash!,
          ],
        ),
    },
  ];
}
