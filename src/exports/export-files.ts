import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { ADMIN } from '../http/auth';
import { neutralisedSql } from '../http/csv';
import { getTrialBalance } from '../ledger/get-trial-balance';
import { trialBalanceView } from '../ledger/ledger.view';
import { loanFiles } from './loan-files';

/** How many rows each keyset page reads (the pool has no cursors: src/db/connect.ts preparingPool). */
const PAGE = 2000;
/** Journal entries a page: each has two to five lines. */
const ENTRY_PAGE = 1000;

const NO_UUID = '00000000-0000-0000-0000-000000000000';

export type Cell = string | number | boolean | null | undefined;

/** One CSV file of the bundle: its columns (the API's field names) and its rows, page by page, from the snapshot. */
export interface CsvFile {
  readonly name: string;
  readonly columns: readonly string[];
  rows(trx: Db): AsyncGenerator<Cell[][]>;
  /**
   * The same rows as one query whose columns are the file's cells, as text in the file's order (free
   * text through neutralisedSql): PostgreSQL's COPY … CSV writes them (src/db/copy-out.ts), not JS.
   */
  readonly copy?: RawBuilder<unknown>;
}

/** Two files made by one read of the snapshot: each page gives the first's rows and the second's (written after it, in the bundle's order). */
export interface CsvPair {
  readonly names: readonly [string, string];
  readonly columns: readonly [readonly string[], readonly string[]];
  pages(trx: Db): AsyncGenerator<readonly [Cell[][], Cell[][]]>;
}

/** A keyset page: the rows after the last one's key (undefined: from the first). */
interface Page<K> {
  readonly after: K | undefined;
}

/**
 * A file that is one query's rows, its columns named and ordered as the file's: `query()` is all
 * of them (for COPY), `query(page)` a keyset page of PAGE rows or so, which may add key columns
 * after the file's (for the pages of PGlite, which has no COPY here).
 */
function sqlFile<K>(
  name: string,
  columns: readonly string[],
  query: (page?: Page<K>) => RawBuilder<Record<string, Cell>>,
  keyOf: (row: Record<string, Cell>) => K,
): CsvFile {
  return {
    name,
    columns,
    copy: query(),
    rows: (trx) =>
      pages(
        async (after: Record<string, Cell> | undefined) =>
          (await query({ after: after && keyOf(after) }).execute(trx)).rows,
        (row) => columns.map((column) => row[column]),
      ),
  };
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
export function exportFiles(
  fundId: string,
  asOf: CalendarDate,
  auditCutoff: Date,
): (CsvFile | CsvPair)[] {
  const d = sql`${asOf}::date`;
  const fund = sql`${fundId}::uuid`;
  return [
    loanFiles(fundId, asOf),
    repaymentsFile(fund, d),
    journalFile(fund, d),
    trialBalanceFile(fundId, asOf),
    auditEventsFile(fund, auditCutoff),
  ];
}

/** Every repayment valued by the date, with what it allocated in all, reversed or not. */
function repaymentsFile(fund: RawBuilder<unknown>, d: RawBuilder<unknown>): CsvFile {
  return sqlFile(
    'repayments.csv',
    [
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
    // The repayments by their unique seq (an index scan), then each one's allocation: no sort of the whole table a page.
    (page?: Page<string>) => sql`
      SELECT r.id AS repayment_id, r.loan_id, r.value_date::text AS value_date, r.amount::numeric(20, 2)::text AS amount, r.kind, r.prepayment,
        ${neutralisedSql(sql`r.reference`)} AS reference,
        a.fees::numeric(20, 2)::text AS allocated_fees, a.late_interest::numeric(20, 2)::text AS allocated_late_interest,
        a.interest::numeric(20, 2)::text AS allocated_interest, a.principal::numeric(20, 2)::text AS allocated_principal,
        r.principal_prepaid::numeric(20, 2)::text AS principal_prepaid, r.excess::numeric(20, 2)::text AS excess,
        (r.reversed_at IS NOT NULL)::text AS reversed,
        to_char(r.reversed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS reversed_at, ${neutralisedSql(sql`r.reversal_reason`)} AS reversal_reason,
        to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at${page ? sql`, r.seq::text AS seq` : sql``}
      FROM (SELECT r.* FROM repayments r JOIN loans l ON l.id = r.loan_id WHERE l.fund_id = ${fund} AND r.value_date <= ${d}
        ${page ? sql`AND r.seq > ${page.after ?? '0'}::bigint ORDER BY r.seq LIMIT ${PAGE}` : sql``}) r
      CROSS JOIN LATERAL (SELECT coalesce(sum(a.fees), 0) AS fees, coalesce(sum(a.late_interest), 0) AS late_interest,
        coalesce(sum(a.interest), 0) AS interest, coalesce(sum(a.principal), 0) AS principal FROM allocations a WHERE a.repayment_id = r.id) a
      ORDER BY r.seq`,
    (row) => row.seq as string,
  );
}

/** Every line of every journal entry valued by the date. */
function journalFile(fund: RawBuilder<unknown>, d: RawBuilder<unknown>): CsvFile {
  return sqlFile(
    'journal.csv',
    [
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
    // Entries by id (an index scan), each with all its lines: no sort of the whole ledger a page.
    (page?: Page<string>) => sql`
      SELECT e.id AS entry_id, e.value_date::text AS value_date, e.event, e.loan_id, e.reverses, ${neutralisedSql(sql`e.source`)} AS source,
        jl.line, jl.account, jl.debit::numeric(20, 2)::text AS debit, jl.credit::numeric(20, 2)::text AS credit
      FROM (SELECT * FROM journal_entries e WHERE e.fund_id = ${fund} AND e.value_date <= ${d}
        ${page ? sql`AND e.id > ${page.after ?? NO_UUID}::uuid ORDER BY e.id LIMIT ${ENTRY_PAGE}` : sql``}) e
      JOIN journal_lines jl ON jl.entry_id = e.id
      ORDER BY e.id, jl.line`,
    (row) => row.entry_id as string,
  );
}

/** The trial balance as of the date, as GET /v1/funds/{id}/trial-balance gives it. */
function trialBalanceFile(fundId: string, asOf: CalendarDate): CsvFile {
  return {
    name: 'trial_balance.csv',
    columns: ['account', 'debits', 'credits', 'balance'],
    async *rows(trx) {
      const trial = trialBalanceView(await getTrialBalance(trx, ADMIN, fundId, asOf));
      yield trial.accounts.map((line) => [line.account, line.debits, line.credits, line.balance]);
    },
  };
}

/** The fund's audit events up to the cutoff, stream by stream. */
function auditEventsFile(fund: RawBuilder<unknown>, auditCutoff: Date): CsvFile {
  return sqlFile(
    'audit_events.csv',
    [
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
    (page?: Page<{ stream: string; seq: number }>) => sql`
      SELECT id AS event_id, stream, seq, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
        ${neutralisedSql(sql`actor_key_id`)} AS actor_key_id, ${neutralisedSql(sql`action`)} AS action,
        ${neutralisedSql(sql`entity_type`)} AS entity_type, entity_id, ${neutralisedSql(sql`request_id`)} AS request_id,
        ${neutralisedSql(sql`state::text`)} AS state, prev_hash, hash
      FROM audit_events
      WHERE fund_id = ${fund} AND date_trunc('milliseconds', occurred_at) <= ${auditCutoff.toISOString()}::timestamptz
        ${page ? sql`AND (stream, seq) > (${page.after?.stream ?? NO_UUID}::uuid, ${page.after?.seq ?? 0}::integer)` : sql``}
      ORDER BY stream, seq${page ? sql` LIMIT ${PAGE}` : sql``}`,
    (row) => ({ stream: row.stream as string, seq: row.seq as number }),
  );
}
