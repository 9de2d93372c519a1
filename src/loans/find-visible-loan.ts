import type { Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import { DomainError } from '../domain/errors';
import { seesStructure, type Actor } from '../http/auth';
import { findLoanById, lockLoanForUpdate, type Loan } from './loans.repository';

/** The loan and how a row becomes one, for the features above (servicing, imports). */
export { insertLoans, loanColumns, rowToLoan, updateReplayedLoans } from './loans.repository';
export type { Loan, LoanColumns, NewLoan } from './loans.repository';

/** A loan the key may see (its fund's, or its structure's), or a 404. */
export async function findVisibleLoan(db: Db, actor: Actor, loanId: string): Promise<Loan> {
  const loan = await findLoanById(db, loanId);
  if (!loan || !seesStructure(actor, loan.fund_id, loan.structure_id))
    throw new DomainError('not_found', 'No such loan.');
  return loan;
}

/** The same, locked until the transaction ends: what every change to a loan starts with. */
export async function lockVisibleLoan(
  trx: Transaction<Database>,
  actor: Actor,
  loanId: string,
): Promise<Loan> {
  const loan = await lockLoanForUpdate(trx, loanId);
  if (!loan || !seesStructure(actor, loan.fund_id, loan.structure_id))
    throw new DomainError('not_found', 'No such loan.');
  return loan;
}
