import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import { formatMoney } from '../domain/money';
import type { JournalLine } from '../domain/ledger';

export interface JournalEntry {
  readonly id: string;
  readonly fund_id: string;
  readonly loan_id: string | null;
  readonly event: string;
  readonly value_date: string;
}

export async function insertJournalEntry(trx: Transaction<Database>, entry: JournalEntry, lines: readonly JournalLine[]): Promise<void> {
  await trx.insertInto('journal_entries').values(entry).execute();
  await trx.insertInto('journal_lines').values(lines.map((line, index) => ({
    entry_id: entry.id, line: index + 1, account: line.account, debit: formatMoney(line.debit), credit: formatMoney(line.credit),
  }))).execute();
}

/** Debit and credit totals per account of a fund, for entries valued on or before `asOf`. */
export async function accountTotals(db: Db, fundId: string, asOf: string) {
  return db.selectFrom('journal_lines as l').innerJoin('journal_entries as e', 'e.id', 'l.entry_id')
    .select(['l.account', sql<string>`sum(l.debit)::text`.as('debits'), sql<string>`sum(l.credit)::text`.as('credits')])
    .where('e.fund_id', '=', fundId).where('e.value_date', '<=', asOf)
    .groupBy('l.account').execute();
}
