import { sql, type RawBuilder } from 'kysely';

/**
 * The one SQL home of "paid towards an instalment" (src/domain/allocation.ts `unpaidOf` in SQL):
 * what standing repayments allocated to it, plus the arrears that restructurings effective by
 * `asOf` capitalised. Set-based, for the reminders', loans', exports' and reports' own queries;
 * test/integration/unpaid-sql.test.ts checks it against the domain.
 */
export interface PaidScope {
  /** Which loans: a condition on a loan id column (`= l.id`, `IN (SELECT …)`). */
  readonly loan: (loanId: RawBuilder<unknown>) => RawBuilder<unknown>;
  readonly asOf: RawBuilder<unknown>;
  /** Count only the repayments value-dated by `asOf` (a schedule as of a date; a reminder counts every one). */
  readonly valuedByAsOf: boolean;
  /** A further condition on when each repayment or restructuring was recorded (`AND …`). */
  readonly recorded?: (createdAt: RawBuilder<unknown>) => RawBuilder<unknown>;
}

/**
 * What was paid, summed per loan (`loan_id, interest, principal`) or per instalment (`loan_id,
 * number, …`), in two parts: what the allocations paid and what restructurings settled. Each side is
 * summed on its own so that PostgreSQL can sum the allocations in parallel, and a caller may join
 * the two (a LEFT JOIN each) rather than their union, which is cheaper for a few loans' instalments.
 * Fees and late interest count as interest.
 */
export function paidParts(scope: PaidScope, per: 'loan' | 'instalment') {
  const recorded = (column: string) => scope.recorded?.(sql.ref(column)) ?? sql``;
  const keys = (loanId: string, number: string) =>
    per === 'loan' ? sql.ref(loanId) : sql`${sql.ref(loanId)}, ${sql.ref(number)}`;
  return {
    allocated: sql`
      SELECT ${keys('paid_r.loan_id', 'paid_a.number')}, sum(paid_a.fees + paid_a.late_interest + paid_a.interest) AS interest, sum(paid_a.principal) AS principal
      FROM allocations paid_a JOIN repayments paid_r ON paid_r.id = paid_a.repayment_id
      WHERE ${scope.loan(sql.ref('paid_r.loan_id'))} AND paid_r.reversed_at IS NULL
        ${scope.valuedByAsOf ? sql`AND paid_r.value_date <= ${scope.asOf}` : sql``} ${recorded('paid_r.created_at')}
      GROUP BY ${keys('paid_r.loan_id', 'paid_a.number')}`,
    // arrears a restructuring capitalised: settled from its effective date
    settled: sql`
      SELECT ${keys('paid_x.loan_id', 'paid_s.number')}, sum(paid_s.interest) AS interest, sum(paid_s.principal) AS principal
      FROM arrears_settlements paid_s JOIN restructurings paid_x ON paid_x.id = paid_s.restructuring_id
      WHERE ${scope.loan(sql.ref('paid_x.loan_id'))} AND paid_x.effective_date <= ${scope.asOf} ${recorded('paid_x.created_at')}
      GROUP BY ${keys('paid_x.loan_id', 'paid_s.number')}`,
  };
}

/** paidParts as one relation: a row for the allocations and one for the settlements, for the caller to add up. */
export function paidSql(scope: PaidScope, per: 'loan' | 'instalment'): RawBuilder<unknown> {
  const { allocated, settled } = paidParts(scope, per);
  return sql`${allocated} UNION ALL ${settled}`;
}

/** (loan_id, number, amount): what was paid towards each instalment of the loans in scope. */
export const paidTowardsSql = (scope: PaidScope): RawBuilder<unknown> =>
  sql`SELECT p.loan_id, p.number, sum(p.interest + p.principal) AS amount FROM (${paidSql(scope, 'instalment')}) p GROUP BY p.loan_id, p.number`;

/** An instalment's total less what was paid towards it (`paid` null: nothing was). */
export const unpaidSql = (total: RawBuilder<unknown>, paid: RawBuilder<unknown>) =>
  sql`(${total} - coalesce(${paid}, 0))`;
