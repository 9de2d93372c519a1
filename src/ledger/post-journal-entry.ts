import type { Transaction } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../db/schema';
import { imbalance, type JournalLine } from '../domain/ledger';
import { insertJournalEntry } from './ledger.repository';

export interface Posting {
  readonly fundId: string;
  readonly loanId: string | null;
  readonly event: 'disbursement' | 'repayment' | 'capitalised_interest' | 'write_off' | 'recovery' | 'reversal';
  readonly valueDate: string;
  readonly lines: readonly JournalLine[];
}

/**
 * Posts one balanced journal entry inside the caller's transaction. An unbalanced entry is a bug in
 * a posting rule, refused here and, should it get past, by the database at commit.
 */
export async function postJournalEntry(trx: Transaction<Database>, posting: Posting): Promise<void> {
  if (imbalance(posting.lines) !== 0n || posting.lines.length < 2) throw new Error(`unbalanced ${posting.event} entry`);
  await insertJournalEntry(trx, { id: uuidv7(), fund_id: posting.fundId, loan_id: posting.loanId, event: posting.event, value_date: posting.valueDate }, posting.lines);
}
