import { sql, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database, InstalmentsTable, LoansTable } from '../db/schema';
import { paidSql } from '../db/unpaid-sql';

export type LoanRow = Selectable<LoansTable>;

export type InstalmentRow = Selectable<InstalmentsTable>;
type Executor = Db | Transaction<Database>;

export async function insertLoan(
  trx: Transaction<Database>,
  loan: Omit<
    LoanRow,
    | 'created_at'
    | 'status'
    | 'restructured'
    | 'outstanding_principal'
    | 'schedule_version'
    | 'disbursed_on'
    | 'cancelled_on'
    | 'repaid_on'
    | 'written_off_on'
    | 'written_off_at'
    | 'written_off_seq'
    | 'revision'
    | 'write_off_reason'
    | 'written_off_principal'
    | 'current_annual_rate_percent'
    | 'external_reference'
    | 'leverage_bank_loans'
    | 'leverage_grants'
    | 'legal_basis'
    | 'base_rate_percent'
    | 'reference_rate_percent'
    | 'discount_rate_percent'
    | 'gross_grant_equivalent'
  > &
    Partial<Pick<LoanRow, 'leverage_bank_loans' | 'leverage_grants'>> & { legal_basis?: string },
): Promise<LoanRow> {
  return trx.insertInto('loans').values(loan).returningAll().executeTakeFirstOrThrow();
}

export async function findLoanById(db: Executor, id: string): Promise<LoanRow | undefined> {
  return db.selectFrom('loans').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockLoanForUpdate(
  trx: Transaction<Database>,
  id: string,
): Promise<LoanRow | undefined> {
  return trx.selectFrom('loans').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateLoan(
  trx: Transaction<Database>,
  id: string,
  changes: Partial<Omit<LoanRow, 'id' | 'created_at'>>,
): Promise<LoanRow> {
  return trx
    .updateTable('loans')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
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
export async function listLoans(db: Db, filter: LoanFilter): Promise<LoanRow[]> {
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
  return (await query.execute()).map(({ receivable, ...loan }) => ({
    ...loan,
    outstanding_principal: receivable,
  }));
}

export async function listScheduleVersions(db: Executor, loanId: string) {
  return db
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
}

/** What the repayments not reversed and value-dated by `asOf` paid towards each instalment number. */
export interface PaidTowards {
  readonly number: number;
  readonly interest: string;
  readonly principal: string;
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
      loan: LoanRow;
      instalments: InstalmentRow[];
      paid: PaidTowards[];
      outstanding: string | undefined;
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
  const { instalment_tuples: tuples, paid_tuples: paidTuples, receivable, ...loan } = row;
  const instalments = tuples.map(
    ([number, dueDate, principal, interest, total, balanceAfter, capitalised]) => ({
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
  const paid = paidTuples.map(([number, interest, principal]) => ({ number, interest, principal }));
  return { loan: loan as LoanRow, instalments, paid, outstanding: receivable };
}
