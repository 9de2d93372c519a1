import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connect';
import { paidSql } from '../db/unpaid-sql';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import {
  figuresBySourceSinceInception,
  flowsBySourceJson,
  listFundingSources,
  loanFlowsSql,
  rowToFlowsBySource,
  type FlowsBySourceRow,
} from '../funding/funding-figures';
import {
  reportIndicatorsView,
  statementFigures,
  type AsText,
  type ReportFigures,
  type ReportIndicators,
  type StatementFigures,
} from './report-figures';

export type { ReportIndicators } from './report-figures';

/** Arrears ageing buckets by days past due (DOMAIN.md "Resilience reporting"), in their order. */
export const AGEING_BUCKETS = [
  { key: 'current', fromDays: 0, toDays: 0 },
  { key: '1_30', fromDays: 1, toDays: 30 },
  { key: '31_60', fromDays: 31, toDays: 60 },
  { key: '61_90', fromDays: 61, toDays: 90 },
  { key: '91_180', fromDays: 91, toDays: 180 },
  { key: 'over_180', fromDays: 181, toDays: null },
] as const;
export type AgeingBucketKey = (typeof AGEING_BUCKETS)[number]['key'];

/** The share of an active loan's outstanding principal expected to be lost, by ageing bucket. */
export const LOSS_RATES: Readonly<Record<AgeingBucketKey, string>> = Object.freeze({
  current: '0.01',
  '1_30': '0.10',
  '31_60': '0.25',
  '61_90': '0.50',
  '91_180': '0.75',
  over_180: '1.00',
});

/** What the statement gives: the figures as text, with what the report adds from other sources. */
type StatementJson = AsText<StatementFigures> & {
  readonly currency: string | null;
  readonly funding_from: CalendarDate;
  readonly funding_flows: FlowsBySourceRow;
};

/**
 * The resilience report of a fund as of a date, computed in PostgreSQL in one statement, set-based:
 * a pass over each of the ledger, the allocations and the instalments, aggregated per loan, then
 * every indicator from those per-loan figures. Read-only: run it in the caller's (REPEATABLE READ)
 * transaction, or alone in one of its own. Works on PGlite too.
 */
export async function computeReportIndicators(
  db: Db,
  fundId: string,
  asOf: CalendarDate,
): Promise<ReportIndicators> {
  return reportIndicatorsView(await reportFigures(db, fundId, asOf));
}

/** computeReportIndicators's figures as domain values (amounts Money, ratios and jobs ExactDecimal). */
export async function reportFigures(
  db: Db,
  fundId: string,
  asOf: CalendarDate,
): Promise<ReportFigures> {
  // The figures by source come from the funding report's own rules (funding.repository's SQL, figuresBySource), computed in the statement's pass over the ledger.
  const [statement, sources] = await withReportSettings(
    db,
    async (trx) =>
      [
        (await indicatorsQuery(fundId, asOf).execute(trx)).rows[0]!.figures,
        await listFundingSources(trx, fundId),
      ] as const,
  );
  const { currency, funding_from: fundingFrom, funding_flows: fundingFlows, ...json } = statement;
  if (currency === null) throw new DomainError('not_found', 'No such fund.');
  const {
    expected_loss: expectedLoss,
    vintage,
    concentration,
    supported,
    expected_repayments: expectedRepayments,
    ...first
  } = statementFigures(json);
  return {
    fund_id: fundId,
    as_of: asOf,
    currency,
    ...first,
    expected_loss: { ...expectedLoss, loss_rates: LOSS_RATES },
    vintage,
    concentration,
    supported,
    expected_repayments: expectedRepayments,
    by_funding_source: figuresBySourceSinceInception(
      sources,
      rowToFlowsBySource(fundingFlows),
      fundingFrom,
      asOf,
    ),
  };
}

/**
 * Three planner settings, for this transaction only (SET LOCAL), and back as they were after when the
 * transaction is the caller's. JIT off: PostgreSQL compiles a statement's expressions to machine code
 * once its estimated cost is high; this one's is, and its few hundred expressions then take longer to
 * compile than the statement takes to run. Custom plans: on a connection that prepares statements
 * (src/db/connect.ts), PostgreSQL may switch to a generic plan from the sixth run, blind to the fund
 * and the date, and several times slower. Memory: the per-loan sums of the ledger's flows (seven
 * numeric sums per loan) fit a hash table only above the default 4 MB; below, PostgreSQL sorts the
 * ledger's lines instead (docs/benchmarks.md, bench:workers).
 */
const REPORT_WORK_MEM = '64MB';
async function withReportSettings<T>(db: Db, run: (trx: Db) => Promise<T>): Promise<T> {
  if (!db.isTransaction)
    return db
      .transaction()
      .setAccessMode('read only')
      .execute((trx) => withReportSettings(trx, run));
  const {
    rows: [was],
  } = await sql<{ jit: string; plans: string; memory: string }>`
    SELECT current_setting('jit') AS jit, current_setting('plan_cache_mode') AS plans, current_setting('work_mem') AS memory,
      set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true), set_config('work_mem', ${REPORT_WORK_MEM}, true)`.execute(
    db,
  );
  const result = await run(db);
  await sql`SELECT set_config('jit', ${was!.jit}, true), set_config('plan_cache_mode', ${was!.plans}, true), set_config('work_mem', ${was!.memory}, true)`.execute(
    db,
  );
  return result;
}

const money = (amount: RawBuilder<unknown>) => sql`round(coalesce(${amount}, 0), 2)::text`;
/** part / whole, half-up to 6 decimals; null when whole is 0 (or there is nothing to divide). */
const ratio = (part: RawBuilder<unknown>, whole: RawBuilder<unknown>) =>
  sql`CASE WHEN coalesce(${whole}, 0) = 0 THEN NULL ELSE round(coalesce(${part}, 0)::numeric / (${whole}), 6)::text END`;
const orderedBy = (list: RawBuilder<unknown>, order: RawBuilder<unknown>) =>
  sql`coalesce(json_agg(${list} ORDER BY ${order}), '[]'::json)`;

/** Loans, and their outstanding principal, grouped by a column of loan_figures, in key order. */
const breakdown = (column: string) =>
  sql`(SELECT ${orderedBy(
    sql`json_build_object('key', b.key, 'loan_count', b.loan_count, 'outstanding_principal', ${money(sql`b.outstanding`)})`,
    sql`b.key COLLATE "C"`,
  )} FROM (SELECT ${sql.ref(`f.${column}`)} AS key, count(*)::int AS loan_count, sum(f.outstanding) AS outstanding FROM loan_figures f GROUP BY 1) b)`;

/** Supported structures, and their jobs, grouped by a column of theirs, in key order. */
const supportedBy = (column: string) =>
  sql`(SELECT ${orderedBy(
    sql`json_build_object('key', g.key, 'structure_count', g.structure_count, 'jobs_fte', ${money(sql`g.jobs_fte`)})`,
    sql`g.key COLLATE "C"`,
  )} FROM (SELECT ${sql.ref(`s.${column}`)} AS key, count(*)::int AS structure_count, sum(s.jobs_fte) AS jobs_fte FROM supported s GROUP BY 1) g)`;

/** Σ over groups of (group's outstanding / total outstanding)², computed as Σ outstanding² / total². */
const herfindahl = (column: string) =>
  ratio(
    sql`(SELECT sum(g.outstanding * g.outstanding) FROM (SELECT sum(f.outstanding) AS outstanding FROM loan_figures f GROUP BY ${sql.ref(`f.${column}`)}) g)`,
    sql`t.outstanding * t.outstanding`,
  );

function indicatorsQuery(fundId: string, asOf: CalendarDate) {
  const d = sql`${asOf}::date`;
  const fund = sql`${fundId}::uuid`;
  // Instalments falling due in the 12 calendar months from the one of D are expected repayments.
  const horizon = sql`(date_trunc('month', ${d}::timestamp) + interval '12 months')::date`;
  const buckets = sql.join(
    AGEING_BUCKETS.map(
      (b, position) =>
        sql`(${b.key}::text, ${b.fromDays}::int, ${b.toDays}::int, ${LOSS_RATES[b.key]}::numeric, ${position}::int)`,
    ),
  );
  return sql<{ figures: StatementJson }>`
    WITH population AS MATERIALIZED ( -- the fund's loans paid out by D (not pending, cancelled, nor paid out later), with their state as of D
      SELECT l.id, l.kind, l.product_id, l.structure_id, l.principal, extract(year FROM l.disbursed_on)::int AS year,
        CASE WHEN l.written_off_on <= ${d} THEN 'written_off' WHEN l.repaid_on <= ${d} THEN 'repaid' ELSE 'active' END AS state,
        CASE WHEN l.written_off_on <= ${d} THEN l.written_off_principal ELSE 0 END AS written_off_principal,
        -- recovered: standing repayments of kind recovery valued by D, which are those value-dated from the write-off on
        CASE WHEN l.written_off_on <= ${d} THEN (SELECT coalesce(sum(r.amount), 0) FROM repayments r WHERE r.loan_id = l.id
          AND r.value_date BETWEEN l.written_off_on AND ${d} AND r.kind = 'recovery' AND r.reversed_at IS NULL) ELSE 0 END AS recovered,
        l.id IN (SELECT x.loan_id FROM restructurings x WHERE x.effective_date <= ${d}) AS restructured -- forborne by D
      FROM loans l WHERE l.fund_id = ${fund} AND l.disbursed_on <= ${d}
    ), active_loan AS NOT MATERIALIZED ( -- repeated in each pass below, so that PostgreSQL estimates and parallelises it
      SELECT l.id FROM loans l WHERE l.fund_id = ${fund} AND l.disbursed_on <= ${d}
        AND (l.written_off_on IS NULL OR l.written_off_on > ${d}) AND (l.repaid_on IS NULL OR l.repaid_on > ${d})
    ), inception AS ( -- the funding figures run from the fund's first disbursement by D (D when none)
      SELECT coalesce((SELECT min(l.disbursed_on) FROM loans l WHERE l.fund_id = ${fund} AND l.disbursed_on <= ${d}), ${d}) AS first
    ), flows AS MATERIALIZED ( -- the one pass over the ledger: each loan's flows on loans receivable since inception (funding/funding.repository.ts)
      ${loanFlowsSql(fund, sql`(SELECT i.first FROM inception i)`, d)}
    ), sums AS MATERIALIZED ( -- a pass over each of the ledger, the allocations and the instalments (side by side), summed per loan (due_date null) and, for the instalments due after D, per due date (loan_id null)
      SELECT m.loan_id, m.due_date, sum(m.receivable) AS receivable, sum(m.paid) AS paid, sum(m.owed) AS owed,
        max(m.version) AS version, max(m.due_number) AS due_number, sum(m.principal) AS principal, sum(m.interest) AS interest
      FROM (
        -- Outstanding principal: the ledger's loans receivable, Σ debit − credit of the loan's entries valued by D (the flows' outstanding_end).
        -- A reversal is an opposite entry on the original's value date, so it cancels the original as of every date.
        SELECT f.loan_id, NULL::date AS due_date, f.outstanding_end AS receivable, NULL::numeric AS paid, NULL::numeric AS owed,
          NULL::int AS version, NULL::int AS due_number, NULL::numeric AS principal, NULL::numeric AS interest
        FROM flows f
        UNION ALL -- Paid towards the instalments by D (src/db/unpaid-sql.ts), added up per loan below
        SELECT p.loan_id, NULL, NULL, p.interest + p.principal, NULL, NULL, NULL, NULL, NULL
        FROM (${paidSql({ loan: (id) => sql`${id} IN (SELECT l.id FROM active_loan l)`, asOf: d, valuedByAsOf: true }, 'loan')}) p
        UNION ALL -- Owed: the instalments of the schedule in effect at D (the latest version effective by D) due by D; and those due in the 12 months ahead.
        SELECT CASE WHEN i.due_date <= ${d} THEN i.loan_id END, CASE WHEN i.due_date > ${d} THEN i.due_date END, NULL, NULL,
          sum(i.total) FILTER (WHERE i.due_date <= ${d}), max(i.version), max(i.number) FILTER (WHERE i.due_date <= ${d}),
          sum(i.principal) FILTER (WHERE i.due_date > ${d}), sum(i.interest) FILTER (WHERE i.due_date > ${d})
        FROM instalments i JOIN schedule_versions v ON v.loan_id = i.loan_id AND v.version = i.version JOIN active_loan l ON l.id = v.loan_id
        WHERE v.effective_date <= ${d} AND i.due_date < ${horizon}
          AND NOT EXISTS (SELECT 1 FROM schedule_versions w WHERE w.loan_id = v.loan_id AND w.version > v.version AND w.effective_date <= ${d})
        GROUP BY 1, 2
      ) m
      GROUP BY m.loan_id, m.due_date
    ), buckets (key, from_days, to_days, loss_rate, position) AS (VALUES ${buckets}),
    -- Allocation settles instalments oldest first, in number order (DOMAIN.md "Allocation"), and a
    -- restructuring settles all the arrears it capitalises: what was paid covers the instalments in
    -- number order. So an active loan's arrears (Σ of the unpaid part of its instalments due by D) are
    -- owed − paid, and what was paid beyond what is owed went to the instalments due after D.
    loans_owing AS MATERIALIZED (
      SELECT s.loan_id, s.version, s.due_number, coalesce(s.owed, 0) AS owed, coalesce(s.paid, 0) AS paid
      FROM sums s JOIN population p ON p.id = s.loan_id WHERE s.due_date IS NULL AND p.state = 'active'
    ), oldest_unpaid AS ( -- DPD: D − due date of the oldest instalment due by D not fully paid: going back from the last one due, the first at which what fell due since covers the arrears
      SELECT o.loan_id, late.due_date FROM loans_owing o CROSS JOIN LATERAL (
        SELECT b.due_date FROM (
          SELECT i.number, i.due_date, sum(i.total) OVER (ORDER BY i.number DESC) AS owed_since FROM instalments i
          WHERE i.loan_id = o.loan_id AND i.version = o.version AND i.number <= o.due_number AND o.owed > o.paid) b
        WHERE b.owed_since >= o.owed - o.paid ORDER BY b.number DESC LIMIT 1) late
    ), paid_ahead AS ( -- of each instalment due in the 12 months ahead, what was already paid: what was paid beyond what is owed, in number order, interest first
      SELECT c.due_date, least(c.interest, c.covered) AS interest, c.covered - least(c.interest, c.covered) AS principal
      FROM loans_owing o CROSS JOIN LATERAL (
        SELECT i.due_date, i.interest, greatest(least(i.total, o.paid - o.owed - sum(i.total) OVER (ORDER BY i.number) + i.total), 0) AS covered
        FROM instalments i
        WHERE i.loan_id = o.loan_id AND i.number > coalesce(o.due_number, 0) AND i.due_date < ${horizon} AND o.paid > o.owed
          AND i.version = (SELECT max(v.version) FROM schedule_versions v WHERE v.loan_id = o.loan_id AND v.effective_date <= ${d})) c
    ), loan_figures AS MATERIALIZED ( -- per loan of the population: outstanding (0 once repaid or written off, as the ledger has it), and for active loans arrears, DPD and its bucket
      SELECT p.*, st.naf_code, st.department_code, st.legal_form, st.jobs_fte, pr.guarantee_coverage_percent AS guarantee,
        coalesce(s.receivable, 0) AS outstanding,
        CASE WHEN p.state = 'active' THEN greatest(coalesce(o.owed - o.paid, 0), 0) END AS arrears, dpd.days AS dpd, b.key AS bucket, b.loss_rate
      FROM population p
      JOIN structures st ON st.id = p.structure_id JOIN products pr ON pr.id = p.product_id
      LEFT JOIN sums s ON s.loan_id = p.id AND s.due_date IS NULL
      LEFT JOIN loans_owing o ON o.loan_id = p.id
      LEFT JOIN oldest_unpaid u ON u.loan_id = p.id
      CROSS JOIN LATERAL (SELECT CASE WHEN p.state = 'active' THEN coalesce(${d} - u.due_date, 0) END AS days) dpd
      LEFT JOIN buckets b ON dpd.days BETWEEN b.from_days AND coalesce(b.to_days, dpd.days)
    ), totals AS (
      SELECT count(*)::int AS loan_count, count(*) FILTER (WHERE f.state = 'active')::int AS active_loan_count,
        sum(f.outstanding) AS outstanding, sum(f.outstanding) FILTER (WHERE f.state = 'active') AS active_outstanding,
        sum(f.outstanding) FILTER (WHERE f.dpd > 30) AS par30, sum(f.outstanding) FILTER (WHERE f.dpd > 90) AS par90, -- at risk: active, DPD > 30 (90)
        count(*) FILTER (WHERE f.restructured)::int AS restructured_count, sum(f.outstanding) FILTER (WHERE f.restructured) AS restructured,
        sum(f.principal) AS disbursed, -- a disbursement pays out the whole principal (its entry debits loans receivable by it)
        sum(f.written_off_principal) AS written_off, sum(f.recovered) AS recovered,
        sum(f.arrears) AS arrears, -- of active loans: what is already late, against the repayments expected
        -- expected loss: outstanding × the bucket's loss rate × the share the guarantee leaves, rounded once, at the end
        round(sum(f.outstanding * f.loss_rate * (100 - f.guarantee)) / 100, 2) AS expected_loss, round(sum(f.outstanding * f.loss_rate), 2) AS gross_expected_loss
      FROM loan_figures f
    ), supported AS ( -- structures with an active loan with principal outstanding, each once
      SELECT DISTINCT f.structure_id, f.naf_code, f.department_code, f.jobs_fte FROM loan_figures f WHERE f.state = 'active' AND f.outstanding > 0
    ), months AS (
      SELECT k, (date_trunc('month', ${d}::timestamp) + make_interval(months => k))::date AS first_day FROM generate_series(0, 11) AS k
    ), falling_due AS ( -- per month ahead: what is still unpaid of the instalments due in it after D
      SELECT date_trunc('month', x.due_date::timestamp)::date AS first_day, sum(x.principal) AS principal, sum(x.interest) AS interest FROM (
        SELECT s.due_date, s.principal, s.interest FROM sums s WHERE s.due_date IS NOT NULL
        UNION ALL SELECT a.due_date, -a.principal, -a.interest FROM paid_ahead a) x
      GROUP BY 1
    )
    SELECT json_build_object(
      'currency', (SELECT f.currency FROM funds f WHERE f.id = ${fund}),
      'funding_from', (SELECT i.first::text FROM inception i), 'funding_flows', ${flowsBySourceJson},
      'loan_count', t.loan_count, 'active_loan_count', t.active_loan_count, 'outstanding_principal', ${money(sql`t.outstanding`)},
      -- the population by kind, state as of D, NAF code, department and legal form of its structure
      'by_kind', ${breakdown('kind')}, 'by_status', ${breakdown('state')}, 'by_sector', ${breakdown('naf_code')},
      'by_territory', ${breakdown('department_code')}, 'by_legal_form', ${breakdown('legal_form')},
      -- active loans by DPD bucket (every bucket, even empty)
      'ageing', (SELECT json_object_agg(b.key, json_build_object('loan_count', coalesce(a.loan_count, 0), 'outstanding_principal', ${money(sql`a.outstanding`)},
          'arrears', ${money(sql`a.arrears`)}) ORDER BY b.position)
        FROM buckets b LEFT JOIN (SELECT f.bucket, count(*)::int AS loan_count, sum(f.outstanding) AS outstanding, sum(f.arrears) AS arrears
          FROM loan_figures f WHERE f.state = 'active' GROUP BY f.bucket) a ON a.bucket = b.key),
      -- PAR30 (PAR90): outstanding of active loans more than 30 (90) days past due / outstanding of active loans
      'par30', ${ratio(sql`t.par30`, sql`t.active_outstanding`)}, 'par90', ${ratio(sql`t.par90`, sql`t.active_outstanding`)},
      -- forborne loans, and their share of what is outstanding
      'restructured', json_build_object('loan_count', t.restructured_count, 'outstanding_principal', ${money(sql`t.restructured`)},
        'share', ${ratio(sql`t.restructured`, sql`t.outstanding`)}),
      -- cumulative write-off rate: written-off principal / principal disbursed; recovery rate: recovered / written-off principal
      'write_off', json_build_object('disbursed_principal', ${money(sql`t.disbursed`)}, 'written_off_principal', ${money(sql`t.written_off`)},
        'recovered', ${money(sql`t.recovered`)}, 'write_off_rate', ${ratio(sql`t.written_off`, sql`t.disbursed`)}, 'recovery_rate', ${ratio(sql`t.recovered`, sql`t.written_off`)}),
      'expected_loss', json_build_object('amount', ${money(sql`t.expected_loss`)}, 'gross_amount', ${money(sql`t.gross_expected_loss`)}),
      -- by disbursement year, the share of its loans current (active, DPD 0), in arrears (active, DPD > 0), repaid, written off
      'vintage', (SELECT ${orderedBy(
        sql`json_build_object('year', v.year, 'loan_count', v.loan_count,
          'current', ${ratio(sql`v.current`, sql`v.loan_count`)}, 'in_arrears', ${ratio(sql`v.in_arrears`, sql`v.loan_count`)},
          'repaid', ${ratio(sql`v.repaid`, sql`v.loan_count`)}, 'written_off', ${ratio(sql`v.written_off`, sql`v.loan_count`)})`,
        sql`v.year`,
      )}
        FROM (SELECT f.year, count(*)::int AS loan_count, count(*) FILTER (WHERE f.dpd = 0) AS current, count(*) FILTER (WHERE f.dpd > 0) AS in_arrears,
            count(*) FILTER (WHERE f.state = 'repaid') AS repaid, count(*) FILTER (WHERE f.state = 'written_off') AS written_off
          FROM loan_figures f GROUP BY f.year) v),
      -- the 10 largest exposures (outstanding per structure) / all outstanding; Herfindahl: Σ (a group's share of the outstanding)²
      'concentration', json_build_object(
        'top10_exposure_share', ${ratio(
          sql`(SELECT sum(e.outstanding) FROM (
          SELECT sum(f.outstanding) AS outstanding FROM loan_figures f GROUP BY f.structure_id ORDER BY 1 DESC LIMIT 10) e)`,
          sql`t.outstanding`,
        )},
        'herfindahl_sector', ${herfindahl('naf_code')}, 'herfindahl_territory', ${herfindahl('department_code')}),
      'supported', json_build_object('structure_count', (SELECT count(*)::int FROM supported), 'jobs_fte', ${money(sql`(SELECT sum(s.jobs_fte) FROM supported s)`)},
        'by_territory', ${supportedBy('department_code')}, 'by_sector', ${supportedBy('naf_code')}),
      -- for each of the 12 months from D's: what is unpaid of the instalments due in it after D, and the arrears already late
      'expected_repayments', json_build_object('arrears', ${money(sql`t.arrears`)}, 'months', (SELECT ${orderedBy(
        sql`json_build_object(
          'month', to_char(m.first_day, 'YYYY-MM'), 'principal', ${money(sql`x.principal`)}, 'interest', ${money(sql`x.interest`)},
          'total', ${money(sql`x.principal + x.interest`)})`,
        sql`m.k`,
      )} FROM months m LEFT JOIN falling_due x ON x.first_day = m.first_day))
    ) AS figures
    FROM totals t`;
}
