import { cents, formatMoney, parseMoney } from '../domain/money';
import type { AllocationRow, Loan, RepaymentRow } from './servicing.repository';

/** A repayment as the API shows it: what it paid, instalment by instalment, and what became of the rest. */
export function repaymentView(repayment: RepaymentRow, allocations: readonly AllocationRow[]) {
  const mine = allocations
    .filter((a) => a.repayment_id === repayment.id)
    .sort((a, b) => a.number - b.number);
  const sum = (pick: (a: AllocationRow) => bigint) =>
    formatMoney(cents(mine.reduce((s, a) => s + pick(a), 0n)));
  return {
    id: repayment.id,
    loan_id: repayment.loan_id,
    amount: repayment.amount,
    value_date: repayment.value_date,
    reference: repayment.reference,
    prepayment: repayment.prepayment,
    kind: repayment.kind,
    status: repayment.reversed_at ? 'reversed' : 'posted',
    allocations: mine.map((a) => ({
      instalment_number: a.number,
      fees: a.fees,
      late_interest: a.late_interest,
      interest: a.interest,
      principal: a.principal,
      total: formatMoney(
        cents(
          parseMoney(a.fees) +
            parseMoney(a.late_interest) +
            parseMoney(a.interest) +
            parseMoney(a.principal),
        ),
      ),
    })),
    principal_allocated: sum((a) => parseMoney(a.principal)),
    interest_allocated: sum(
      (a) => parseMoney(a.interest) + parseMoney(a.late_interest) + parseMoney(a.fees),
    ),
    principal_prepaid: repayment.principal_prepaid,
    excess: repayment.excess,
    recovered: repayment.kind === 'recovery' ? repayment.amount : '0.00',
    reversed_at: repayment.reversed_at?.toISOString() ?? null,
    reversal_reason: repayment.reversal_reason,
    created_at: repayment.created_at.toISOString(),
  };
}

/** Where the loan stands after a servicing operation. */
export function loanStateView(loan: Loan) {
  return {
    id: loan.id,
    status: loan.status,
    outstanding_principal: formatMoney(loan.outstanding_principal),
    schedule_version: loan.schedule_version,
    restructured: loan.restructured,
  };
}
