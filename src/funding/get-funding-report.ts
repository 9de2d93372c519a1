import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { findVisibleFund } from '../funds/find-visible-fund';
import type { Actor } from '../http/auth';
import { fundingFigures } from './funding-figures';

/**
 * GET /v1/funds/{fund_id}/funding-report (and .csv): per funding source, what the fund's ledger says
 * of the loans over [from, to], each loan's figures split by its percentages (docs/funding.md "The
 * report by source"; the computation is fundingFigures, shared with the resilience report).
 */
export async function getFundingReport(
  db: Db,
  actor: Actor,
  fundId: string,
  from: CalendarDate,
  to: CalendarDate,
) {
  await findVisibleFund(db, actor, fundId);
  if (to < from)
    throw new DomainError('rule_violation', 'The period ends before it starts.', [
      { field: 'to', message: 'is before from', in: 'query' },
    ]);
  return fundingFigures(db, fundId, from, to);
}
