import type { Db } from '../db/connect';
import { actualDays, type CalendarDate } from '../domain/dates';
import { divideToCents, hundredth, toCents } from '../domain/funding-split';
import { formatMoney } from '../domain/money';
import {
  FLOW_FIGURES,
  fundFlowsBySource,
  listFundingSources,
  type FlowFigure,
  type FlowsBySource,
  type FundingSource,
} from './funding.repository';

/** The SQL the resilience report shares with the funding report: one home for the rule (docs/funding.md). */
export {
  flowsBySourceJson,
  listFundingSources,
  loanFlowsSql,
  type FlowsBySource,
} from './funding.repository';

/** One line of the report: every figure in euros (2 decimals), and the management-fee base. */
function line(exact: Readonly<Record<FlowFigure, string>>, days: number) {
  return {
    disbursed: toCents(exact.disbursed),
    repaid: toCents(exact.repaid),
    written_off: toCents(exact.written_off),
    capitalised_interest: toCents(exact.capitalised_interest),
    outstanding_start: toCents(exact.outstanding_start),
    outstanding_end: toCents(exact.outstanding_end),
    outstanding_days: toCents(exact.outstanding_days),
    average_outstanding: divideToCents(exact.outstanding_days, days),
  };
}

const ZERO_FIGURES = Object.fromEntries(FLOW_FIGURES.map((f) => [f, '0'])) as Record<
  FlowFigure,
  string
>;

/**
 * The one home of the figures by funding source (docs/funding.md "The report by source"): per
 * source, what the fund's ledger says of the loans over [from, to], each loan's figures × its
 * percentage / 100, summed exactly and rounded once per source. Loans without a split are
 * `unallocated`; `total` is the fund's, unsplit. From the flows of one statement: the live report's
 * (fundingFigures) or the resilience report's own (report-indicators), which reads them in the same
 * pass over the ledger as its outstanding principal.
 */
export function figuresBySource(
  sources: readonly FundingSource[],
  flows: FlowsBySource,
  from: CalendarDate,
  to: CalendarDate,
) {
  const days = actualDays(from, to) + 1; // both ends included
  const sums = new Map(flows.sources.map((s) => [s.funding_source_id, s]));
  const { loan_count: unallocatedCount, ...unallocated } = flows.unallocated;
  const { loan_count: totalCount, ...total } = flows.total;
  return {
    from,
    to,
    days,
    sources: sources.map((s) => {
      const sum = sums.get(s.id);
      const exact = sum
        ? (Object.fromEntries(FLOW_FIGURES.map((f) => [f, hundredth(sum[f])])) as Record<
            FlowFigure,
            string
          >)
        : ZERO_FIGURES;
      return {
        funding_source_id: s.id,
        origin: s.origin,
        label: s.label,
        programme_code: s.programme_code,
        priority: s.priority,
        amount_committed: formatMoney(s.amount_committed),
        ...line(exact, days),
      };
    }),
    unallocated: { loan_count: unallocatedCount, ...line(unallocated, days) },
    total: { loan_count: totalCount, ...line(total, days) },
  };
}

/** The live funding report's figures. No access check and no validation: getFundingReport does them. */
export async function fundingFigures(db: Db, fundId: string, from: CalendarDate, to: CalendarDate) {
  const [sources, flows] = await Promise.all([
    listFundingSources(db, fundId),
    fundFlowsBySource(db, fundId, from, to),
  ]);
  return { fund_id: fundId, ...figuresBySource(sources, flows, from, to) };
}

/**
 * The figures by source for the resilience report as of D (docs/rules/reports.md "By funding
 * source"): over the fund's whole life up to D — from its first loan's disbursement date to D, or D
 * alone when nothing was paid out by then (`from`, which the report's statement gives with the
 * flows) —, so that the flows are cumulative like the report's `write_off`, and `outstanding_end` is
 * the outstanding on D. Each source is named by `key` (its id), so that the report's CSV names its
 * lines by it.
 */
export function figuresBySourceSinceInception(
  sources: readonly FundingSource[],
  flows: FlowsBySource,
  from: CalendarDate,
  asOf: CalendarDate,
) {
  const { sources: lines, ...rest } = figuresBySource(sources, flows, from, asOf);
  return {
    ...rest,
    sources: lines.map(({ funding_source_id: key, ...source }) => ({ key, ...source })),
  };
}

export type FundingFigures = Awaited<ReturnType<typeof fundingFigures>>;
