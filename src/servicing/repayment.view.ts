import { total } from '../domain/allocation';
import { cents, formatMoney, ZERO } from '../domain/money';
import type { Loan, Repayment, RepaymentAllocation } from './servicing.repository';

/** A repayment as the API shows it: what it paid, instalment by instalment, and what became of the rest. */
export function repaymentView(repayment: Repayment, allocations: readonly RepaymentAllocation[]) {
  const mine = allocations
    .filter((a) => a.repayment_id === repayment.id)
    .sort((a, b) => a.number - b.number);
  const sum = (pick: (a: RepaymentAllocation) => bigint) =>
    formatMoney(cents(mine.reduce((s, a) => s + pick(a), 0n)));
  return {
    id: repayment.id,
    loan_id: repayment.loan_id,
    amount: formatMoney(repayment.amount),
    value_date: repayment.value_date,
    reference: repayment.reference,
    prepayment: repayment.prepayment,
    kind: repayment.kind,
    status: repayment.reversed_at ? 'reversed' : 'posted',
    allocations: mine.map((a) => ({
      instalment_number: a.number,
      fees: formatMoney(a.fees),
      late_interest: formatMoney(a.late_interest),
      interest: formatMoney(a.interest),
      principal: formatMoney(a.principal),
      total: formatMoney(total(a)),
    })),
    principal_allocated: sum((a) => a.principal),
    interest_allocated: sum((a) => a.interest + a.late_interest + a.fees),
    principal_prepaid: formatMoney(repayment.principal_prepaid),
    excess: formatMoney(repayment.excess),
    recovered: formatMoney(repayment.kind === 'recovery' ? repayment.amount : ZERO),
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
