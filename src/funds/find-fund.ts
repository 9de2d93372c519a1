import type { Db } from '../db/connect';
import { findFundById, type FundRow } from './funds.repository';

export type { FundRow };

/** A fund by id, for other features that refer to one (they never read the funds table themselves). */
export function findFund(db: Db, id: string): Promise<FundRow | undefined> {
  return findFundById(db, id);
}
