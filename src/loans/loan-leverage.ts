import { parseMoney, type Money } from '../domain/money';

/**
 * Leverage (issue 15 item 4, docs/evaluation.md): the other financing a loan unlocked for the
 * project — bank loans and grants obtained alongside it — as the fund records it, at creation
 * (POST /v1/loans) or later (PATCH /v1/loans/{id}). Amounts ≥ 0, validated by openapi.yaml's pattern.
 */
export interface LeverageBody {
  leverage_bank_loans?: string;
  leverage_grants?: string;
}

/** The amounts of the members given; a member absent is left out. */
export function leverageColumns(body: LeverageBody): {
  leverage_bank_loans?: Money;
  leverage_grants?: Money;
} {
  const columns: { leverage_bank_loans?: Money; leverage_grants?: Money } = {};
  if (body.leverage_bank_loans !== undefined)
    columns.leverage_bank_loans = parseMoney(body.leverage_bank_loans);
  if (body.leverage_grants !== undefined)
    columns.leverage_grants = parseMoney(body.leverage_grants);
  return columns;
}
