import { addMonths, toYmd, type CalendarDate } from '../domain/dates';
import { ExactDecimal as D, eurosOf as euros } from '../domain/exact-decimal';
import { cents, formatMoney, ZERO, type Money } from '../domain/money';
import type { EvaluatedLoan, EvaluatedSnapshot } from './evaluation.repository';
import { nafSection } from './naf-sections';

/** Amounts in cents (Money), jobs and ratios exact decimals; ratios rounded half-up to 6 decimals once, at the end (as the resilience report's). */
type Dec = D;
const NO_JOBS = new D(0);
const TEN_THOUSAND = new D(10000);

/** part / whole as a 6-decimal string, null when whole is 0. */
const ratio = (part: Dec, whole: Dec) =>
  whole.isZero() ? null : part.div(whole).toFixed(6, D.ROUND_HALF_UP);

export const HORIZONS = [1, 2, 3] as const;

export interface Horizon {
  readonly key: string;
  readonly reached: number;
  readonly survived: number;
  readonly ceased: number;
  readonly unreported: number;
  readonly rate: string | null;
}
export interface VintageSurvival {
  readonly year: number;
  readonly structure_count: number;
  readonly horizons: readonly Horizon[];
}
export interface GroupFigures {
  readonly key: string;
  readonly loan_count: number;
  readonly structure_count: number;
  readonly lent: string;
  readonly qpv_loan_count: number;
  readonly qpv_lent: string;
  readonly qpv_loan_share: string | null;
  readonly qpv_amount_share: string | null;
  readonly jobs_created: string;
  readonly jobs_maintained: string;
  readonly jobs_created_per_10k: string | null;
  readonly jobs_maintained_per_10k: string | null;
  readonly leverage_ratio: string | null;
}
export interface EvaluationIndicators {
  readonly fund_id: string;
  readonly as_of: CalendarDate;
  readonly currency: string;
  readonly loan_count: number;
  readonly structure_count: number;
  readonly lent: string;
  readonly jobs: {
    readonly reporting_structures: number;
    readonly created: string;
    readonly maintained: string;
    readonly created_per_10k: string | null;
    readonly maintained_per_10k: string | null;
  };
  readonly leverage: {
    readonly bank_loans: string;
    readonly grants: string;
    readonly total: string;
    readonly ratio: string | null;
  };
  readonly qpv: {
    readonly loan_count: number;
    readonly lent: string;
    readonly loan_share: string | null;
    readonly amount_share: string | null;
  };
  readonly survival: readonly VintageSurvival[];
  readonly by_sector: readonly GroupFigures[];
  readonly by_territory: readonly GroupFigures[];
}

interface Financed {
  readonly firstDisbursed: CalendarDate;
  readonly snapshots: readonly EvaluatedSnapshot[];
}

/** The latest snapshot dated in (after, until], or undefined. Snapshots come oldest first. */
const latestBetween = (
  snapshots: readonly EvaluatedSnapshot[],
  after: CalendarDate,
  until: CalendarDate,
) => snapshots.filter((s) => s.snapshot_date > after && s.snapshot_date <= until).at(-1);

/**
 * At horizon h years after its first disbursement F (H = F + h years, 29 February → 28): reached when
 * H ≤ D; `ceased` when its latest snapshot dated in (F, H] says it is not active; `survived` when that
 * snapshot says active and is recent (dated after H − 1 year); `unreported` otherwise (no snapshot, or
 * only an old one): left out of the rate, survived / (survived + ceased).
 */
function horizonOf(structures: readonly Financed[], years: number, asOf: CalendarDate): Horizon {
  let reached = 0;
  let survived = 0;
  let ceased = 0;
  for (const s of structures) {
    const horizon = addMonths(s.firstDisbursed, 12 * years);
    if (horizon > asOf) continue;
    reached += 1;
    const latest = latestBetween(s.snapshots, s.firstDisbursed, horizon);
    if (latest && !latest.still_active) ceased += 1;
    else if (latest && latest.snapshot_date > addMonths(horizon, -12)) survived += 1;
  }
  return {
    key: `${years}y`,
    reached,
    survived,
    ceased,
    unreported: reached - survived - ceased,
    rate: ratio(new D(survived), new D(survived + ceased)),
  };
}

interface Totals {
  loans: number;
  structures: Set<string>;
  lent: Money;
  qpvLoans: number;
  qpvLent: Money;
  created: Dec;
  maintained: Dec;
  leverage: Money;
}
const emptyTotals = (): Totals => ({
  loans: 0,
  structures: new Set(),
  lent: ZERO,
  qpvLoans: 0,
  qpvLent: ZERO,
  created: NO_JOBS,
  maintained: NO_JOBS,
  leverage: ZERO,
});

function groupFigures(key: string, t: Totals): GroupFigures {
  return {
    key,
    loan_count: t.loans,
    structure_count: t.structures.size,
    lent: formatMoney(t.lent),
    qpv_loan_count: t.qpvLoans,
    qpv_lent: formatMoney(t.qpvLent),
    qpv_loan_share: ratio(new D(t.qpvLoans), new D(t.loans)),
    qpv_amount_share: ratio(euros(t.qpvLent), euros(t.lent)),
    jobs_created: t.created.toFixed(2),
    jobs_maintained: t.maintained.toFixed(2),
    jobs_created_per_10k: ratio(t.created.times(TEN_THOUSAND), euros(t.lent)),
    jobs_maintained_per_10k: ratio(t.maintained.times(TEN_THOUSAND), euros(t.lent)),
    leverage_ratio: ratio(euros(t.leverage), euros(t.lent)),
  };
}

/**
 * The evaluation report of a fund as of D (docs/evaluation.md defines each figure): from its loans paid
 * out by D and its structures' impact snapshots dated by D. A structure's jobs are those of its latest
 * snapshot dated from its first disbursement to D (jobs created and maintained since the fund first
 * lent, as the snapshot records them), counted once, in its sector and department.
 */
export function evaluationIndicators(
  fundId: string,
  asOf: CalendarDate,
  currency: string,
  loans: readonly EvaluatedLoan[],
  snapshots: readonly EvaluatedSnapshot[],
): EvaluationIndicators {
  const snapshotsOf = new Map<string, EvaluatedSnapshot[]>();
  for (const s of snapshots)
    snapshotsOf.set(s.structure_id, [...(snapshotsOf.get(s.structure_id) ?? []), s]);
  const financed = new Map<string, Financed>();
  for (const loan of loans) {
    // oldest first: the first seen is the first disbursement
    if (!financed.has(loan.structure_id))
      financed.set(loan.structure_id, {
        firstDisbursed: loan.disbursed_on,
        snapshots: snapshotsOf.get(loan.structure_id) ?? [],
      });
  }
  const jobsOf = new Map<string, { created: Dec; maintained: Dec }>();
  for (const [id, s] of financed) {
    const latest = s.snapshots.filter((x) => x.snapshot_date >= s.firstDisbursed).at(-1);
    if (latest)
      jobsOf.set(id, { created: latest.jobs_created, maintained: latest.jobs_maintained });
  }

  const total = emptyTotals();
  const bySector = new Map<string, Totals>();
  const byTerritory = new Map<string, Totals>();
  let bankLoans = ZERO;
  let grants = ZERO;
  for (const loan of loans) {
    const leverage = cents(loan.leverage_bank_loans + loan.leverage_grants);
    bankLoans = cents(bankLoans + loan.leverage_bank_loans);
    grants = cents(grants + loan.leverage_grants);
    for (const [groups, key] of [
      [undefined, ''],
      [bySector, nafSection(loan.naf_code)],
      [byTerritory, loan.department_code],
    ] as const) {
      let t = total;
      if (groups) {
        t = groups.get(key) ?? emptyTotals();
        groups.set(key, t);
      }
      t.loans += 1;
      t.lent = cents(t.lent + loan.principal);
      t.leverage = cents(t.leverage + leverage);
      if (loan.qpv) {
        t.qpvLoans += 1;
        t.qpvLent = cents(t.qpvLent + loan.principal);
      }
      if (!t.structures.has(loan.structure_id)) {
        // a structure's jobs once per group
        t.structures.add(loan.structure_id);
        const jobs = jobsOf.get(loan.structure_id);
        if (jobs) {
          t.created = t.created.plus(jobs.created);
          t.maintained = t.maintained.plus(jobs.maintained);
        }
      }
    }
  }

  const vintages = new Map<number, Financed[]>();
  for (const s of financed.values()) {
    const year = toYmd(s.firstDisbursed).year;
    vintages.set(year, [...(vintages.get(year) ?? []), s]);
  }
  const all = groupFigures('', total);
  const sorted = (groups: Map<string, Totals>) =>
    [...groups]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, t]) => groupFigures(key, t));
  return {
    fund_id: fundId,
    as_of: asOf,
    currency,
    loan_count: total.loans,
    structure_count: total.structures.size,
    lent: all.lent,
    jobs: {
      reporting_structures: jobsOf.size,
      created: all.jobs_created,
      maintained: all.jobs_maintained,
      created_per_10k: all.jobs_created_per_10k,
      maintained_per_10k: all.jobs_maintained_per_10k,
    },
    leverage: {
      bank_loans: formatMoney(bankLoans),
      grants: formatMoney(grants),
      total: formatMoney(cents(bankLoans + grants)),
      ratio: all.leverage_ratio,
    },
    qpv: {
      loan_count: total.qpvLoans,
      lent: all.qpv_lent,
      loan_share: all.qpv_loan_share,
      amount_share: all.qpv_amount_share,
    },
    survival: [...vintages]
      .sort(([a], [b]) => a - b)
      .map(([year, structures]) => ({
        year,
        structure_count: structures.length,
        horizons: HORIZONS.map((h) => horizonOf(structures, h, asOf)),
      })),
    by_sector: sorted(bySector),
    by_territory: sorted(byTerritory),
  };
}
