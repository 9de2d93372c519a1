import type { Account } from '../domain/ledger';
import { ledgerChanges } from '../domain/ledger';
import { parseMoney } from '../domain/money';
import type { DesiredPosting } from '../domain/servicing';
import {
  entryRows,
  reversalOf,
  type EntryRows,
  type LedgerEvent,
  type PostedEntry,
} from '../ledger/post-journal-entry';
import type { Loan, StandingEntry } from './servicing.repository';

/** The entries the history calls for that are not posted, and the reversals of those posted that it no longer calls for. */
export function journalChanges(
  loan: Loan,
  entries: readonly StandingEntry[],
  postings: readonly DesiredPosting[],
): EntryRows[] {
  const { stale, unposted } = ledgerChanges(
    entries.map(postedEntry).filter((entry) => entry.source !== 'disbursement'),
    postings,
  );
  return [
    ...stale.map((entry) => reversalOf(loan.fund_id, loan.id, entry)),
    ...unposted.map((posting) => loanEntry(loan, posting)),
  ];
}

/** The journal entry that books one of the loan's postings. */
export const loanEntry = (loan: Loan, posting: DesiredPosting): EntryRows =>
  entryRows({
    fundId: loan.fund_id,
    loanId: loan.id,
    event: posting.event,
    valueDate: posting.valueDate,
    lines: posting.lines,
    source: posting.source,
  });

const postedEntry = (entry: StandingEntry): PostedEntry => ({
  id: entry.id,
  source: entry.source,
  event: entry.event as LedgerEvent,
  valueDate: entry.value_date,
  lines: entry.lines.map(([account, debit, credit]) => ({
    account: account as Account,
    debit: parseMoney(debit),
    credit: parseMoney(credit),
  })),
});
