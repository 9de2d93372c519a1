import { sql } from 'kysely';
import type { Db } from '../db/connect';
import { parseDate, type CalendarDate } from '../domain/dates';
import { parseExactDecimal, type ExactDecimal } from '../domain/exact-decimal';
import { parseMoney, type Money } from '../domain/money';

/** A loan of the fund paid out by D, with what the evaluation groups it by. */
export interface EvaluatedLoan {
  readonly structure_id: string;
  readonly principal: Money;
  readonly disbursed_on: CalendarDate;
  readonly leverage_bank_loans: Money;
  readonly leverage_grants: Money;
  readonly naf_code: string;
  readonly department_code: string;
  readonly qpv: boolean;
}
/** The same loan as the query prints it: amounts and the date as text. */
export type EvaluatedLoanRow = Omit<
  EvaluatedLoan,
  'principal' | 'disbursed_on' | 'leverage_bank_loans' | 'leverage_grants'
> & {
  readonly principal: string;
  readonly disbursed_on: string;
  readonly leverage_bank_loans: string;
  readonly leverage_grants: string;
};

export const rowToEvaluatedLoan = (row: EvaluatedLoanRow): EvaluatedLoan => ({
  ...row,
  principal: parseMoney(row.principal),
  disbursed_on: parseDate(row.disbursed_on),
  leverage_bank_loans: parseMoney(row.leverage_bank_loans),
  leverage_grants: parseMoney(row.leverage_grants),
});

/** An impact snapshot of a structure of the fund, dated by D; jobs in FTE. */
export interface EvaluatedSnapshot {
  readonly structure_id: string;
  readonly snapshot_date: CalendarDate;
  readonly jobs_created: ExactDecimal;
  readonly jobs_maintained: ExactDecimal;
  readonly still_active: boolean;
}
type EvaluatedSnapshotRow = Omit<
  EvaluatedSnapshot,
  'snapshot_date' | 'jobs_created' | 'jobs_maintained'
> & {
  readonly snapshot_date: string;
  readonly jobs_created: string;
  readonly jobs_maintained: string;
};

const rowToEvaluatedSnapshot = (row: EvaluatedSnapshotRow): EvaluatedSnapshot => ({
  ...row,
  snapshot_date: parseDate(row.snapshot_date),
  jobs_created: parseExactDecimal(row.jobs_created),
  jobs_maintained: parseExactDecimal(row.jobs_maintained),
});

/** The fund's loans paid out by D (not pending, cancelled nor paid out later), oldest first; and its currency (undefined: no such fund). */
export async function evaluatedLoans(
  db: Db,
  fundId: string,
  asOf: CalendarDate,
): Promise<{ currency: string | undefined; loans: EvaluatedLoan[] }> {
  const fund = await db
    .selectFrom('funds')
    .select('currency')
    .where('id', '=', fundId)
    .executeTakeFirst();
  const { rows } = await sql<EvaluatedLoanRow>`
    SELECT l.structure_id, l.principal::text AS principal, to_char(l.disbursed_on, 'YYYY-MM-DD') AS disbursed_on,
      l.leverage_bank_loans::text AS leverage_bank_loans, l.leverage_grants::text AS leverage_grants,
      s.naf_code, s.department_code, s.qpv
    FROM loans l JOIN structures s ON s.id = l.structure_id
    WHERE l.fund_id = ${fundId}::uuid AND l.disbursed_on <= ${asOf}::date
    ORDER BY l.disbursed_on, l.id`.execute(db);
  return { currency: fund?.currency, loans: rows.map(rowToEvaluatedLoan) };
}

/** The snapshots of the fund's structures dated by D, oldest first. */
export async function evaluatedSnapshots(
  db: Db,
  fundId: string,
  asOf: CalendarDate,
): Promise<EvaluatedSnapshot[]> {
  const { rows } = await sql<EvaluatedSnapshotRow>`
    SELECT i.structure_id, to_char(i.snapshot_date, 'YYYY-MM-DD') AS snapshot_date, i.jobs_created::text AS jobs_created,
      i.jobs_maintained::text AS jobs_maintained, i.still_active
    FROM impact_snapshots i
    WHERE i.fund_id = ${fundId}::uuid AND i.snapshot_date <= ${asOf}::date
    ORDER BY i.structure_id, i.snapshot_date`.execute(db);
  return rows.map(rowToEvaluatedSnapshot);
}
