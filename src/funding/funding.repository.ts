import { sql, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, FundingSourcesTable } from '../db/schema';
import { parseDate, type CalendarDate } from '../domain/dates';
import { parseExactDecimal, type ExactDecimal } from '../domain/exact-decimal';
import { storedPercent, type Percent } from '../domain/funding-split';
import { formatMoney, parseMoney, type Money } from '../domain/money';
import { oneOf } from '../domain/one-of';
import { ORIGINS, type Origin } from './funding-source-rules';

type Executor = Db | Transaction<Database>;

/** A resource of a fund (docs/funding.md), as the domain reads it. */
export interface FundingSource {
  readonly id: string;
  readonly fund_id: string;
  readonly origin: Origin;
  readonly programme_code: string | null;
  readonly priority: string | null;
  readonly label: string;
  readonly amount_committed: Money;
  readonly start_date: CalendarDate;
  readonly end_date: CalendarDate | null;
  readonly created_at: Date;
}

export function rowToFundingSource(row: Selectable<FundingSourcesTable>): FundingSource {
  return {
    ...row,
    origin: oneOf(ORIGINS, row.origin, 'funding_sources.origin'),
    amount_committed: parseMoney(row.amount_committed),
    start_date: parseDate(row.start_date),
    end_date: row.end_date === null ? null : parseDate(row.end_date),
  };
}

/** A loan's share in a source: its percentage exact (numeric(9,6), 6 decimals, so not a Rate's input form). */
export interface LoanShare {
  readonly loan_id: string;
  readonly funding_source_id: string;
  readonly percent: ExactDecimal;
}

export async function insertFundingSource(
  trx: Transaction<Database>,
  source: Omit<FundingSource, 'created_at'>,
): Promise<FundingSource> {
  const row = await trx
    .insertInto('funding_sources')
    .values({ ...source, amount_committed: formatMoney(source.amount_committed) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToFundingSource(row);
}

export async function findFundingSourceById(
  db: Executor,
  id: string,
): Promise<FundingSource | undefined> {
  const row = await db
    .selectFrom('funding_sources')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row && rowToFundingSource(row);
}

/** The source, locked until the transaction ends (an edit reads and writes it in one step). */
export async function lockFundingSource(
  trx: Transaction<Database>,
  id: string,
): Promise<FundingSource | undefined> {
  const row = await trx
    .selectFrom('funding_sources')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row && rowToFundingSource(row);
}

export async function updateFundingSourceRow(
  trx: Transaction<Database>,
  id: string,
  changes: Pick<FundingSource, 'label' | 'amount_committed' | 'end_date'>,
): Promise<FundingSource> {
  const row = await trx
    .updateTable('funding_sources')
    .set({ ...changes, amount_committed: formatMoney(changes.amount_committed) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToFundingSource(row);
}

/** A fund's sources, oldest first (a fund has a handful: the list is not paged). */
export async function listFundingSources(db: Executor, fundId: string): Promise<FundingSource[]> {
  const rows = await db
    .selectFrom('funding_sources')
    .selectAll()
    .where('fund_id', '=', fundId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(rowToFundingSource);
}

export async function listLoanShares(db: Executor, loanId: string): Promise<LoanShare[]> {
  const rows = await db
    .selectFrom('loan_funding_shares')
    .select(['loan_id', 'funding_source_id', 'percent'])
    .where('loan_id', '=', loanId)
    .orderBy('funding_source_id')
    .execute();
  return rows.map((row) => ({ ...row, percent: parseExactDecimal(row.percent) }));
}

/** A loan's split, replaced as a whole. */
export async function replaceLoanShares(
  trx: Transaction<Database>,
  loanId: string,
  shares: readonly { sourceId: string; percent: Percent }[],
): Promise<void> {
  await trx.deleteFrom('loan_funding_shares').where('loan_id', '=', loanId).execute();
  if (shares.length === 0) return;
  await trx
    .insertInto('loan_funding_shares')
    .values(
      shares.map((s) => ({
        loan_id: loanId,
        funding_source_id: s.sourceId,
        percent: storedPercent(s.percent),
      })),
    )
    .execute();
}

/** The figures of a loan's flows on loans receivable (docs/funding.md "The report by source"). */
export const FLOW_FIGURES = [
  'disbursed',
  'repaid',
  'written_off',
  'capitalised_interest',
  'outstanding_start',
  'outstanding_end',
  'outstanding_days',
] as const;
export type FlowFigure = (typeof FLOW_FIGURES)[number];
/**
 * Exact decimals, every digit kept: per source, Σ over its loans of figure × percent (not yet / 100),
 * up to 8 decimals, so not Money; for the others, sums of amounts.
 */
export type FlowSums<T = ExactDecimal> = Readonly<Record<FlowFigure, T>>;
export interface FlowsBySource<T = ExactDecimal> {
  readonly sources: readonly (FlowSums<T> & { readonly funding_source_id: string })[];
  /** The loans without a split, and all the loans: Σ of their figures (no percent). */
  readonly unallocated: FlowSums<T> & { readonly loan_count: number };
  readonly total: FlowSums<T> & { readonly loan_count: number };
}
/** FlowsBySource as flowsBySourceJson gives it: the sums as decimal text. */
export type FlowsBySourceRow = FlowsBySource<string>;

const flowSums = <S extends FlowSums<string>>(sums: S) => ({
  ...sums,
  ...(Object.fromEntries(FLOW_FIGURES.map((f) => [f, parseExactDecimal(sums[f])])) as FlowSums),
});
export const rowToFlowsBySource = (row: FlowsBySourceRow): FlowsBySource => ({
  sources: row.sources.map(flowSums),
  unallocated: flowSums(row.unallocated),
  total: flowSums(row.total),
});

/**
 * SQL, the one home of the rule: per loan of the fund, from its ledger. Each entry on loans
 * receivable counts as the event it is (a reversal as the entry it reverses, with the opposite sign).
 * Over [from, to]: principal disbursed, repaid and written off; the outstanding at the end of the day
 * before `from` and at `to`; and Σ over each day d of [from, to] of the outstanding at the end of d,
 * which is Σ over entries valued by `to` of their net amount × the days of [from, to] they count in
 * (from max(value date, from) to `to`). The resilience report reads its outstanding principal from
 * it too, in the same pass over the ledger.
 */
export function loanFlowsSql(
  fund: RawBuilder<unknown>,
  from: RawBuilder<unknown>,
  to: RawBuilder<unknown>,
) {
  return sql`
    SELECT x.loan_id,
      coalesce(sum(x.net) FILTER (WHERE x.event = 'disbursement' AND x.value_date >= ${from}), 0) AS disbursed,
      coalesce(-sum(x.net) FILTER (WHERE x.event = 'repayment' AND x.value_date >= ${from}), 0) AS repaid,
      coalesce(-sum(x.net) FILTER (WHERE x.event = 'write_off' AND x.value_date >= ${from}), 0) AS written_off,
      coalesce(sum(x.net) FILTER (WHERE x.event = 'capitalised_interest' AND x.value_date >= ${from}), 0) AS capitalised_interest,
      coalesce(sum(x.net) FILTER (WHERE x.value_date < ${from}), 0) AS outstanding_start,
      sum(x.net) AS outstanding_end,
      sum(x.net * (${to} - greatest(x.value_date, ${from}) + 1)) AS outstanding_days
    FROM (
      SELECT e.loan_id, e.value_date, coalesce(o.event, e.event) AS event, jl.debit - jl.credit AS net
      FROM journal_entries e JOIN journal_lines jl ON jl.entry_id = e.id LEFT JOIN journal_entries o ON o.id = e.reverses
      WHERE e.fund_id = ${fund} AND e.loan_id IS NOT NULL AND jl.account = 'loans_receivable' AND e.value_date <= ${to}
    ) x
    GROUP BY x.loan_id`;
}

const sumsOf = (expression: (figure: FlowFigure) => RawBuilder<unknown>) =>
  sql.join(FLOW_FIGURES.map((f) => sql`${f}::text, coalesce(${expression(f)}, 0)::text`));

/**
 * SQL, over a relation `flows` of loanFlowsSql's rows: FlowsBySource as JSON. A source's sums are
 * Σ figure × percent, exact (numeric multiplies exactly; the division by 100 is left to the caller,
 * in decimal.js, where a numeric division would round to its own scale).
 */
export const flowsBySourceJson = sql`json_build_object(
  'sources', (SELECT coalesce(json_agg(json_build_object('funding_source_id', x.funding_source_id, ${sumsOf((f) => sql.ref(`x.${f}`))})), '[]'::json)
    FROM (SELECT s.funding_source_id, ${sql.join(FLOW_FIGURES.map((f) => sql`sum(${sql.ref(`f.${f}`)} * s.percent) AS ${sql.ref(f)}`))}
      FROM flows f JOIN loan_funding_shares s ON s.loan_id = f.loan_id GROUP BY s.funding_source_id) x),
  'unallocated', (SELECT json_build_object('loan_count', count(*)::int, ${sumsOf((f) => sql`sum(${sql.ref(`f.${f}`)})`)}) FROM flows f
    WHERE NOT EXISTS (SELECT 1 FROM loan_funding_shares s WHERE s.loan_id = f.loan_id)),
  'total', (SELECT json_build_object('loan_count', count(*)::int, ${sumsOf((f) => sql`sum(${sql.ref(`f.${f}`)})`)}) FROM flows f))`;

/** The fund's flows over [from, to], by source (the live funding report's one statement). */
export async function fundFlowsBySource(
  db: Db,
  fundId: string,
  from: string,
  to: string,
): Promise<FlowsBySource> {
  const {
    rows: [row],
  } = await sql<{ flows: FlowsBySourceRow }>`
    WITH flows AS (${loanFlowsSql(sql`${fundId}::uuid`, sql`${from}::date`, sql`${to}::date`)})
    SELECT ${flowsBySourceJson} AS flows`.execute(db);
  return rowToFlowsBySource(row!.flows);
}

/** One supported enterprise (by SIREN, else RNA) of the EU indicators, with what counts for it. */
export interface SupportedEnterprise {
  readonly enterprise: string;
  readonly size_class: string | null;
  readonly jobs_created: ExactDecimal | null;
  readonly loan_count: number;
}

/**
 * The enterprises supported by the funds' loans disbursed in [from, to] that a programme co-finances:
 * a share above 0 in an EU source (erdf, esf_plus), or in the one source named. One row per
 * enterprise, whatever the number of its loans, structure records or funds: the key is its SIREN (the
 * first 9 digits of the SIRET), else its RNA number. Its size class: its most recently created
 * structure record's. Its jobs created: the `jobs_created` of its latest snapshot dated from its
 * first counted disbursement to `to` (the figure is cumulative: the latest says it all), null when
 * none was recorded.
 */
export async function supportedEnterprises(
  db: Db,
  filter: { fundIds: readonly string[]; from: string; to: string; sourceId?: string },
): Promise<SupportedEnterprise[]> {
  const bySource =
    filter.sourceId === undefined
      ? sql`fs.origin IN ('erdf', 'esf_plus')`
      : sql`fs.id = ${filter.sourceId}::uuid`;
  const result = await sql<
    Omit<SupportedEnterprise, 'jobs_created'> & { jobs_created: string | null }
  >`
    WITH counted AS (
      SELECT DISTINCT l.id AS loan_id, l.structure_id, l.disbursed_on, coalesce(left(st.siret, 9), st.rna) AS enterprise
      FROM loans l
      JOIN structures st ON st.id = l.structure_id
      JOIN loan_funding_shares s ON s.loan_id = l.id
      JOIN funding_sources fs ON fs.id = s.funding_source_id
      WHERE l.fund_id IN (${sql.join(filter.fundIds.map((id) => sql`${id}::uuid`))}) AND l.disbursed_on BETWEEN ${filter.from}::date AND ${filter.to}::date AND s.percent > 0 AND ${bySource}
    ), enterprises AS (
      SELECT enterprise, count(*)::int AS loan_count, min(disbursed_on) AS first_disbursed FROM counted GROUP BY enterprise
    )
    SELECT e.enterprise, e.loan_count,
      (SELECT st.size_class FROM structures st WHERE coalesce(left(st.siret, 9), st.rna) = e.enterprise
         AND st.id IN (SELECT c.structure_id FROM counted c WHERE c.enterprise = e.enterprise)
         ORDER BY st.created_at DESC, st.id DESC LIMIT 1) AS size_class,
      (SELECT i.jobs_created::text FROM impact_snapshots i
         WHERE i.structure_id IN (SELECT c.structure_id FROM counted c WHERE c.enterprise = e.enterprise)
           AND i.snapshot_date BETWEEN e.first_disbursed AND ${filter.to}::date
         ORDER BY i.snapshot_date DESC, i.created_at DESC LIMIT 1) AS jobs_created
    FROM enterprises e ORDER BY e.enterprise`.execute(db);
  return result.rows.map((row) => ({
    ...row,
    jobs_created: row.jobs_created === null ? null : parseExactDecimal(row.jobs_created),
  }));
}
