import type { CalendarDate } from './dates';
import { cents, type Money, type Rounding } from './money';
import { periodFractions, type DayCount, type Periodicity } from './periods';
import type { Rate } from './rate';
import { amortise, type DeferralType, type Method, type Schedule } from './schedule';

export type PrepaymentMode = 'reduce_instalment' | 'reduce_term';

/** The loan terms a new schedule version keeps. */
export interface KeptTerms {
  readonly annualRate: Rate;
  readonly periodicity: Periodicity;
  readonly dayCount: DayCount;
  readonly deferralType: DeferralType;
  readonly method: Method;
  readonly rounding: Rounding;
  readonly instalmentMultiple: Money;
}

/** The instalments a prepayment replaces: those no payment has settled yet, after what was paid. */
export interface RemainingPeriods {
  /** The due date the first remaining period starts from (the previous instalment's). */
  readonly start: CalendarDate;
  /** The remaining instalments' due dates, kept as they are. */
  readonly dueDates: readonly CalendarDate[];
  /** How many of them are deferral periods still ahead. */
  readonly deferralAhead: number;
  /** The type of each of those deferral periods, when it is not the loan's own. */
  readonly deferralTypes?: readonly DeferralType[];
  /** The principal they would have repaid. */
  readonly principal: Money;
  /** Their level instalment (annuity) or principal part (linear), kept by reduce_term. */
  readonly level: Money;
}

export type Reschedule =
  | { readonly kind: 'schedule'; readonly schedule: Schedule }
  | { readonly kind: 'repaid'; readonly excess: Money };

/**
 * DOMAIN.md "Prepayment": the prepaid amount reduces the principal that the remaining instalments
 * would repay, and a new schedule replaces them on the same due dates (deferral rows ahead kept).
 * `reduce_instalment` recomputes the level instalment (or principal part) over those periods;
 * `reduce_term` keeps it and drops the periods no longer needed, the last taking the residue.
 * A prepayment of all that principal or more repays the loan; what is beyond it is an excess.
 */
export function reschedulePrepayment(
  terms: KeptTerms,
  remaining: RemainingPeriods,
  prepaid: Money,
  mode: PrepaymentMode,
): Reschedule {
  const balance = remaining.principal - prepaid;
  if (balance <= 0n) return { kind: 'repaid', excess: cents(-balance) };
  const keepLevel =
    mode === 'reduce_term' && terms.method !== 'bullet' ? remaining.level : undefined;
  const schedule = amortise({
    balance: cents(balance),
    dueDates: remaining.dueDates,
    // Every remaining period starts on a due date: a whole period, no broken one to split.
    fractions: periodFractions(terms, remaining.start, remaining.dueDates, true),
    deferralPeriods: remaining.deferralAhead,
    deferralType: terms.deferralType,
    ...(remaining.deferralTypes ? { deferralTypes: remaining.deferralTypes } : {}),
    method: terms.method,
    rounding: terms.rounding,
    instalmentMultiple: terms.instalmentMultiple,
    ...(keepLevel === undefined ? {} : { keepLevel }),
  });
  return { kind: 'schedule', schedule };
}
