import type { Db } from '../db/connect';
import { listScope, type Actor } from '../http/auth';
import type { Page } from '../http/pagination';
import { findReminders, type Reminder } from './reminders.repository';

export interface ReminderFilters {
  fund_id?: string;
  loan_id?: string;
  status?: Reminder['status'];
}

/** One page (plus one row) of the reminders the key may see: its fund's, or its structure's own. Read on `reads`, the replica if any. */
export function listReminders(
  reads: Db,
  actor: Actor,
  filters: ReminderFilters,
  page: Page,
): Promise<Reminder[]> {
  const scope = listScope(actor, filters.fund_id);
  return findReminders(reads, {
    ...scope,
    loanId: filters.loan_id,
    status: filters.status,
    afterSeq: page.after,
    limit: page.limit + 1,
  });
}
