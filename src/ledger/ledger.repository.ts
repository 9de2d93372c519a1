import { sql, type Transaction } from 'kysely';
import { insertRows } from '../db/bulk-insert';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import type { Write } from '../db/writes';
import { parseDate } from '../domain/dates';
import {
  ACCOUNTS,
  journalLineOf,
  LEDGER_EVENTS,
  type Account,
  type JournalLine,
  type LedgerEvent,
} from '../domain/ledger';
import { formatMoney, parseDecimalAmount, type Money } from '../domain/money';
import { oneOf } from '../domain/one-of';

export interface JournalEntry {
  readonly id: string;
  readonly fund_id: string;
  readonly loan_id: string | null;
  readonly event: LedgerEvent;
  readonly value_date: string;
  readonly source: string | null;
  readonly reverses: string | null;
}

/** The entry and its lines, as two writes (the deferred trigger checks the balance at commit). */
export function journalEntryWrites(entry: JournalEntry, lines: readonly JournalLine[]): Write[] {
  const values = lines.map(
    (line, index) =>
      sql`(${entry.id}::uuid, ${index + 1}::integer, ${line.account}, ${formatMoney(line.debit)}::numeric, ${formatMoney(line.credit)}::numeric)`,
  );
  return [
    {
      query: sql`INSERT INTO journal_entries (id, fund_id, loan_id, event, value_date, source, reverses)
        VALUES (${entry.id}::uuid, ${entry.fund_id}::uuid, ${entry.loan_id}::uuid, ${entry.event}, ${entry.value_date}::date, ${entry.source}, ${entry.reverses}::uuid)`,
    },
    {
      query: sql`INSERT INTO journal_lines (entry_id, line, account, debit, credit) VALUES ${sql.join(values)}`,
    },
  ];
}

/** Entries and their lines in bulk, table by table; `at` is each entry's created_at. */
export async function insertJournalRows(
  trx: Transaction<Database>,
  entries: readonly { entry: JournalEntry; lines: readonly JournalLine[]; at: Date }[],
): Promise<void> {
  await insertRows(
    trx,
    'journal_entries',
    entries.map((j) => ({ ...j.entry, created_at: j.at })),
  );
  await insertRows(
    trx,
    'journal_lines',
    entries.flatMap(({ entry, lines }) =>
      lines.map((line, k) => ({
        entry_id: entry.id,
        line: k + 1,
        account: line.account,
        debit: formatMoney(line.debit),
        credit: formatMoney(line.credit),
      })),
    ),
  );
}

/** Debit and credit totals per account of a fund, for entries valued on or before `asOf`. */
export async function accountTotals(
  db: Db,
  fundId: string,
  asOf: string,
): Promise<{ account: Account; debits: Money; credits: Money }[]> {
  const rows = await db
    .selectFrom('journal_lines as l')
    .innerJoin('journal_entries as e', 'e.id', 'l.entry_id')
    .select([
      'l.account',
      sql<string>`sum(l.debit)::text`.as('debits'),
      sql<string>`sum(l.credit)::text`.as('credits'),
    ])
    .where('e.fund_id', '=', fundId)
    .where('e.value_date', '<=', asOf)
    .groupBy('l.account')
    .execute();
  // Sums, not amounts: an account's total may run past what one amount column holds.
  return rows.map((row) => ({
    account: oneOf(ACCOUNTS, row.account, 'journal_lines.account'),
    debits: parseDecimalAmount(row.debits),
    credits: parseDecimalAmount(row.credits),
  }));
}

/** A loan's entries valued on or before `asOf`, in value-date order, with their lines and the repayment they stand for. */
export async function loanEntries(db: Db, loanId: string, asOf: string) {
  const rows = await db
    .selectFrom('journal_entries as e')
    .leftJoin('repayments as r', (join) =>
      join.on(sql<boolean>`e.source = 'repayment:' || r.id::text`),
    )
    .select([
      'e.id',
      'e.event',
      'e.value_date',
      'e.source',
      'e.reverses',
      'e.created_at',
      'r.id as repayment_id',
      'r.reference',
    ])
    .select(
      sql<
        [string, string, string][]
      >`(SELECT json_agg(json_build_array(l.account, l.debit::text, l.credit::text) ORDER BY l.line)
      FROM journal_lines l WHERE l.entry_id = e.id)`.as('lines'),
    )
    .where('e.loan_id', '=', loanId)
    .where('e.value_date', '<=', asOf)
    .orderBy('e.value_date')
    .orderBy('e.created_at')
    .orderBy('e.id')
    .execute();
  return rows.map((row) => ({
    ...row,
    event: oneOf(LEDGER_EVENTS, row.event, 'journal_entries.event'),
    value_date: parseDate(row.value_date),
    lines: row.lines.map(journalLineOf),
  }));
}
