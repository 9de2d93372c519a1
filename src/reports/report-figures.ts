import type { CalendarDate } from '../domain/dates';
import { parseExactDecimal, type ExactDecimal } from '../domain/exact-decimal';
import { formatMoney, parseDecimalAmount, type Money } from '../domain/money';
import type { figuresBySourceSinceInception } from '../funding/funding-figures';
import { figuresBySourceText } from '../funding/funding-report.view';
import type { AgeingBucketKey } from './report-indicators';

/** part / whole, 6 decimals; null when its denominator is 0. */
export type Ratio = ExactDecimal | null;

export interface Breakdown {
  readonly key: string;
  readonly loan_count: number;
  readonly outstanding_principal: Money;
}
export interface AgeingFigures {
  readonly loan_count: number;
  readonly outstanding_principal: Money;
  readonly arrears: Money;
}
export interface SupportedGroup {
  readonly key: string;
  readonly structure_count: number;
  /** Σ of full-time equivalents, 2 decimals. */
  readonly jobs_fte: ExactDecimal;
}
export interface Vintage {
  readonly year: number;
  readonly loan_count: number;
  readonly current: Ratio;
  readonly in_arrears: Ratio;
  readonly repaid: Ratio;
  readonly written_off: Ratio;
}
export interface ExpectedMonth {
  readonly month: string;
  readonly principal: Money;
  readonly interest: Money;
  readonly total: Money;
}

/** The figures the report's statement computes (see indicatorsQuery for each definition), as domain values. */
export interface StatementFigures {
  readonly loan_count: number;
  readonly active_loan_count: number;
  readonly outstanding_principal: Money;
  readonly by_kind: readonly Breakdown[];
  readonly by_status: readonly Breakdown[];
  readonly by_sector: readonly Breakdown[];
  readonly by_territory: readonly Breakdown[];
  readonly by_legal_form: readonly Breakdown[];
  readonly ageing: Readonly<Record<AgeingBucketKey, AgeingFigures>>;
  readonly par30: Ratio;
  readonly par90: Ratio;
  readonly restructured: {
    readonly loan_count: number;
    readonly outstanding_principal: Money;
    readonly share: Ratio;
  };
  readonly write_off: {
    readonly disbursed_principal: Money;
    readonly written_off_principal: Money;
    readonly recovered: Money;
    readonly write_off_rate: Ratio;
    readonly recovery_rate: Ratio;
  };
  readonly expected_loss: { readonly amount: Money; readonly gross_amount: Money };
  readonly vintage: readonly Vintage[];
  readonly concentration: {
    readonly top10_exposure_share: Ratio;
    readonly herfindahl_sector: Ratio;
    readonly herfindahl_territory: Ratio;
  };
  readonly supported: {
    readonly structure_count: number;
    readonly jobs_fte: ExactDecimal;
    readonly by_territory: readonly SupportedGroup[];
    readonly by_sector: readonly SupportedGroup[];
  };
  readonly expected_repayments: {
    readonly arrears: Money;
    readonly months: readonly ExpectedMonth[];
  };
}

/** A fund's resilience report as of a date, in domain values; reportIndicatorsView writes it as stored. */
export type ReportFigures = {
  readonly fund_id: string;
  readonly as_of: CalendarDate;
  readonly currency: string;
} & Omit<StatementFigures, 'expected_loss'> & {
    readonly expected_loss: StatementFigures['expected_loss'] & {
      readonly loss_rates: Readonly<Record<AgeingBucketKey, string>>;
    };
    /** Per funding source, since the fund's first disbursement (issue 15 item 3; docs/rules/reports.md "By funding source"). */
    readonly by_funding_source: ReturnType<typeof figuresBySourceSinceInception>;
  };

/** The same shape with every amount and ratio as its decimal text: what SQL gives and what is stored. */
export type AsText<T> = T extends Money | ExactDecimal
  ? string
  : T extends readonly (infer U)[]
    ? readonly AsText<U>[]
    : T extends CalendarDate
      ? T
      : T extends object
        ? { readonly [K in keyof T]: AsText<T[K]> }
        : T;

/** The report as stored (JSON and CSV) and returned: amounts with 2 decimals, ratios with 6, jobs with 2. */
export type ReportIndicators = AsText<ReportFigures>;

// Spreading first keeps each member where the statement put it: the stored JSON and the CSV follow that order.
const ratio = (text: string | null): Ratio => (text === null ? null : parseExactDecimal(text));
const ratioText = (value: Ratio) => (value === null ? null : value.toFixed(6));
const breakdown = (b: AsText<Breakdown>): Breakdown => ({
  ...b,
  outstanding_principal: parseDecimalAmount(b.outstanding_principal),
});
const breakdownText = (b: Breakdown): AsText<Breakdown> => ({
  ...b,
  outstanding_principal: formatMoney(b.outstanding_principal),
});
const group = (g: AsText<SupportedGroup>): SupportedGroup => ({
  ...g,
  jobs_fte: parseExactDecimal(g.jobs_fte),
});
const groupText = (g: SupportedGroup): AsText<SupportedGroup> => ({
  ...g,
  jobs_fte: g.jobs_fte.toFixed(2),
});
const mapAgeing = <A, B>(ageing: Readonly<Record<AgeingBucketKey, A>>, f: (a: A) => B) =>
  Object.fromEntries(Object.entries(ageing).map(([k, a]) => [k, f(a as A)])) as Record<
    AgeingBucketKey,
    B
  >;

/** The statement's JSON as domain values: sums through parseDecimalAmount (signed, any size). */
export function statementFigures(f: AsText<StatementFigures>): StatementFigures {
  return {
    ...f,
    outstanding_principal: parseDecimalAmount(f.outstanding_principal),
    by_kind: f.by_kind.map(breakdown),
    by_status: f.by_status.map(breakdown),
    by_sector: f.by_sector.map(breakdown),
    by_territory: f.by_territory.map(breakdown),
    by_legal_form: f.by_legal_form.map(breakdown),
    ageing: mapAgeing(f.ageing, (a) => ({
      ...a,
      outstanding_principal: parseDecimalAmount(a.outstanding_principal),
      arrears: parseDecimalAmount(a.arrears),
    })),
    par30: ratio(f.par30),
    par90: ratio(f.par90),
    restructured: {
      ...f.restructured,
      outstanding_principal: parseDecimalAmount(f.restructured.outstanding_principal),
      share: ratio(f.restructured.share),
    },
    write_off: {
      disbursed_principal: parseDecimalAmount(f.write_off.disbursed_principal),
      written_off_principal: parseDecimalAmount(f.write_off.written_off_principal),
      recovered: parseDecimalAmount(f.write_off.recovered),
      write_off_rate: ratio(f.write_off.write_off_rate),
      recovery_rate: ratio(f.write_off.recovery_rate),
    },
    expected_loss: {
      amount: parseDecimalAmount(f.expected_loss.amount),
      gross_amount: parseDecimalAmount(f.expected_loss.gross_amount),
    },
    vintage: f.vintage.map((v) => ({
      ...v,
      current: ratio(v.current),
      in_arrears: ratio(v.in_arrears),
      repaid: ratio(v.repaid),
      written_off: ratio(v.written_off),
    })),
    concentration: {
      top10_exposure_share: ratio(f.concentration.top10_exposure_share),
      herfindahl_sector: ratio(f.concentration.herfindahl_sector),
      herfindahl_territory: ratio(f.concentration.herfindahl_territory),
    },
    supported: {
      ...f.supported,
      jobs_fte: parseExactDecimal(f.supported.jobs_fte),
      by_territory: f.supported.by_territory.map(group),
      by_sector: f.supported.by_sector.map(group),
    },
    expected_repayments: {
      arrears: parseDecimalAmount(f.expected_repayments.arrears),
      months: f.expected_repayments.months.map((m) => ({
        ...m,
        principal: parseDecimalAmount(m.principal),
        interest: parseDecimalAmount(m.interest),
        total: parseDecimalAmount(m.total),
      })),
    },
  };
}

/** The report as stored: every member in its order, amounts "1250.00", ratios "0.285714", jobs "12.50". */
export function reportIndicatorsView(r: ReportFigures): ReportIndicators {
  return {
    ...r,
    outstanding_principal: formatMoney(r.outstanding_principal),
    by_kind: r.by_kind.map(breakdownText),
    by_status: r.by_status.map(breakdownText),
    by_sector: r.by_sector.map(breakdownText),
    by_territory: r.by_territory.map(breakdownText),
    by_legal_form: r.by_legal_form.map(breakdownText),
    ageing: mapAgeing(r.ageing, (a) => ({
      ...a,
      outstanding_principal: formatMoney(a.outstanding_principal),
      arrears: formatMoney(a.arrears),
    })),
    par30: ratioText(r.par30),
    par90: ratioText(r.par90),
    restructured: {
      ...r.restructured,
      outstanding_principal: formatMoney(r.restructured.outstanding_principal),
      share: ratioText(r.restructured.share),
    },
    write_off: {
      disbursed_principal: formatMoney(r.write_off.disbursed_principal),
      written_off_principal: formatMoney(r.write_off.written_off_principal),
      recovered: formatMoney(r.write_off.recovered),
      write_off_rate: ratioText(r.write_off.write_off_rate),
      recovery_rate: ratioText(r.write_off.recovery_rate),
    },
    expected_loss: {
      amount: formatMoney(r.expected_loss.amount),
      gross_amount: formatMoney(r.expected_loss.gross_amount),
      loss_rates: r.expected_loss.loss_rates,
    },
    vintage: r.vintage.map((v) => ({
      ...v,
      current: ratioText(v.current),
      in_arrears: ratioText(v.in_arrears),
      repaid: ratioText(v.repaid),
      written_off: ratioText(v.written_off),
    })),
    concentration: {
      top10_exposure_share: ratioText(r.concentration.top10_exposure_share),
      herfindahl_sector: ratioText(r.concentration.herfindahl_sector),
      herfindahl_territory: ratioText(r.concentration.herfindahl_territory),
    },
    supported: {
      ...r.supported,
      jobs_fte: r.supported.jobs_fte.toFixed(2),
      by_territory: r.supported.by_territory.map(groupText),
      by_sector: r.supported.by_sector.map(groupText),
    },
    expected_repayments: {
      arrears: formatMoney(r.expected_repayments.arrears),
      months: r.expected_repayments.months.map((m) => ({
        ...m,
        principal: formatMoney(m.principal),
        interest: formatMoney(m.interest),
        total: formatMoney(m.total),
      })),
    },
    by_funding_source: figuresBySourceText(r.by_funding_source),
  };
}
