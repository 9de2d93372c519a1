import { sql } from 'kysely';
import type { Db } from '../db/connect';
import { actualDays, type CalendarDate } from '../domain/dates';
import { divideToCents, splitBySource, sumExact, toCents, type Share } from '../domain/funding-split';
import { fundShares, listFundingSources, loanFlows, type LoanFlows } from './funding.repository';

const FIGURES = ['disbursed', 'repaid', 'written_off', 'capitalised_interest', 'outstanding_start', 'outstanding_end', 'outstanding_days'] as const;
type Figure = (typeof FIGURES)[number];

/** One line of the report: every figure in euros (2 decimals), and the management-fee base. */
function line(exact: Readonly<Record<Figure, string>>, days: number) {
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

const ZERO_FIGURES = Object.fromEntries(FIGURES.map((f) => [f, '0'])) as Record<Figure, string>;
const total = (loans: readonly LoanFlows[]) => Object.fromEntries(FIGURES.map((f) => [f, sumExact(loans.map((l) => l[f]))])) as Record<Figure, string>;

/**
 * The one home of the figures by funding source (docs/funding.md "The report by source"): per
 * source, what the fund's ledger says of the loans over [from, to], each loan's figures split by its
 * percentages. Loans without a split are `unallocated`; `total` is the fund's, unsplit. No access
 * check and no validation: the live report (getFundingReport) and the resilience report
 * (report-indicators) do theirs, and pass `db` — the latter its REPEATABLE READ transaction, so that
 * these figures see the same data as every other of the report.
 */
export async function fundingFigures(db: Db, fundId: string, from: CalendarDate, to: CalendarDate) {
  const days = actualDays(from, to) + 1; // both ends included
  const [sources, flows, shareRows] = await Promise.all([listFundingSources(db, fundId), loanFlows(db, fundId, from, to), fundShares(db, fundId)]);
  const sharesOf = new Map<string, Share[]>();
  for (const row of shareRows) sharesOf.set(row.loan_id, [...(sharesOf.get(row.loan_id) ?? []), { sourceId: row.funding_source_id, percent: row.percent }]);
  const split = splitBySource(flows.map((l) => ({ figures: l, shares: sharesOf.get(l.loan_id) ?? [] })), FIGURES);
  const unallocated = flows.filter((l) => !sharesOf.has(l.loan_id));
  return {
    fund_id: fundId,
    from,
    to,
    days,
    sources: sources.map((s) => ({
      funding_source_id: s.id, origin: s.origin, label: s.label, programme_code: s.programme_code, priority: s.priority, amount_committed: s.amount_committed,
      ...line(split.get(s.id) ?? ZERO_FIGURES, days),
    })),
    unallocated: { loan_count: unallocated.length, ...line(total(unallocated), days) },
    total: { loan_count: flows.length, ...line(total(flows), days) },
  };
}

export type FundingFigures = Awaited<ReturnType<typeof fundingFigures>>;

/**
 * The figures by source for the resilience report as of D (docs/rules/reports.md "By funding
 * source"): over the fund's whole life up to D — from its first loan's disbursement date to D, or D alone when nothing was paid out by then — so that
 * the flows are cumulative like the report's `write_off`, and `outstanding_end` is the outstanding
 * on D. Each source is named by `key` (its id), so that the report's CSV names its lines by it.
 */
export async function fundingFiguresSinceInception(db: Db, fundId: string, asOf: CalendarDate) {
  // From the loans (a few thousand rows), not the ledger (millions of lines): a loan's first entry on loans receivable is its disbursement.
  const { rows: [first] } = await sql<{ first: string | null }>`
    SELECT min(l.disbursed_on)::text AS first FROM loans l WHERE l.fund_id = ${fundId}::uuid AND l.disbursed_on <= ${asOf}::date`.execute(db);
  const figures = await fundingFigures(db, fundId, (first?.first ?? asOf) as CalendarDate, asOf);
  const { fund_id: _fund, sources, ...rest } = figures;
  return { ...rest, sources: sources.map(({ funding_source_id: key, ...source }) => ({ key, ...source })) };
}
