import { sql, type Selectable } from 'kysely';
import type { Db } from '../db/connect';
import type { InstalmentsTable } from '../db/schema';
import { paidSql } from '../db/unpaid-sql';
import { arrearsAsOf, NOTHING, type Amounts, type Arrears } from '../domain/allocation';
import type { CalendarDate } from '../domain/dates';
import type { InstalmentStatus } from '../domain/instalment-status';
import { parseDecimalAmount, ZERO, type Money } from '../domain/money';
import { instalmentStates, statusesOf } from '../loans/get-loan-schedule';
import { rowToInstalment, type Instalment } from '../loans/instalments';
import { rowToLoanTape, type LoanTape, type LoanTapeRow } from './loan-tape';

/**
 * How many loans each page reads: some 7,000 instalments. With 500 a page, more of a page's objects
 * outlived the young generation, and the old one grew by garbage until a full collection: the
 * export's peak RSS was 235 MiB on 2,000 loans, 165–180 MiB with 100, in no more time.
 */
export const LOAN_PAGE = 100;

/** A loan of the tape as of a date, with its current schedule and each instalment's payments and status then. */
export interface LoanState {
  readonly loan: LoanTape;
  readonly instalments: readonly Instalment[];
  readonly paid: readonly Amounts[];
  readonly statuses: readonly InstalmentStatus[];
  readonly outstanding: Money;
  readonly arrears: Arrears;
}

/**
 * The fund's loans paid out by `asOf`, LOAN_PAGE at a time in id order (keyset: the pool has no
 * cursors), each with what GET /v1/loans/{id}?as_of= and its schedule say of it, by the same
 * definitions and code: the current schedule version; paid = what standing repayments valued by
 * the date allocated to each instalment, plus the arrears a restructuring effective by then
 * capitalised (src/loans/loans.repository.ts findLoanWithInstalments); the status of each
 * instalment (instalmentStatus); the outstanding principal = the loans-receivable balance of the
 * loan's entries valued by then; arrears (arrearsAsOf), none for a loan repaid or written off by then.
 */
export async function* loanStates(
  trx: Db,
  fundId: string,
  asOf: CalendarDate,
): AsyncGenerator<LoanState[]> {
  // The next page is asked for before this one is handed over: the database works while it is written.
  let next = loanPage(trx, fundId, asOf, FIRST);
  for (;;) {
    const page = await next;
    if (page.length === 0) return;
    next = loanPage(trx, fundId, asOf, page.at(-1)!.loan.id);
    next.catch(() => undefined); // awaited at the next turn; a failure then is the generator's
    yield page;
  }
}

const FIRST = '00000000-0000-0000-0000-000000000000';

/** The LOAN_PAGE loans after `after`, in id order, each as of `asOf`. */
async function loanPage(
  trx: Db,
  fundId: string,
  asOf: CalendarDate,
  after: string,
): Promise<LoanState[]> {
  const d = sql`${asOf}::date`;
  const { rows } = await sql<LoanTapeRow>`
    SELECT l.id, l.structure_id, s.legal_name AS structure_name, l.product_id, p.name AS product_name, l.kind,
      l.principal::numeric(20, 2)::text AS principal, l.annual_rate_percent::text AS annual_rate_percent,
      coalesce(l.current_annual_rate_percent, l.annual_rate_percent)::text AS current_annual_rate_percent,
      l.periodicity, l.term_periods, l.deferral_periods, l.deferral_type, l.method, l.day_count, l.rounding,
      l.disbursed_on::text AS disbursed_on, l.first_due_date::text AS first_due_date, l.schedule_version,
      CASE WHEN l.written_off_on <= ${d} THEN 'written_off' WHEN l.repaid_on <= ${d} THEN 'repaid' ELSE 'active' END AS status,
      CASE WHEN l.repaid_on <= ${d} THEN l.repaid_on::text END AS repaid_on,
      CASE WHEN l.written_off_on <= ${d} THEN l.written_off_on::text END AS written_off_on,
      CASE WHEN l.written_off_on <= ${d} THEN l.written_off_principal::numeric(20, 2)::text END AS written_off_principal,
      EXISTS (SELECT 1 FROM restructurings x WHERE x.loan_id = l.id AND x.effective_date <= ${d}) AS restructured
    FROM loans l JOIN structures s ON s.id = l.structure_id JOIN products p ON p.id = l.product_id
    WHERE l.fund_id = ${fundId}::uuid AND l.disbursed_on <= ${d} AND l.id > ${after}::uuid
    ORDER BY l.id LIMIT ${LOAN_PAGE}`.execute(trx);
  if (rows.length === 0) return [];
  const loans = rows.map(rowToLoanTape);
  const last = loans.at(-1)!.id;
  const page = sql`l.fund_id = ${fundId}::uuid AND l.disbursed_on <= ${d} AND l.id > ${after}::uuid AND l.id <= ${last}::uuid`;
  const [{ rows: instalments }, { rows: paid }, { rows: receivable }] = [
    await sql<Selectable<InstalmentsTable>>`
      SELECT i.loan_id, i.version, i.number, i.due_date::text AS due_date, i.principal::text AS principal, i.interest::text AS interest,
        i.total::text AS total, i.balance_after::text AS balance_after, i.capitalised_interest::text AS capitalised_interest
      FROM loans l JOIN instalments i ON i.loan_id = l.id AND i.version = l.schedule_version
      WHERE ${page} ORDER BY i.loan_id, i.number`.execute(trx),
    await sql<{ loan_id: string; number: number; interest: string; principal: string }>`
      SELECT x.loan_id, x.number, sum(x.interest)::text AS interest, sum(x.principal)::text AS principal
      FROM (${paidSql({ loan: (id) => sql`${id} IN (SELECT l.id FROM loans l WHERE ${page})`, asOf: d, valuedByAsOf: true }, 'instalment')}) x
      GROUP BY x.loan_id, x.number`.execute(trx),
    await sql<{ loan_id: string; receivable: string }>`
      SELECT e.loan_id, sum(jl.debit - jl.credit)::text AS receivable
      FROM loans l JOIN journal_entries e ON e.loan_id = l.id JOIN journal_lines jl ON jl.entry_id = e.id
      WHERE ${page} AND jl.account = 'loans_receivable' AND e.value_date <= ${d}
      GROUP BY e.loan_id`.execute(trx),
  ];
  const linesOf = groupBy(instalments.map(rowToInstalment), (row) => row.loan_id);
  // Sums: read by the parser of any exact amount.
  const paidOf = new Map(
    paid.map((row) => [
      `${row.loan_id}/${row.number}`,
      {
        ...NOTHING,
        interest: parseDecimalAmount(row.interest),
        principal: parseDecimalAmount(row.principal),
      },
    ]),
  );
  const receivableOf = new Map(
    receivable.map((row) => [row.loan_id, parseDecimalAmount(row.receivable)]),
  );
  return loans.map((loan) => {
    const lines = linesOf.get(loan.id) ?? [];
    const paidTowards = lines.map((line) => paidOf.get(`${loan.id}/${line.number}`) ?? NOTHING);
    const statuses = statusesOf(lines, paidTowards, asOf);
    const closed = loan.status !== 'active';
    const states = closed
      ? []
      : instalmentStates({ projected: false, instalments: lines, paid: paidTowards });
    return {
      loan,
      instalments: lines,
      paid: paidTowards,
      statuses,
      outstanding: receivableOf.get(loan.id) ?? ZERO,
      arrears: arrearsAsOf(states, asOf),
    };
  });
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}
