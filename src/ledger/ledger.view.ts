import { formatMoney } from '../domain/money';
import type { TrialBalance } from './get-trial-balance';

export function trialBalanceView(trial: TrialBalance) {
  return {
    fund_id: trial.fund.id,
    as_of: trial.asOf,
    currency: trial.fund.currency,
    accounts: trial.lines.map((line) => ({
      account: line.account, debits: formatMoney(line.debits), credits: formatMoney(line.credits), balance: formatMoney(line.balance),
    })),
    total_debits: formatMoney(trial.totalDebits),
    total_credits: formatMoney(trial.totalCredits),
  };
}
