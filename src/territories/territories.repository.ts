import { sql } from 'kysely';
import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { parseExactDecimal, type ExactDecimal } from '../domain/exact-decimal';
import { parseDecimalAmount, type Money } from '../domain/money';

/** A commune code as the fund's structures record it, with what was lent there. */
export interface CommuneFigures {
  readonly commune_code: string;
  readonly structure_count: number;
  readonly loan_count: number;
  readonly disbursed: Money;
  readonly outstanding: Money;
  /** FTE, to the hundredth. */
  readonly jobs_fte: ExactDecimal;
}
/** The same figures as the query prints them: sums as text, 2 decimals. */
export type CommuneFiguresRow = Omit<CommuneFigures, 'disbursed' | 'outstanding' | 'jobs_fte'> & {
  readonly disbursed: string;
  readonly outstanding: string;
  readonly jobs_fte: string;
};

/** Sums, not stored columns: parseDecimalAmount (any size, signed), as the ledger's receivable could be. */
export const rowToCommuneFigures = (row: CommuneFiguresRow): CommuneFigures => ({
  ...row,
  disbursed: parseDecimalAmount(row.disbursed),
  outstanding: parseDecimalAmount(row.outstanding),
  jobs_fte: parseExactDecimal(row.jobs_fte),
});

/**
 * Per commune code of the fund's structures: its loans paid out by D (not pending, cancelled nor
 * paid out later), their principal (a disbursement pays out the whole principal), their outstanding
 * principal at D (the ledger's loans receivable, Σ debit − credit of the entries valued by D, as the
 * resilience report counts it), and the structures holding them, each once, with their jobs (FTE).
 */
export async function communeFigures(
  db: Db,
  fundId: string,
  asOf: CalendarDate,
): Promise<CommuneFigures[]> {
  const d = sql`${asOf}::date`;
  const fund = sql`${fundId}::uuid`;
  const { rows } = await sql<CommuneFiguresRow>`
    WITH population AS (
      SELECT l.id, l.structure_id, l.principal FROM loans l WHERE l.fund_id = ${fund} AND l.disbursed_on <= ${d}
    ), receivable AS (
      SELECT e.loan_id, sum(jl.debit - jl.credit) AS outstanding
      FROM journal_entries e JOIN journal_lines jl ON jl.entry_id = e.id
      WHERE e.fund_id = ${fund} AND e.loan_id IS NOT NULL AND e.value_date <= ${d} AND jl.account = 'loans_receivable'
      GROUP BY e.loan_id
    ), per_structure AS (
      SELECT p.structure_id, count(*) AS loan_count, sum(p.principal) AS disbursed, sum(coalesce(r.outstanding, 0)) AS outstanding
      FROM population p LEFT JOIN receivable r ON r.loan_id = p.id GROUP BY p.structure_id
    )
    SELECT st.commune_code, count(*)::int AS structure_count, sum(ps.loan_count)::int AS loan_count,
      round(sum(ps.disbursed), 2)::text AS disbursed, round(sum(ps.outstanding), 2)::text AS outstanding, round(sum(st.jobs_fte), 2)::text AS jobs_fte
    FROM per_structure ps JOIN structures st ON st.id = ps.structure_id AND st.fund_id = ${fund}
    GROUP BY st.commune_code ORDER BY st.commune_code COLLATE "C"`.execute(db);
  return rows.map(rowToCommuneFigures);
}
