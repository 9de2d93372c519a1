import type { ServicingEvent } from '../domain/servicing';
import type { Loan, Repayment, Restructuring } from './servicing.repository';

/** The seq of a repayment the database has not numbered yet: one past the largest bigint, so it sorts after every stored fact. */
export const UNSTORED_SEQ = String(2n ** 63n);

type ReplayedRepayment = Pick<Repayment, 'id' | 'seq' | 'value_date' | 'amount' | 'prepayment'>;

/** Facts of one date in the order they were recorded (one sequence numbers them all). */
const bySeq = (a: string, b: string) => a.length - b.length || a.localeCompare(b);

/** The loan's facts as the replay reads them: repayments, restructurings and a write-off, by value date then seq. */
export function servicingEvents(
  loan: Loan,
  repayments: readonly ReplayedRepayment[],
  restructurings: readonly Restructuring[],
): ServicingEvent[] {
  const dated: { date: string; seq: string; event: ServicingEvent }[] = [
    ...repayments.map((r) => ({
      date: r.value_date,
      seq: r.seq,
      event: {
        kind: 'repayment' as const,
        id: r.id,
        date: r.value_date,
        amount: r.amount,
        prepayment: r.prepayment,
      },
    })),
    ...restructurings.map((r) => ({
      date: r.effective_date,
      seq: r.seq,
      event: restructuringEvent(r),
    })),
  ];
  if (loan.written_off_on && loan.written_off_seq) {
    dated.push({
      date: loan.written_off_on,
      seq: loan.written_off_seq,
      event: { kind: 'write_off', id: loan.id, date: loan.written_off_on },
    });
  }
  return dated
    .sort((a, b) => a.date.localeCompare(b.date) || bySeq(a.seq, b.seq))
    .map((d) => d.event);
}

function restructuringEvent(r: Restructuring): ServicingEvent {
  const base = {
    kind: 'restructuring' as const,
    id: r.id,
    date: r.effective_date,
    capitaliseArrears: r.capitalise_arrears,
  };
  if (r.type === 'moratorium')
    return {
      ...base,
      change: {
        type: 'moratorium',
        periods: r.periods!,
        deferralType: r.deferral_type!,
      },
    };
  if (r.type === 'extension') {
    return {
      ...base,
      change:
        r.term_periods !== null
          ? { type: 'extension', termPeriods: r.term_periods }
          : { type: 'extension', remainingPeriods: r.remaining_periods! },
    };
  }
  return {
    ...base,
    change: { type: 'rate_change', annualRate: r.annual_rate_percent! },
  };
}
