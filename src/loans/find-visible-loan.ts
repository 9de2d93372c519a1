import type { Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import { DomainError } from '../domain/errors';
import { seesStructure, type Actor } from '../http/auth';
import { findLoanById, lockLoanForUpdate } from './loans.repository';
import type { Loan } from './loan-rows';

/** The loans' bulk writes, for the import (the row and its columns are in loan-rows.ts). */
export { insertLoans, updateReplayedLoans } from './loans.repository';

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
