import { ledgerChanges } from '../domain/ledger';
import type { DesiredPosting } from '../domain/servicing';
import {
  entryRows,
  reversalOf,
  type EntryRows,
  type PostedEntry,
} from '../ledger/post-journal-entry';
import type { Loan } from './servicing.repository';

/** The entries the history calls for that are not posted, and the reversals of those posted that it no longer calls for. */
export function journalChanges(
  loan: Loan,
  entries: readonly PostedEntry[],
  postings: readonly DesiredPosting[],
): EntryRows[] {
  const { stale, unposted } = ledgerChanges(
    entries.filter((entry) => entry.source !== 'disbursement'),
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
