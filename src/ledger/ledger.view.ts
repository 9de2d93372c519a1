import { formatMoney } from '../domain/money';
import type { getLoanStatement } from './get-loan-statement';
import type { TrialBalance } from './get-trial-balance';

export function trialBalanceView(trial: TrialBalance) {
  return {
    fund_id: trial.fund.id,
    as_of: trial.asOf,
    currency: trial.fund.currency,
    accounts: trial.lines.map((line) => ({
      account: line.account,
      debits: formatMoney(line.debits),
      credits: formatMoney(line.credits),
      balance: formatMoney(line.balance),
    })),
    total_debits: formatMoney(trial.totalDebits),
    total_credits: formatMoney(trial.totalCredits),
  };
}

export function loanStatementView(statement: Awaited<ReturnType<typeof getLoanStatement>>) {
  return {
    loan_id: statement.loan.id,
    as_of: statement.asOf,
    lines: statement.lines.map((line) => ({
      entry_id: line.entryId,
      value_date: line.valueDate,
      type: line.type,
      reverses: line.reverses,
      repayment_id: line.repaymentId,
      reference: line.reference,
      cash: formatMoney(line.cash),
      principal: formatMoney(line.principal),
      interest: formatMoney(line.interest),
      excess: formatMoney(line.excess),
      recovered: formatMoney(line.recovered),
      written_off: formatMoney(line.writtenOff),
      balance: formatMoney(line.balance),
    })),
    outstanding_principal: formatMoney(statement.outstanding),
  };
}
