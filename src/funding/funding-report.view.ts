import type { CalendarDate } from '../domain/dates';
import { toCents } from '../domain/funding-split';
import { formatMoney, type Money } from '../domain/money';
import { LINE_FIGURES, type FiguresLine, type FundingFigures } from './funding-figures';

type Figure = keyof FiguresLine;

type LineText<L> = Omit<L, Figure> & Readonly<Record<Figure, string>>;
/** A line's figures half-up to the cent, each in its place (the JSON and the CSV keep the order). */
function lineText<L extends FiguresLine>(l: L): LineText<L> {
  const text: Record<string, unknown> = { ...l };
  for (const f of LINE_FIGURES) text[f] = toCents(l[f]);
  return text as LineText<L>;
}

type SourceLine = FiguresLine & { readonly amount_committed: Money };
const sourceText = <S extends SourceLine>(s: S) =>
  ({ ...lineText(s), amount_committed: formatMoney(s.amount_committed) }) as Omit<
    LineText<S>,
    'amount_committed'
  > & { readonly amount_committed: string };

type CountedLine = FiguresLine & { readonly loan_count: number };

/**
 * The figures by source as written, by the funding report and the resilience report alike: the
 * committed amounts "1250.00", every figure rounded half-up to the cent.
 */
export function figuresBySourceText<S extends SourceLine>(f: {
  readonly from: CalendarDate;
  readonly to: CalendarDate;
  readonly days: number;
  readonly sources: readonly S[];
  readonly unallocated: CountedLine;
  readonly total: CountedLine;
}) {
  // A spread, so that each member stays where it was: the resilience report lists its sources last.
  return {
    ...f,
    sources: f.sources.map(sourceText),
    unallocated: lineText(f.unallocated),
    total: lineText(f.total),
  };
}

/** GET /v1/funds/{fund_id}/funding-report's body (and its CSV's lines). */
export function fundingReportView({ fund_id, ...figures }: FundingFigures) {
  return { fund_id, ...figuresBySourceText(figures) };
}
export type FundingReport = ReturnType<typeof fundingReportView>;
