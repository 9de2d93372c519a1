import type { CalendarDate } from '../domain/dates';
import { DomainError, type FieldError } from '../domain/errors';
import { MAX_AMOUNT } from '../domain/money';
import type { ScheduleRow } from '../domain/schedule';
import type { Servicing } from '../domain/servicing';
import { instalmentsOf, type VersionReason } from '../loans/instalments';
import type { Instalment, Loan } from './servicing.repository';

/** Why the loan is being rebooked: names the schedule version it may create. */
export type { VersionReason };

export interface NewScheduleVersion {
  readonly version: {
    loan_id: string;
    version: number;
    reason: VersionReason;
    effective_date: string;
  };
  readonly instalments: Instalment[];
}

/** A hundred years of monthly instalments: beyond, a schedule is no longer a loan (and would not fit one INSERT). */
const MAX_SCHEDULE_ROWS = 1200;

/** Refuses a replayed schedule that the database could not hold, blaming `blame` in the request. */
export function checkScheduleFits(servicing: Servicing, blame: Omit<FieldError, 'message'>): void {
  if (servicing.rows.some((row) => row.total > MAX_AMOUNT || row.balanceAfter > MAX_AMOUNT)) {
    throw new DomainError(
      'rule_violation',
      'The new schedule would hold amounts above the largest one (999999999999.99).',
      [
        {
          ...blame,
          message: 'would make the schedule’s amounts too large (above 999999999999.99)',
        },
      ],
    );
  }
  if (servicing.rows.length > MAX_SCHEDULE_ROWS) {
    throw new DomainError(
      'rule_violation',
      `The new schedule would have ${servicing.rows.length} instalments, more than ${MAX_SCHEDULE_ROWS}.`,
      [
        {
          ...blame,
          message: `would make the schedule longer than ${MAX_SCHEDULE_ROWS} instalments`,
        },
      ],
    );
  }
}

/** The schedule version the replay calls for, unless its rows are the current version's. */
export function newScheduleVersion(
  loan: Loan,
  reason: VersionReason,
  effectiveDate: CalendarDate,
  current: readonly Instalment[],
  replayed: readonly ScheduleRow[],
): NewScheduleVersion | undefined {
  if (sameRows(current, replayed)) return undefined;
  const version = loan.schedule_version + 1;
  return {
    version: { loan_id: loan.id, version, reason, effective_date: effectiveDate },
    instalments: instalmentsOf(loan.id, version, replayed),
  };
}

const AMOUNTS = [
  ['principal', 'principal'],
  ['interest', 'interest'],
  ['total', 'total'],
  ['balance_after', 'balanceAfter'],
  ['capitalised_interest', 'capitalisedInterest'],
] as const satisfies readonly (readonly [keyof Instalment, keyof ScheduleRow])[];

function sameRows(stored: readonly Instalment[], replayed: readonly ScheduleRow[]): boolean {
  return (
    stored.length === replayed.length &&
    stored.every((row, k) => {
      const other = replayed[k]!;
      return (
        row.number === other.number &&
        row.due_date === other.dueDate &&
        AMOUNTS.every(([column, field]) => row[column] === other[field])
      );
    })
  );
}
