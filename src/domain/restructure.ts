import type { Allocation } from './allocation';
import { NOTHING } from './allocation';
import { monthDate, monthIndex, type CalendarDate } from './dates';
import { cents } from './money';
import { firstPeriodIsWhole, MONTHS_PER_PERIOD, periodFractions } from './periods';
import { amortise, type DeferralType } from './schedule';
import { leadingDeferrals, openingBalance, unpaidRow, type ServicedRow } from './serviced-rows';
import type { LoanOrigin, RestructuringChange, ServicingEvent } from './servicing';
import {
  changeTerms,
  markRestructured,
  replaceRowsAfter,
  rowsKeptBy,
  settleArrears,
  type ReplayState,
} from './servicing-state';

/**
 * DOMAIN.md "Restructuring": a new version replaces the rows falling due after the effective date
 * (those settled in advance stay), rescheduling the principal they would repay. Returns the new state
 * and the interest in arrears it capitalised, or undefined when nothing falls due after the date.
 */
export function restructure(
  origin: LoanOrigin,
  before: ReplayState,
  event: Extract<ServicingEvent, { kind: 'restructuring' }>,
): { state: ReplayState; capitalised: bigint } | undefined {
  const kept = rowsKeptBy(before, event.date);
  const remaining = before.rows.slice(kept);
  if (remaining.length === 0) return undefined;
  const periods = reschedulePeriods(origin, before, kept, remaining, event.change);
  if (periods === undefined) return undefined;
  const { dueDates, deferrals } = periods;

  let state =
    event.change.type === 'rate_change'
      ? changeTerms(before, { ...before.terms, annualRate: event.change.annualRate })
      : before;
  const settled = event.capitaliseArrears ? arrearsSettled(state, kept, event.date) : [];
  state = settleArrears(state, event.id, settled);
  let moved = 0n;
  let capitalised = 0n;
  for (const { amounts } of settled) {
    moved += amounts.principal;
    capitalised += amounts.interest;
  }

  const { terms } = state;
  const start = kept === 0 ? origin.disbursedOn : state.rows[kept - 1]!.dueDate;
  const whole = kept > 0 || firstPeriodIsWhole(terms.periodicity, origin.disbursedOn, dueDates[0]!);
  const schedule = amortise({
    balance: cents(openingBalance(state.rows, kept) + moved + capitalised),
    dueDates,
    fractions: periodFractions(terms, start, dueDates, whole),
    deferralPeriods: deferrals.length,
    deferralType: deferrals[0] ?? terms.deferralType,
    deferralTypes: deferrals,
    method: terms.method,
    rounding: terms.rounding,
    instalmentMultiple: terms.instalmentMultiple,
  });
  state = replaceRowsAfter(state, kept, schedule.rows, deferrals);
  return { state: markRestructured(state), capitalised };
}

/** The due dates and deferral periods a restructuring gives the rows after the `kept` ones; undefined if none would amortise. */
function reschedulePeriods(
  origin: LoanOrigin,
  state: ReplayState,
  kept: number,
  remaining: readonly ServicedRow[],
  change: RestructuringChange,
): { dueDates: CalendarDate[]; deferrals: DeferralType[] } | undefined {
  const months = MONTHS_PER_PERIOD[state.terms.periodicity];
  const periodsAfter = (date: CalendarDate, periods: number) =>
    monthDate(monthIndex(date) + periods * months, origin.anchorDay);
  const first = remaining[0]!.dueDate;
  const deferrals = leadingDeferrals(remaining);
  const dueDates = remaining.map((row) => row.dueDate);
  if (change.type === 'extension') {
    const periods =
      'remainingPeriods' in change ? change.remainingPeriods : change.termPeriods - kept;
    if (periods <= deferrals.length) return undefined;
    return {
      dueDates: Array.from({ length: periods }, (_, j) => periodsAfter(first, j)),
      deferrals,
    };
  }
  if (change.type === 'moratorium')
    return {
      dueDates: [
        ...Array.from({ length: change.periods }, (_, j) => periodsAfter(first, j)),
        ...dueDates.map((date) => periodsAfter(date, change.periods)),
      ],
      deferrals: [
        ...Array.from({ length: change.periods }, () => change.deferralType),
        ...deferrals,
      ],
    };
  return { dueDates, deferrals };
}

/**
 * Arrears join the rescheduled principal. The rows due by then keep their amounts (they were owed,
 * and in arrears, until this date); what they still owed is settled, on this date, by the capitalisation.
 */
function arrearsSettled(state: ReplayState, kept: number, date: CalendarDate): Allocation[] {
  const settled: Allocation[] = [];
  state.rows.slice(0, kept).forEach((row, i) => {
    const paid = state.paid[i]!;
    if (row.dueDate > date || unpaidRow(row, paid) === 0n) return;
    const amounts = {
      ...NOTHING,
      principal: cents(row.principal - paid.principal),
      interest: cents(row.interest - paid.interest),
    };
    settled.push({ number: row.number, amounts });
  });
  return settled;
}
