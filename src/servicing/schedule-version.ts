import type { CalendarDate } from '../domain/dates';
import { DomainError, type FieldError } from '../domain/errors';
import { MAX_AMOUNT, parseDecimalAmount } from '../domain/money';
import type { ScheduleRow } from '../domain/schedule';
import type { Servicing } from '../domain/servicing';
import { instalmentView } from '../schedules/schedule.view';
import type { InstalmentRow, Loan } from './servicing.repository';

/** Why the loan is being rebooked: names the schedule version it may create. */
export type VersionReason =
  'disbursement' | 'prepayment' | 'repayment' | 'reversal' | 'restructuring' | 'write_off';

export interface NewScheduleVersion {
  readonly version: {
    loan_id: string;
    version: number;
    reason: VersionReason;
    effective_date: string;
  };
  readonly instalments: InstalmentRow[];
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
  current: readonly InstalmentRow[],
  replayed: readonly ScheduleRow[],
): NewScheduleVersion | undefined {
  if (sameRows(current, replayed)) return undefined;
  const version = loan.schedule_version + 1;
  return {
    version: { loan_id: loan.id, version, reason, effective_date: effectiveDate },
    instalments: replayed.map((row) => ({ loan_id: loan.id, version, ...instalmentView(row) })),
  };
}

const AMOUNTS = [
  ['principal', 'principal'],
  ['interest', 'interest'],
  ['total', 'total'],
  ['balance_after', 'balanceAfter'],
  ['capitalised_interest', 'capitalisedInterest'],
] as const satisfies readonly (readonly [keyof InstalmentRow, keyof ScheduleRow])[];

function sameRows(stored: readonly InstalmentRow[], replayed: readonly ScheduleRow[]): boolean {
  return (
    stored.length === replayed.length &&
    stored.every((row, k) => {
      const other = replayed[k]!;
      return (
        row.number === other.number &&
        row.due_date === other.dueDate &&
        AMOUNTS.every(([column, field]) => parseDecimalAmount(row[column]) === other[field])
      );
    })
  );
}
