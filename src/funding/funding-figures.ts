import type { Db } from '../db/connect';
import { actualDays, type CalendarDate } from '../domain/dates';
import { ExactDecimal } from '../domain/exact-decimal';
import { hundredth, perDay } from '../domain/funding-split';
import {
  FLOW_FIGURES,
  fundFlowsBySource,
  listFundingSources,
  type FlowSums,
  type FlowsBySource,
  type FundingSource,
} from './funding.repository';

/** The SQL the resilience report shares with the funding report: one home for the rule (docs/funding.md). */
export {
  flowsBySourceJson,
  listFundingSources,
  loanFlowsSql,
  rowToFlowsBySource,
  type FlowsBySource,
  type FlowsBySourceRow,
} from './funding.repository';

/**
 * One line of the report: every figure exact, in euros, and the management-fee base; the view rounds
 * each half-up to the cent, once (toCents).
 */
function line(exact: FlowSums, days: number) {
  return {
    disbursed: exact.disbursed,
    repaid: exact.repaid,
    written_off: exact.written_off,
    capitalised_interest: exact.capitalised_interest,
    outstanding_start: exact.outstanding_start,
    outstanding_end: exact.outstanding_end,
    outstanding_days: exact.outstanding_days,
    average_outstanding: perDay(exact.outstanding_days, days),
  };
}
export type FiguresLine = ReturnType<typeof line>;
/** The figures of a line, in its order. */
export const LINE_FIGURES = [
  ...FLOW_FIGURES,
  'average_outstanding',
] as const satisfies readonly (keyof FiguresLine)[];

const ZERO_FIGURES = Object.fromEntries(
  FLOW_FIGURES.map((f) => [f, new ExactDecimal(0)]),
) as FlowSums;

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
        ? (Object.fromEntries(FLOW_FIGURES.map((f) => [f, hundredth(sum[f])])) as FlowSums)
        : ZERO_FIGURES;
      return {
        funding_source_id: s.id,
        origin: s.origin,
        label: s.label,
        programme_code: s.programme_code,
        priority: s.priority,
        amount_committed: s.amount_committed,
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
