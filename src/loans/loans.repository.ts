import { sql, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, LoansTable } from '../db/schema';
import { paidSql } from '../db/unpaid-sql';
import { insertRowsReturning } from '../db/bulk-insert';
import { parseDate } from '../domain/dates';
import { parseDecimalAmount, type Money } from '../domain/money';
import { oneOf } from '../domain/one-of';
import { rowToInstalment, VERSION_REASONS, type Instalment } from './instalments';
import { loanColumns, rowToLoan, type Loan, type NewLoan } from './loan-rows';

type Executor = Db | Transaction<Database>;

export async function insertLoan(trx: Transaction<Database>, loan: NewLoan): Promise<Loan> {
  return rowToLoan(
    await trx
      .insertInto('loans')
      .values(loanColumns(loan))
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

/** Many loans in one statement (the CSV import), in the order given. */
export async function insertLoans(
  trx: Transaction<Database>,
  loans: readonly NewLoan[],
): Promise<Loan[]> {
  const rows = await insertRowsReturning<'loans', Selectable<LoansTable>>(
    trx,
    'loans',
    loans.map(loanColumns),
  );
  return rows.map(rowToLoan);
}

/** The loans as the import's replay left them: what its steps' loan writes would have set. */
export async function updateReplayedLoans(
  trx: Transaction<Database>,
  loans: readonly Loan[],
): Promise<void> {
  const finals = loans.map((l) =>
    loanColumns({
      id: l.id,
      status: l.status,
      disbursed_on: l.disbursed_on,
      repaid_on: l.repaid_on,
      outstanding_principal: l.outstanding_principal,
      schedule_version: l.schedule_version,
      restructured: l.restructured,
      written_off_principal: l.written_off_principal,
      current_annual_rate_percent: l.current_annual_rate_percent,
      revision: l.revision,
      base_rate_percent: l.base_rate_percent,
      reference_rate_percent: l.reference_rate_percent,
      discount_rate_percent: l.discount_rate_percent,
      gross_grant_equivalent: l.gross_grant_equivalent,
    }),
  );
  await sql`UPDATE loans l SET status = f.status, disbursed_on = f.disbursed_on, repaid_on = f.repaid_on, outstanding_principal = f.outstanding_principal,
      schedule_version = f.schedule_version, restructured = f.restructured, written_off_principal = f.written_off_principal,
      current_annual_rate_percent = f.current_annual_rate_percent, revision = f.revision,
      base_rate_percent = f.base_rate_percent, reference_rate_percent = f.reference_rate_percent, discount_rate_percent = f.discount_rate_percent, gross_grant_equivalent = f.gross_grant_equivalent
    FROM jsonb_populate_recordset(NULL::loans, ${JSON.stringify(finals)}::jsonb) f WHERE l.id = f.id`.execute(
    trx,
  );
}

export async function findLoanById(db: Executor, id: string): Promise<Loan | undefined> {
  const row = await db.selectFrom('loans').selectAll().where('id', '=', id).executeTakeFirst();
  return row && rowToLoan(row);
}

export async function lockLoanForUpdate(
  trx: Transaction<Database>,
  id: string,
): Promise<Loan | undefined> {
  const row = await trx
    .selectFrom('loans')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row && rowToLoan(row);
}

export async function updateLoan(
  trx: Transaction<Database>,
  id: string,
  changes: Partial<Omit<Loan, 'id' | 'created_at'>>,
): Promise<Loan> {
  return rowToLoan(
    await trx
      .updateTable('loans')
      .set(loanColumns(changes))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

export interface LoanFilter {
  /** The date the outstanding principal is given for. */
  asOf: string;
  fundId?: string;
  structureId?: string;
  status?: string;
  kind?: string;
  afterId?: string;
  limit: number;
}

/** Loans, each with its outstanding principal as of `filter.asOf` (its loans-receivable balance then). */
export async function listLoans(db: Db, filter: LoanFilter): Promise<Loan[]> {
  let query = db
    .selectFrom('loans as l')
    .selectAll('l')
    .select(
      sql<string>`(SELECT coalesce(sum(jl.debit - jl.credit), 0)::numeric(14,2)::text FROM journal_entries je JOIN journal_lines jl ON jl.entry_id = je.id
      WHERE je.loan_id = l.id AND jl.account = 'loans_receivable' AND je.value_date <= ${filter.asOf}::date)`.as(
        'receivable',
      ),
    )
    .orderBy('l.id')
    .limit(filter.limit);
  if (filter.fundId) query = query.where('l.fund_id', '=', filter.fundId);
  if (filter.structureId) query = query.where('l.structure_id', '=', filter.structureId);
  if (filter.status) query = query.where('l.status', '=', filter.status);
  if (filter.kind) query = query.where('l.kind', '=', filter.kind);
  if (filter.afterId) query = query.where('l.id', '>', filter.afterId);
  // The balance is a sum: through the parser of any exact amount.
  return (await query.execute()).map(({ receivable, ...row }) => ({
    ...rowToLoan(row),
    outstanding_principal: parseDecimalAmount(receivable),
  }));
}

export async function listScheduleVersions(db: Executor, loanId: string) {
  const rows = await db
    .selectFrom('schedule_versions as v')
    .select(['v.version', 'v.reason', 'v.effective_date', 'v.created_at'])
    .select((eb) =>
      eb
        .selectFrom('instalments as i')
        .whereRef('i.loan_id', '=', 'v.loan_id')
        .whereRef('i.version', '=', 'v.version')
        .select((e) => e.fn.countAll<string>().as('n'))
        .as('instalment_count'),
    )
    .where('v.loan_id', '=', loanId)
    .orderBy('v.version')
    .execute();
  return rows.map((v) => ({
    version: v.version,
    reason: oneOf(VERSION_REASONS, v.reason, 'schedule_versions.reason'),
    effective_date: parseDate(v.effective_date),
    created_at: v.created_at,
    instalment_count: Number(v.instalment_count),
  }));
}

/** What the repayments not reversed and value-dated by `asOf` paid towards each instalment number. */
export interface PaidTowards {
  readonly number: number;
  readonly interest: Money;
  readonly principal: Money;
}

/**
 * A loan, the instalments of one of its schedule versions (its current one by default), what was paid
 * towards each as of a date and, if asked, its outstanding principal then (its loans-receivable balance), in a
 * single round trip: the schedule is the most read thing of all, by every partner portal.
 * Amounts travel as text inside the JSON, never as JSON numbers.
 */
export async function findLoanWithInstalments(
  db: Db,
  loanId: string,
  asOf: string,
  version?: number,
  withOutstanding = false,
): Promise<
  | {
      loan: Loan;
      instalments: Instalment[];
      paid: PaidTowards[];
      outstanding: Money | undefined;
    }
  | undefined
> {
  // An older version shows what was paid while it was the loan's schedule, not what was paid since
  // against the rows of the versions that replaced it.
  const stoodUntil = (createdAt: RawBuilder<unknown>) =>
    version === undefined
      ? sql``
      : sql`AND ${createdAt} <= coalesce(
    (SELECT nv.created_at FROM schedule_versions nv WHERE nv.loan_id = l.id AND nv.version = ${version}::integer + 1), 'infinity'::timestamptz)`;
  const row = await db
    .selectFrom('loans as l')
    .selectAll('l')
    .select(
      sql<[number, string, string, string, string, string, string][]>`(
      SELECT coalesce(json_agg(json_build_array(i.number, i.due_date::text, i.principal::text, i.interest::text, i.total::text,
        i.balance_after::text, i.capitalised_interest::text) ORDER BY i.number), '[]')
      FROM instalments i WHERE i.loan_id = l.id AND i.version = coalesce(${version ?? null}::integer, l.schedule_version))`.as(
        'instalment_tuples',
      ),
    )
    .select(
      sql<[number, string, string][]>`(
      SELECT coalesce(json_agg(json_build_array(p.number, p.interest::text, p.principal::text)), '[]') FROM (
        SELECT number, sum(interest) AS interest, sum(principal) AS principal FROM (${paidSql(
          {
            loan: (id) => sql`${id} = l.id`,
            asOf: sql`${asOf}::date`,
            valuedByAsOf: true,
            recorded: stoodUntil,
          },
          'instalment',
        )}) settled
        GROUP BY number) p)`.as('paid_tuples'),
    )
    // Only when asked: the schedule itself does not show it, and partner portals read it most.
    .$if(withOutstanding, (qb) =>
      qb.select(
        sql<string>`(
      SELECT coalesce(sum(jl.debit - jl.credit), 0)::text FROM journal_entries je JOIN journal_lines jl ON jl.entry_id = je.id
      WHERE je.loan_id = l.id AND jl.account = 'loans_receivable' AND je.value_date <= ${asOf}::date)`.as(
          'receivable',
        ),
      ),
    )
    .where('l.id', '=', loanId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { instalment_tuples: tuples, paid_tuples: paidTuples, receivable, ...loanRow } = row;
  const loan = rowToLoan(loanRow);
  const instalments = tuples.map(
    ([number, dueDate, principal, interest, total, balanceAfter, capitalised]) =>
      rowToInstalment({
        loan_id: loan.id,
        version: version ?? loan.schedule_version,
        number,
        due_date: dueDate,
        principal,
        interest,
        total,
        balance_after: balanceAfter,
        capitalised_interest: capitalised,
      }),
  );
  // Sums: read by the parser of any exact amount.
  const paid = paidTuples.map(([number, interest, principal]) => ({
    number,
    interest: parseDecimalAmount(interest),
    principal: parseDecimalAmount(principal),
  }));
  const outstanding = receivable === undefined ? undefined : parseDecimalAmount(receivable);
  return { loan, instalments, paid, outstanding };
}
