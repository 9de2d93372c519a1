import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Write } from '../db/writes';
import type { Database } from '../db/schema';
import type { CalendarDate } from '../domain/dates';
import { formatMoney, parseDecimalAmount, type Money } from '../domain/money';
import { loanColumns, rowToLoan, type Loan } from '../loans/loan-rows';
import { instalmentColumns, type Instalment } from '../loans/instalments';
import {
  allocationColumns,
  repaymentColumns,
  restructuringColumns,
  rowToAllocation,
  rowToMoratorium,
  rowToRepayment,
  rowToRestructuring,
  splitColumns,
  type AllocationAmounts,
  type Moratorium,
  type Repayment,
  type RepaymentAllocation,
  type RepaymentSplit,
  type Restructuring,
  type Settlement,
} from './servicing-rows';

export type { Instalment, Loan, Repayment, RepaymentAllocation, Restructuring, Settlement };
type Executor = Db | Transaction<Database>;

export async function restructuringsOfLoan(db: Executor, loanId: string): Promise<Restructuring[]> {
  const rows = await db
    .selectFrom('restructurings')
    .selectAll()
    .where('loan_id', '=', loanId)
    .orderBy('effective_date')
    .orderBy('seq')
    .execute();
  return rows.map(rowToRestructuring);
}

export async function allocationsOfLoan(
  db: Executor,
  loanId: string,
): Promise<RepaymentAllocation[]> {
  const rows = await db
    .selectFrom('allocations as a')
    .innerJoin('repayments as r', 'r.id', 'a.repayment_id')
    .selectAll('a')
    .where('r.loan_id', '=', loanId)
    .orderBy('a.repayment_id')
    .orderBy('a.number')
    .execute();
  return rows.map(rowToAllocation);
}

export async function lockRepayment(
  trx: Transaction<Database>,
  loanId: string,
  id: string,
): Promise<Repayment | undefined> {
  const row = await trx
    .selectFrom('repayments')
    .selectAll()
    .where('id', '=', id)
    .where('loan_id', '=', loanId)
    .forUpdate()
    .executeTakeFirst();
  return row && rowToRepayment(row);
}

export async function findRepayment(
  db: Executor,
  loanId: string,
  id: string,
): Promise<Repayment | undefined> {
  const row = await db
    .selectFrom('repayments')
    .selectAll()
    .where('id', '=', id)
    .where('loan_id', '=', loanId)
    .executeTakeFirst();
  return row && rowToRepayment(row);
}

export async function markRepaymentReversed(
  trx: Transaction<Database>,
  id: string,
  reason: string,
): Promise<void> {
  await trx
    .updateTable('repayments')
    .set({ reversed_at: sql<Date>`now()`, reversal_reason: reason })
    .where('id', '=', id)
    .execute();
}

/** Σ total of a schedule version's instalments: everything that version asks of the borrower. */
export async function scheduledTotalPayable(
  db: Executor,
  loanId: string,
  version: number,
): Promise<Money> {
  const { rows } = await sql<{
    total: string;
  }>`SELECT coalesce(sum(total), 0)::text AS total FROM instalments WHERE loan_id = ${loanId} AND version = ${version}::integer`.execute(
    db,
  );
  return parseDecimalAmount(rows[0]!.total);
}

/** Repayments of a loan newest first by value date, keyset-paginated on seq; with their allocations. */
export async function listRepayments(
  db: Db,
  loanId: string,
  afterSeq: string | undefined,
  limit: number,
) {
  let query = db
    .selectFrom('repayments')
    .selectAll()
    .where('loan_id', '=', loanId)
    .orderBy('seq')
    .limit(limit);
  if (afterSeq) query = query.where('seq', '>', afterSeq);
  const repayments = (await query.execute()).map(rowToRepayment);
  const allocations =
    repayments.length === 0
      ? []
      : await db
          .selectFrom('allocations')
          .selectAll()
          .where(
            'repayment_id',
            'in',
            repayments.map((r) => r.id),
          )
          .orderBy('number')
          .execute();
  return { repayments, allocations: allocations.map(rowToAllocation) };
}

export async function insertRestructuring(
  trx: Transaction<Database>,
  restructuring: Omit<Restructuring, 'seq' | 'created_at'>,
): Promise<Restructuring> {
  const row = await trx
    .insertInto('restructurings')
    .values(restructuringColumns(restructuring))
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToRestructuring(row);
}

/** A fund's active loans (of one kind, if given), locked in id order so that two moratoria cannot deadlock. */
export async function lockActiveLoansOfFund(
  trx: Transaction<Database>,
  fundId: string,
  kind: string | undefined,
): Promise<Loan[]> {
  let query = trx
    .selectFrom('loans')
    .selectAll()
    .where('fund_id', '=', fundId)
    .where('status', '=', 'active')
    .orderBy('id')
    .forUpdate();
  if (kind) query = query.where('kind', '=', kind);
  return (await query.execute()).map(rowToLoan);
}

export async function insertMoratorium(
  trx: Transaction<Database>,
  moratorium: Omit<Moratorium, 'created_at'>,
): Promise<Moratorium> {
  const row = await trx
    .insertInto('moratoria')
    .values(moratorium)
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToMoratorium(row);
}

/** Records the write-off's facts; the replay then closes the loan. Stamped with the database clock, like repayments. */
export async function markWrittenOff(
  trx: Transaction<Database>,
  id: string,
  date: CalendarDate,
  reason: string,
): Promise<Loan> {
  const row = await trx
    .updateTable('loans')
    .set({
      written_off_on: date,
      written_off_at: sql<Date>`now()`,
      written_off_seq: sql<string>`nextval('servicing_facts_seq')`,
      write_off_reason: reason,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToLoan(row);
}

export async function findSameMoratorium(
  trx: Transaction<Database>,
  m: {
    fund_id: string;
    kind: string | null;
    effective_date: string;
    periods: number;
    deferral_type: string;
  },
) {
  let query = trx
    .selectFrom('moratoria')
    .select(['id', 'created_at'])
    .where('fund_id', '=', m.fund_id)
    .where('effective_date', '=', m.effective_date)
    .where('periods', '=', m.periods)
    .where('deferral_type', '=', m.deferral_type);
  query = m.kind === null ? query.where('kind', 'is', null) : query.where('kind', '=', m.kind);
  return query.executeTakeFirst();
}

/** A new repayment with what the replay made of it, as writes (raw SQL: the hottest write there is, built on every repayment). */
export function newRepaymentWrites(
  repayment: Omit<Repayment, 'seq' | 'reversed_at' | 'reversal_reason'>,
  allocations: AllocationAmounts[],
): Write[] {
  const row = repaymentColumns({ ...repayment, reversed_at: null, reversal_reason: null });
  const writes: Write[] = [
    {
      query: sql`INSERT INTO repayments (id, loan_id, amount, value_date, reference, prepayment, kind, principal_prepaid, excess, created_at)
      VALUES (${row.id}::uuid, ${row.loan_id}::uuid, ${row.amount}::numeric, ${row.value_date}::date, ${row.reference}, ${row.prepayment}, ${row.kind},
        ${row.principal_prepaid}::numeric, ${row.excess}::numeric, ${row.created_at}::timestamptz)`,
    },
  ];
  if (allocations.length > 0) {
    const values = allocations.map((amounts) => {
      const a = allocationColumns({ repayment_id: repayment.id, ...amounts });
      return sql`(${row.id}::uuid, ${a.number}::integer, ${a.fees}::numeric, ${a.late_interest}::numeric, ${a.interest}::numeric, ${a.principal}::numeric)`;
    });
    writes.push({
      query: sql`INSERT INTO allocations (repayment_id, number, fees, late_interest, interest, principal) VALUES ${sql.join(values)}`,
    });
  }
  return writes;
}

export async function insertScheduleVersion(
  trx: Transaction<Database>,
  version: { loan_id: string; version: number; reason: string; effective_date: string },
  instalments: Instalment[],
): Promise<void> {
  await trx.insertInto('schedule_versions').values(version).execute();
  // A 600-row schedule is 5,400 parameters: well under PostgreSQL's 65,535 in one statement.
  await trx.insertInto('instalments').values(instalments.map(instalmentColumns)).execute();
}

/** The loan paid out, active from then on: returned as stored, for the rebooking that follows. */
export async function markDisbursed(
  trx: Transaction<Database>,
  id: string,
  changes: Omit<Partial<Loan>, 'status'>,
): Promise<Loan> {
  const disbursed = loanColumns({ status: 'active', ...changes });
  const row = await trx
    .updateTable('loans')
    .set(disbursed)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToLoan(row);
}

/** A new schedule version and its instalments, as writes. */
export function scheduleVersionWrites(
  trx: Transaction<Database>,
  version: { loan_id: string; version: number; reason: string; effective_date: string },
  instalments: Instalment[],
): Write[] {
  const writes: Write[] = [{ query: trx.insertInto('schedule_versions').values(version) }];
  if (instalments.length > 0)
    writes.push({
      query: trx.insertInto('instalments').values(instalments.map(instalmentColumns)),
    });
  return writes;
}

/** The loan's new state; its revision moves on, telling a history read before it that it is stale. */
export function loanStateWrite(
  trx: Transaction<Database>,
  id: string,
  changes: Partial<Loan>,
): Write {
  return {
    query: trx
      .updateTable('loans')
      .set({ ...loanColumns(changes), revision: sql<number>`revision + 1` })
      .where('id', '=', id),
  };
}

/** The loan's outstanding principal after a repayment appended to its history (its revision moves on too). */
export function outstandingWrite(id: string, outstanding: Money): Write {
  return {
    query: sql`UPDATE loans SET outstanding_principal = ${formatMoney(outstanding)}::numeric, revision = revision + 1 WHERE id = ${id}::uuid`,
  };
}

/** What a replay made anew of a stored repayment: its split, and its allocations replaced. */
export function reallocationWrites(
  trx: Transaction<Database>,
  id: string,
  split: RepaymentSplit,
  allocations: AllocationAmounts[],
  lostNumbers: number[],
): Write[] {
  return [
    { query: trx.updateTable('repayments').set(splitColumns(split)).where('id', '=', id) },
    ...replaceNumberedRows(
      'allocations',
      { column: 'repayment_id', id },
      ['fees', 'late_interest', 'interest', 'principal'],
      allocations,
      lostNumbers,
    ),
  ];
}

/** A restructuring's arrears settlements, replaced. */
export const settlementWrites = (
  restructuringId: string,
  rows: Omit<Settlement, 'restructuring_id'>[],
  lostNumbers: number[],
): Write[] =>
  replaceNumberedRows(
    'arrears_settlements',
    { column: 'restructuring_id', id: restructuringId },
    ['interest', 'principal'],
    rows,
    lostNumbers,
  );

/**
 * Rows a replay derives, one per instalment number, replaced. In one batch statement no row may be
 * written twice, so only the numbers no longer wanted are deleted and the others upserted.
 */
function replaceNumberedRows<Amount extends string>(
  table: 'allocations' | 'arrears_settlements',
  owner: { column: 'repayment_id' | 'restructuring_id'; id: string },
  amounts: readonly Amount[],
  rows: readonly ({ number: number } & Record<Amount, Money>)[],
  lostNumbers: readonly number[],
): Write[] {
  const writes: Write[] = [];
  if (lostNumbers.length > 0)
    writes.push({
      query: sql`DELETE FROM ${sql.table(table)} WHERE ${sql.ref(owner.column)} = ${owner.id}::uuid AND number IN (${sql.join(lostNumbers)})`,
    });
  if (rows.length > 0) {
    const columns = [owner.column, 'number', ...amounts].map((column) => sql.ref(column));
    const values = rows.map(
      (row) =>
        sql`(${owner.id}::uuid, ${row.number}::integer, ${sql.join(amounts.map((c) => sql`${formatMoney(row[c])}::numeric`))})`,
    );
    const updates = amounts.map((c) => sql`${sql.ref(c)} = ${sql.ref(`excluded.${c}`)}`);
    writes.push({
      query: sql`INSERT INTO ${sql.table(table)} (${sql.join(columns)}) VALUES ${sql.join(values)}
        ON CONFLICT (${sql.ref(owner.column)}, number) DO UPDATE SET ${sql.join(updates)}`,
    });
  }
  return writes;
}
