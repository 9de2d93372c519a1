import { normalisePercent } from '../domain/gge';
import { collateralOf, ratingOf } from './loan-aid';
import { formatMoney } from '../domain/money';
import type { ExactDecimal } from '../domain/exact-decimal';
import type { AidGrant, BaseRate, DeclaredAid, LoanAidFacts } from './state-aid.repository';

const percentOrNull = (value: ExactDecimal | null) =>
  value === null ? null : normalisePercent(value);

/** A loan's state aid (docs/state-aid.md): its classes, legal basis, the grant date's rates and its GGE. */
export function loanStateAidView(loan: LoanAidFacts) {
  return {
    rating_class: ratingOf(loan),
    collateral_class: collateralOf(loan),
    legal_basis: loan.legal_basis,
    aid_scheme_reference: loan.aid_scheme_reference,
    base_rate_percent: percentOrNull(loan.base_rate_percent),
    reference_rate_percent: percentOrNull(loan.reference_rate_percent),
    discount_rate_percent: percentOrNull(loan.discount_rate_percent),
    gross_grant_equivalent:
      loan.gross_grant_equivalent === null ? null : formatMoney(loan.gross_grant_equivalent),
    // Why a disbursed loan has no GGE: no EU base rate was recorded on or before its disbursement date.
    missing:
      loan.disbursed_on !== null && loan.gross_grant_equivalent === null ? 'eu_base_rate' : null,
  };
}

export function baseRateView(row: BaseRate) {
  return {
    id: row.id,
    fund_id: row.fund_id,
    effective_date: row.effective_date,
    rate_percent: normalisePercent(row.rate_percent),
    created_at: row.created_at.toISOString(),
  };
}

export function aidGrantView(row: AidGrant) {
  return {
    loan_id: row.loan_id,
    structure_id: row.structure_id,
    grant_date: row.grant_date,
    amount: formatMoney(row.amount),
    reason: row.reason,
    legal_basis: row.legal_basis,
  };
}

export function declaredAidView(row: DeclaredAid) {
  return {
    id: row.id,
    structure_id: row.structure_id,
    grantor: row.grantor,
    grant_date: row.grant_date,
    amount: formatMoney(row.amount),
    legal_basis: row.legal_basis,
    created_at: row.created_at.toISOString(),
  };
}
