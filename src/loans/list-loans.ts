import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { listScope, type Actor } from '../http/auth';
import type { Page } from '../http/pagination';
import { listLoans as loansWhere } from './loans.repository';
import { type Loan } from './loan-rows';

export interface LoanFilters {
  fund_id?: string;
  structure_id?: string;
  status?: string;
  kind?: string;
}

/**
 * One page (plus one row, to tell whether another follows) of the loans the key may see, filtered;
 * amounts as of today. Read on `reads`, the replica if any: a loan made a second ago may be missing.
 */
export async function listLoans(
  reads: Db,
  actor: Actor,
  filters: LoanFilters,
  page: Page,
  today: CalendarDate,
): Promise<Loan[]> {
  const scope = listScope(actor, filters.fund_id);
  // A structure key may name its own structure, no other.
  if (scope.structureId && filters.structure_id && filters.structure_id !== scope.structureId)
    throw new DomainError('not_found', 'No such structure.');
  return loansWhere(reads, {
    ...scope,
    asOf: today,
    structureId: scope.structureId ?? filters.structure_id,
    status: filters.status,
    kind: filters.kind,
    afterId: page.after,
    limit: page.limit + 1,
  });
}
