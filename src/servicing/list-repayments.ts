import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import type { Actor } from '../http/auth';
import type { Page } from '../http/pagination';
import { findVisibleLoan } from '../loans/find-visible-loan';
import { findRepayment, listRepayments, restructuringsOfLoan } from './servicing.repository';

/** A loan's repayments in the order they were recorded, reversed ones included, with their allocations. */
export async function listRepaymentsOfLoan(db: Db, actor: Actor, loanId: string, page: Page) {
  const loan = await findVisibleLoan(db, actor, loanId);
  return listRepayments(db, loan.id, page.after, page.limit + 1);
}

export async function getRepayment(db: Db, actor: Actor, loanId: string, repaymentId: string) {
  const loan = await findVisibleLoan(db, actor, loanId);
  const repayment = await findRepayment(db, loan.id, repaymentId);
  if (!repayment) throw new DomainError('not_found', 'No such repayment on this loan.');
  const { allocations } = await listRepayments(db, loan.id, String(BigInt(repayment.seq) - 1n), 1);
  return { repayment, allocations };
}

export async function listRestructuringsOfLoan(db: Db, actor: Actor, loanId: string) {
  const loan = await findVisibleLoan(db, actor, loanId);
  return restructuringsOfLoan(db, loan.id);
}
