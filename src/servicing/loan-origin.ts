import { toYmd } from '../domain/dates';
import { buildSchedule, type ScheduleTerms } from '../domain/schedule';
import type { LoanOrigin } from '../domain/servicing';
import { termsOfLoan } from '../loans/loan-terms';
import type { Loan } from './servicing.repository';

/** A disbursed loan as the replay starts from it: its terms and schedule version 1, recomputed exactly. */
export function originOf(loan: Loan): LoanOrigin {
  return originOfTerms(termsOfLoan(loan, loan.disbursed_on ?? loan.disbursement_date));
}

/** The same from terms whose disbursementDate is the actual one (an imported loan, checked before it is stored). */
export function originOfTerms(terms: ScheduleTerms): LoanOrigin {
  const schedule = buildSchedule(terms);
  return {
    terms,
    principal: terms.principal,
    disbursedOn: terms.disbursementDate,
    anchorDay: toYmd(terms.firstDueDate ?? terms.disbursementDate).day,
    rows: schedule.rows.map((row, k) => ({
      ...row,
      deferral: k < terms.deferralPeriods ? terms.deferralType : null,
    })),
  };
}
