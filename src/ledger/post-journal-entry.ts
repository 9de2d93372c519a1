import type { Transaction } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../db/schema';
import { imbalance, oppositeLines, type JournalLine, type LedgerEvent } from '../domain/ledger';
import { executeWrites, type Write } from '../db/writes';
import { insertJournalRows, journalEntryWrites, type JournalEntry } from './ledger.repository';

export interface Posting {
  readonly fundId: string;
  readonly loanId: string | null;
  readonly event: LedgerEvent;
  readonly valueDate: string;
  readonly lines: readonly JournalLine[];
  /** What the entry stands for in the loan's history ("repayment:<id>", "write_off", …). */
  readonly source?: string;
  /** The entry this one cancels. */
  readonly reverses?: string;
}

/**
 * Posts one balanced journal entry inside the caller's transaction. An unbalanced entry is a bug in
 * a posting rule, refused here and, should it get past, by the database at commit.
 */
export async function postJournalEntry(
  trx: Transaction<Database>,
  posting: Posting,
): Promise<void> {
  await executeWrites(trx, journalEntry(posting));
}

/** A balanced entry as the rows it is stored as: what an import writes in bulk, and journalEntry as writes. */
export interface EntryRows {
  readonly entry: JournalEntry;
  readonly lines: readonly JournalLine[];
}

/** Entries already built and checked (entryRows: an import's replayed loans) in bulk, each dated when it was posted. */
export async function postJournalEntries(
  trx: Transaction<Database>,
  entries: readonly (EntryRows & { readonly at: Date })[],
): Promise<void> {
  await insertJournalRows(trx, entries);
}

/** One balanced journal entry, with its id: refused here if a posting rule ever made it unbalanced. */
export function entryRows(posting: Posting): EntryRows {
  if (imbalance(posting.lines) !== 0n || posting.lines.length < 2)
    throw new Error(`unbalanced ${posting.event} entry`);
  return {
    entry: {
      id: uuidv7(),
      fund_id: posting.fundId,
      loan_id: posting.loanId,
      event: posting.event,
      value_date: posting.valueDate,
      source: posting.source ?? posting.event,
      reverses: posting.reverses ?? null,
    },
    lines: posting.lines,
  };
}

/** The writes of one balanced journal entry, to send with the rest of a use case's writes. */
export function journalEntry(posting: Posting): Write[] {
  return entryWrites(entryRows(posting));
}

export const entryWrites = ({ entry, lines }: EntryRows): Write[] =>
  journalEntryWrites(entry, lines);

export interface PostedEntry {
  readonly id: string;
  readonly source: string;
  readonly event: LedgerEvent;
  readonly valueDate: string;
  readonly lines: readonly JournalLine[];
}

/** The entry that cancels another with its opposite, on the same value date so that every as-of balance is corrected. */
export function reversalOf(fundId: string, loanId: string, entry: PostedEntry): EntryRows {
  return entryRows({
    fundId,
    loanId,
    event: 'reversal',
    valueDate: entry.valueDate,
    lines: oppositeLines(entry.lines),
    source: entry.source,
    reverses: entry.id,
  });
}
