import type { Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import type { Write } from '../db/writes';
import type { CalendarDate } from '../domain/dates';
import type { FieldError } from '../domain/errors';
import {
  addBasisPoints,
  DISCOUNT_MARGIN_BP,
  grossGrantEquivalent,
  marginBasisPoints,
  normalisePercent,
  type AidRow,
  type CollateralClass,
  type RatingClass,
} from '../domain/gge';
import { ExactDecimal } from '../domain/exact-decimal';
import { formatMoney, type Money } from '../domain/money';
import { buildSchedule, type ScheduleTerms } from '../domain/schedule';
import {
  aidGrantColumns,
  aidGrantInsert,
  findAidGrantsOfLoan,
  findBaseRateInForce,
  findBaseRatesOfFund,
  updateLoanAid,
  type BaseRate,
  type LegalBasis,
  type LoanAidFacts,
  type NewAidGrant,
} from './state-aid.repository';

/** A fund's base rates, all of them: the import checks a whole file against them. */
export { findBaseRatesOfFund };
/** What state aid reads of a loan: src/loans' Loan is made of it. */
export type { LoanAidFacts };

/** Without a class on the loan or its product: no credit history (+400 bp), normal collateral (docs/state-aid.md). */
export const DEFAULT_RATING: RatingClass = 'no_credit_history';
export const DEFAULT_COLLATERAL: CollateralClass = 'normal';

export const ratingOf = (loan: Pick<LoanAidFacts, 'rating_class'>) =>
  loan.rating_class ?? DEFAULT_RATING;
export const collateralOf = (loan: Pick<LoanAidFacts, 'collateral_class'>) =>
  loan.collateral_class ?? DEFAULT_COLLATERAL;

export interface GrantRates {
  readonly base: ExactDecimal;
  readonly reference: ExactDecimal;
  readonly discount: ExactDecimal;
}

/** The grant date's rates for the loan's classes, from a base rate in percent. */
export function ratesFor(
  basePercent: string | ExactDecimal,
  rating: RatingClass,
  collateral: CollateralClass,
): GrantRates {
  return {
    base: new ExactDecimal(basePercent),
    reference: new ExactDecimal(addBasisPoints(basePercent, marginBasisPoints(rating, collateral))),
    discount: new ExactDecimal(addBasisPoints(basePercent, DISCOUNT_MARGIN_BP)),
  };
}

/** The loan's state-aid columns and aid grant, once disbursed (or restructured). */
export interface LoanAid {
  readonly changes: Pick<
    LoanAidFacts,
    | 'base_rate_percent'
    | 'reference_rate_percent'
    | 'discount_rate_percent'
    | 'gross_grant_equivalent'
  >;
  readonly writes: Write[];
  /** The same aid grant as rows, for a bulk insert (the import). */
  readonly grants?: readonly ReturnType<typeof aidGrantColumns>[];
  /** The new aid this event grants: the GGE at disbursement, the increase at a restructuring. */
  readonly granted: Money;
}

/**
 * At disbursement, in its transaction (disburseLoan, and the import's replay through the same
 * function): the GGE over schedule version 1 at the rates in force on the disbursement date, and
 * its aid grant. No base rate recorded on or before that date: the GGE stays null (the loan view
 * says so); the disbursement is not refused, since the rates are the fund's data to complete.
 */
export async function aidAtDisbursement(
  trx: Transaction<Database>,
  loan: LoanAidFacts,
  grantDate: CalendarDate,
  rows: readonly AidRow[],
  baseRate: BaseRateLookup = findBaseRateInForce,
): Promise<LoanAid> {
  const base = await baseRate(trx, loan.fund_id, grantDate);
  if (!base)
    return {
      changes: {
        base_rate_percent: null,
        reference_rate_percent: null,
        discount_rate_percent: null,
        gross_grant_equivalent: null,
      },
      writes: [],
      grants: [],
      granted: 0n as Money,
    };
  const rates = ratesFor(base.rate_percent, ratingOf(loan), collateralOf(loan));
  const gge = grossGrantEquivalent({
    principal: loan.principal,
    grantDate,
    rows,
    referenceRatePercent: rates.reference,
    discountRatePercent: rates.discount,
  });
  const grants: NewAidGrant[] =
    gge > 0n
      ? [
          {
            fund_id: loan.fund_id,
            structure_id: loan.structure_id,
            loan_id: loan.id,
            grant_date: grantDate,
            amount: gge,
            reason: 'disbursement',
            legal_basis: loan.legal_basis,
          },
        ]
      : [];
  return {
    changes: {
      base_rate_percent: rates.base,
      reference_rate_percent: rates.reference,
      discount_rate_percent: rates.discount,
      gross_grant_equivalent: gge,
    },
    writes: grants.map(aidGrantInsert),
    grants: grants.map(aidGrantColumns),
    granted: gge,
  };
}

type BaseRateLookup = (
  trx: Transaction<Database>,
  fundId: string,
  date: CalendarDate,
) => Promise<Pick<BaseRate, 'rate_percent'> | undefined>;

/**
 * For the CSV import's replay, which disburses thousands of loans of one fund in one transaction:
 * the fund's base rates read once per transaction, then the one in force picked in memory.
 */
const ratesByTransaction = new WeakMap<
  object,
  Map<string, Promise<Pick<BaseRate, 'effective_date' | 'rate_percent'>[]>>
>();
export const cachedBaseRate: BaseRateLookup = async (trx, fundId, date) => {
  const byFund = ratesByTransaction.get(trx) ?? ratesByTransaction.set(trx, new Map()).get(trx)!;
  const rates =
    byFund.get(fundId) ?? byFund.set(fundId, findBaseRatesOfFund(trx, fundId)).get(fundId)!;
  return [...(await rates)].reverse().find((r) => r.effective_date <= date);
};

/**
 * A restructuring: the GGE over the new actual schedule, at the grant date's stored rates and
 * discounted to the grant date; what it adds to the aid the loan already granted is new aid dated
 * on the effective date. A decrease gives no aid back (aid is granted when the right to it is
 * conferred), but the loan shows the recomputed GGE; measuring against the aid granted, not the
 * last GGE, a later increase is not counted twice. A loan with no GGE (no base rate at
 * disbursement) stays without one.
 */
export async function aidAtRestructuring(
  trx: Transaction<Database>,
  loan: LoanAidFacts,
  effectiveDate: CalendarDate,
  rows: readonly AidRow[],
): Promise<LoanAid | undefined> {
  if (
    loan.gross_grant_equivalent === null ||
    loan.reference_rate_percent === null ||
    loan.discount_rate_percent === null ||
    loan.disbursed_on === null
  )
    return undefined;
  const gge = grossGrantEquivalent({
    principal: loan.principal,
    grantDate: loan.disbursed_on,
    rows,
    referenceRatePercent: loan.reference_rate_percent,
    discountRatePercent: loan.discount_rate_percent,
  });
  const granted = (await findAidGrantsOfLoan(trx, loan.id)).reduce((sum, g) => sum + g.amount, 0n);
  const increase = gge - granted;
  return {
    changes: {
      base_rate_percent: loan.base_rate_percent,
      reference_rate_percent: loan.reference_rate_percent,
      discount_rate_percent: loan.discount_rate_percent,
      gross_grant_equivalent: gge,
    },
    writes:
      increase > 0n
        ? [
            aidGrantInsert({
              fund_id: loan.fund_id,
              structure_id: loan.structure_id,
              loan_id: loan.id,
              grant_date: effectiveDate,
              amount: increase as Money,
              reason: 'restructuring',
              legal_basis: loan.legal_basis,
            }),
          ]
        : [],
    granted: (increase > 0n ? increase : 0n) as Money,
  };
}

/** What a loan request says of state aid (POST /v1/loans), all optional. */
export interface LoanAidBody {
  rating_class?: RatingClass;
  collateral_class?: CollateralClass;
  legal_basis?: LegalBasis;
  aid_scheme_reference?: string | null;
}

/**
 * The loan's state-aid columns at creation: its own classes, else its product's, else the
 * platform's defaults, fixed on the loan so that a product changed later does not move them;
 * a block-exemption scheme reference exactly when the basis is block_exemption.
 */
export function loanAidColumns(
  body: LoanAidBody,
  product: { rating_class: RatingClass | null; collateral_class: CollateralClass | null },
) {
  const legalBasis: LegalBasis = body.legal_basis ?? 'de_minimis';
  const reference = body.aid_scheme_reference ?? null;
  const broken: FieldError[] = [];
  if (legalBasis === 'block_exemption' && reference === null)
    broken.push({
      field: 'aid_scheme_reference',
      message:
        'is required when legal_basis is block_exemption (the scheme’s reference, e.g. SA.12345)',
    });
  if (legalBasis !== 'block_exemption' && reference !== null)
    broken.push({
      field: 'aid_scheme_reference',
      message: 'applies only when legal_basis is block_exemption',
    });
  return {
    broken,
    columns: {
      rating_class: body.rating_class ?? product.rating_class ?? DEFAULT_RATING,
      collateral_class: body.collateral_class ?? product.collateral_class ?? DEFAULT_COLLATERAL,
      legal_basis: legalBasis,
      aid_scheme_reference: reference,
    },
  };
}

/**
 * The GGE a pending loan would grant if disbursed on its expected date (its projected schedule, the
 * base rate in force then); undefined without a base rate. POST /v1/loans checks it against the headroom.
 */
export async function expectedAid(
  db: Db | Transaction<Database>,
  fundId: string,
  classes: { rating_class: RatingClass; collateral_class: CollateralClass },
  terms: ScheduleTerms,
): Promise<Money | undefined> {
  const base = await findBaseRateInForce(db, fundId, terms.disbursementDate);
  if (!base) return undefined;
  const rates = ratesFor(base.rate_percent, classes.rating_class, classes.collateral_class);
  return grossGrantEquivalent({
    principal: terms.principal,
    grantDate: terms.disbursementDate,
    rows: buildSchedule(terms).rows,
    referenceRatePercent: rates.reference,
    discountRatePercent: rates.discount,
  });
}

/** What POST /v1/schedules/preview takes to show a GGE: the base rate to assume, and the classes. */
export interface PreviewAidInput {
  base_rate_percent: string;
  rating_class?: RatingClass;
  collateral_class?: CollateralClass;
}

/** The preview's GGE: the schedule's rows, granted on its disbursement date, at the rates the input gives. */
export function previewAid(input: PreviewAidInput, terms: ScheduleTerms, rows: readonly AidRow[]) {
  const rating = input.rating_class ?? DEFAULT_RATING;
  const collateral = input.collateral_class ?? DEFAULT_COLLATERAL;
  const rates = ratesFor(input.base_rate_percent, rating, collateral);
  const gge = grossGrantEquivalent({
    principal: terms.principal,
    grantDate: terms.disbursementDate,
    rows,
    referenceRatePercent: rates.reference,
    discountRatePercent: rates.discount,
  });
  return {
    rating_class: rating,
    collateral_class: collateral,
    base_rate_percent: normalisePercent(rates.base),
    reference_rate_percent: normalisePercent(rates.reference),
    discount_rate_percent: normalisePercent(rates.discount),
    gross_grant_equivalent: formatMoney(gge),
  };
}

/** Stores a restructuring's recomputed GGE on the loan (the aid grant goes with the caller's writes). */
export async function saveLoanAid(
  trx: Transaction<Database>,
  loanId: string,
  aid: LoanAid,
): Promise<void> {
  await updateLoanAid(trx, loanId, { gross_grant_equivalent: aid.changes.gross_grant_equivalent });
}
