import type { Db } from '../db/connect';
import { DomainError, type FieldError } from '../domain/errors';
import { seesFund, type Actor } from '../http/auth';
import { findFundById, type Fund } from './funds.repository';

export type { Fund };

/**
 * A fund the key may see, or a 404 — the same whether the fund is missing or outside the key's
 * scope. `field` names the request field that referred to it, when it came from a body.
 */
export async function findVisibleFund(
  db: Db,
  actor: Actor,
  fundId: string,
  field?: string,
): Promise<Fund> {
  const fund = seesFund(actor, fundId) ? await findFundById(db, fundId) : undefined;
  if (!fund) {
    const fields: FieldError[] = field ? [{ field, message: 'not found' }] : [];
    throw new DomainError('not_found', 'No such fund.', fields);
  }
  return fund;
}
