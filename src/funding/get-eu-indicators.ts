import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { ExactDecimal } from '../domain/exact-decimal';
import { findVisibleFund } from '../funds/find-visible-fund';
import type { Actor } from '../http/auth';
import { findFundingSourceById, supportedEnterprises } from './funding.repository';

const SIZE_CLASSES = ['micro', 'small', 'medium', 'large', 'unknown'] as const;

export interface EuIndicatorsQuery {
  from: CalendarDate;
  to: CalendarDate;
  funding_source_id?: string;
  also_fund_ids?: string;
}

/**
 * GET /v1/funds/{fund_id}/eu-indicators: RCO01, RCO03 and RCR01 over the loans disbursed in [from, to]
 * that a programme co-finances (docs/funding.md "EU common indicators"). `also_fund_ids` adds other
 * funds the key sees (the admin's view across funds): an enterprise is counted once across them all.
 */
export async function getEuIndicators(
  db: Db,
  actor: Actor,
  fundId: string,
  query: EuIndicatorsQuery,
) {
  const others = (query.also_fund_ids ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '' && id !== fundId);
  for (const id of [fundId, ...others]) await findVisibleFund(db, actor, id);
  if (query.to < query.from)
    throw new DomainError('rule_violation', 'The period ends before it starts.', [
      { field: 'to', message: 'is before from', in: 'query' },
    ]);
  const fundIds = [fundId, ...new Set(others)];
  if (query.funding_source_id !== undefined) {
    const source = await findFundingSourceById(db, query.funding_source_id);
    if (!source || !fundIds.includes(source.fund_id)) {
      throw new DomainError('not_found', 'No such funding source.', [
        { field: 'funding_source_id', message: 'not found', in: 'query' },
      ]);
    }
  }
  const enterprises = await supportedEnterprises(db, {
    fundIds,
    from: query.from,
    to: query.to,
    sourceId: query.funding_source_id,
  });
  const bySize = Object.fromEntries(
    SIZE_CLASSES.map((size) => [
      size,
      enterprises.filter((e) => (e.size_class ?? 'unknown') === size).length,
    ]),
  );
  const reporting = enterprises.filter((e) => e.jobs_created !== null);
  return {
    fund_ids: fundIds,
    from: query.from,
    to: query.to,
    funding_source_id: query.funding_source_id ?? null,
    loan_count: enterprises.reduce((n, e) => n + e.loan_count, 0),
    rco01: { value: enterprises.length, ...bySize },
    rco03: { value: enterprises.length },
    rcr01: {
      value: Number(
        reporting
          .reduce((sum, e) => sum.plus(e.jobs_created!), new ExactDecimal(0))
          .toFixed(2, ExactDecimal.ROUND_HALF_UP),
      ),
      enterprises_reporting: reporting.length,
      enterprises_not_reporting: enterprises.length - reporting.length,
    },
  };
}
