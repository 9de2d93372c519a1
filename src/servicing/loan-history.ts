/**
 * The shapes of a loan's stored history that rebookLoan replays: the import's replay
 * (src/imports/replay-loan.ts) builds them in memory instead of loading them.
 */
export type {
  RepaymentAllocation,
  Instalment,
  LoanHistory,
  Loan,
  LoanStanding,
  Repayment,
} from './servicing.repository';
