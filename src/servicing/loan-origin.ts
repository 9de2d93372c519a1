import { parseDate, toYmd } from '../domain/dates';
import { parseMoney } from '../domain/money';
import { buildSchedule } from '../domain/schedule';
import type { LoanOrigin } from '../domain/servicing';
import { termsOfLoan } from '../loans/loan-terms';
import type { LoanRow } from './servicing.repository';

/** A disbursed loan as the replay starts from it: its terms and schedule version 1, recomputed exactly. */
export function originOf(loan: LoanRow): LoanOrigin {
  const terms = termsOfLoan(loan, parseDate(loan.disbursed_on ?? loan.disbursement_date));
  const schedule = buildSchedule(terms);
  return {
    terms,
    principal: parseMoney(loan.principal),
    disbursedOn: terms.disbursementDate,
    anchorDay: toYmd(terms.firstDueDate ?? terms.disbursementDate).day,
    rows: schedule.rows.map((row, k) => ({ ...row, deferral: k < terms.deferralPeriods ? terms.deferralType : null })),
  };
}
