import type { Db } from '../db/connect';
import { actualDays, type CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { divideToCents, splitBySource, sumExact, toCents, type Share } from '../domain/funding-split';
import { findVisibleFund } from '../funds/find-visible-fund';
import type { Actor } from '../http/auth';
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
 * GET /v1/funds/{fund_id}/funding-report: per funding source, what the fund's ledger says of the
 * loans over [from, to], each loan's figures split by its percentages (docs/funding.md "The report by
 * source"). Loans without a split (made before the fund recorded a source, or imported) are
 * `unallocated`; `total` is the fund's, unsplit.
 */
export async function getFundingReport(db: Db, actor: Actor, fundId: string, from: CalendarDate, to: CalendarDate) {
  await findVisibleFund(db, actor, fundId);
  if (to < from) throw new DomainError('rule_violation', 'The period ends before it starts.', [{ field: 'to', message: 'is before from', in: 'query' }]);
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
