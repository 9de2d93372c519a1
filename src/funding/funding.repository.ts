import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, FundingSourcesTable } from '../db/schema';

export type FundingSourceRow = Selectable<FundingSourcesTable>;
export interface ShareRow { readonly loan_id: string; readonly funding_source_id: string; readonly percent: string }

export async function insertFundingSource(trx: Transaction<Database>, source: Omit<FundingSourceRow, 'created_at'>): Promise<FundingSourceRow> {
  return trx.insertInto('funding_sources').values(source).returningAll().executeTakeFirstOrThrow();
}

export async function findFundingSourceById(db: Db | Transaction<Database>, id: string): Promise<FundingSourceRow | undefined> {
  return db.selectFrom('funding_sources').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The source, locked until the transaction ends (an edit reads and writes it in one step). */
export async function lockFundingSource(trx: Transaction<Database>, id: string): Promise<FundingSourceRow | undefined> {
  return trx.selectFrom('funding_sources').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateFundingSourceRow(trx: Transaction<Database>, id: string, changes: Partial<Pick<FundingSourceRow, 'label' | 'amount_committed' | 'end_date'>>) {
  return trx.updateTable('funding_sources').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** A fund's sources, oldest first (a fund has a handful: the list is not paged). */
export async function listFundingSources(db: Db | Transaction<Database>, fundId: string): Promise<FundingSourceRow[]> {
  return db.selectFrom('funding_sources').selectAll().where('fund_id', '=', fundId).orderBy('created_at').orderBy('id').execute();
}

export async function listLoanShares(db: Db | Transaction<Database>, loanId: string): Promise<ShareRow[]> {
  return db.selectFrom('loan_funding_shares').select(['loan_id', 'funding_source_id', 'percent']).where('loan_id', '=', loanId).orderBy('funding_source_id').execute();
}

/** A loan's split, replaced as a whole. */
export async function replaceLoanShares(trx: Transaction<Database>, loanId: string, shares: readonly { sourceId: string; percent: string }[]): Promise<void> {
  await trx.deleteFrom('loan_funding_shares').where('loan_id', '=', loanId).execute();
  if (shares.length === 0) return;
  await trx.insertInto('loan_funding_shares').values(shares.map((s) => ({ loan_id: loanId, funding_source_id: s.sourceId, percent: s.percent }))).execute();
}

/** Every share of the fund's loans. */
export async function fundShares(db: Db, fundId: string): Promise<ShareRow[]> {
  return db.selectFrom('loan_funding_shares as s').innerJoin('loans as l', 'l.id', 's.loan_id')
    .select(['s.loan_id', 's.funding_source_id', 's.percent']).where('l.fund_id', '=', fundId).execute();
}

/** Per loan, its ledger's movements of loans receivable over [from, to] (docs/funding.md "The report by source"). */
export interface LoanFlows {
  readonly loan_id: string;
  readonly disbursed: string;
  readonly repaid: string;
  readonly written_off: string;
  readonly capitalised_interest: string;
  readonly outstanding_start: string;
  readonly outstanding_end: string;
  readonly outstanding_days: string;
}

/**
 * From the fund's ledger: each entry on loans receivable counts as the event it is (a reversal as the
 * entry it reverses, with the opposite sign). Over [from, to]: principal disbursed, repaid and written
 * off; the outstanding at the end of the day before `from` and at `to`; and Σ over each day d of
 * [from, to] of the outstanding at the end of d, which is Σ over entries valued by `to` of their net
 * amount × the days of [from, to] they count in (from max(value date, from) to `to`).
 */
export async function loanFlows(db: Db, fundId: string, from: string, to: string): Promise<LoanFlows[]> {
  const result = await sql<LoanFlows>`
    WITH lines AS (
      SELECT e.loan_id, e.value_date, coalesce(o.event, e.event) AS event, jl.debit - jl.credit AS net
      FROM journal_entries e JOIN journal_lines jl ON jl.entry_id = e.id LEFT JOIN journal_entries o ON o.id = e.reverses
      WHERE e.fund_id = ${fundId}::uuid AND e.loan_id IS NOT NULL AND jl.account = 'loans_receivable' AND e.value_date <= ${to}::date
    )
    SELECT loan_id,
      coalesce(sum(net) FILTER (WHERE event = 'disbursement' AND value_date >= ${from}::date), 0)::text AS disbursed,
      coalesce(-sum(net) FILTER (WHERE event = 'repayment' AND value_date >= ${from}::date), 0)::text AS repaid,
      coalesce(-sum(net) FILTER (WHERE event = 'write_off' AND value_date >= ${from}::date), 0)::text AS written_off,
      coalesce(sum(net) FILTER (WHERE event = 'capitalised_interest' AND value_date >= ${from}::date), 0)::text AS capitalised_interest,
      coalesce(sum(net) FILTER (WHERE value_date < ${from}::date), 0)::text AS outstanding_start,
      sum(net)::text AS outstanding_end,
      sum(net * (${to}::date - greatest(value_date, ${from}::date) + 1))::text AS outstanding_days
    FROM lines GROUP BY loan_id ORDER BY loan_id`.execute(db);
  return result.rows;
}

/** One supported enterprise (by SIREN, else RNA) of the EU indicators, with what counts for it. */
export interface SupportedEnterprise {
  readonly enterprise: string;
  readonly size_class: string | null;
  readonly jobs_created: string | null;
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
export async function supportedEnterprises(db: Db, filter: { fundIds: readonly string[]; from: string; to: string; sourceId?: string }): Promise<SupportedEnterprise[]> {
  const bySource = filter.sourceId === undefined
    ? sql`fs.origin IN ('erdf', 'esf_plus')`
    : sql`fs.id = ${filter.sourceId}::uuid`;
  const result = await sql<SupportedEnterprise>`
    WITH counted AS (
      SELECT DISTINCT l.id AS loan_id, l.structure_id, l.disbursed_on, coalesce(left(st.siret, 9), st.rna) AS enterprise
      FROM loans l
      JOIN structures st ON st.id = l.structure_id
      JOIN loan_funding_shares s ON s.loan_id = l.id
      JOIN funding_sources fs ON fs.id = s.funding_source_id
      WHERE l.fund_id = ANY(${filter.fundIds as string[]}::uuid[]) AND l.disbursed_on BETWEEN ${filter.from}::date AND ${filter.to}::date AND s.percent > 0 AND ${bySource}
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
  return result.rows;
}
