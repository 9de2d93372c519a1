import type { Db } from '../db/connect';
import type { Actor } from '../http/auth';
import { findVisibleLoan } from './find-visible-loan';
import { listScheduleVersions as versionsOf } from './loans.repository';
import { type Loan } from './loan-rows';

/** Every fixed schedule version of a loan the key may see, oldest first. */
export async function listScheduleVersions(
  db: Db,
  actor: Actor,
  loanId: string,
): Promise<{ loan: Loan; versions: Awaited<ReturnType<typeof versionsOf>> }> {
  const loan = await findVisibleLoan(db, actor, loanId);
  return { loan, versions: await versionsOf(db, loan.id) };
}
