import type { CalendarDate } from './dates';
import type { Money } from './money';

export type InstalmentStatus = 'upcoming' | 'due' | 'overdue' | 'paid' | 'partially_paid';

/**
 * An instalment as of a date: paid when fully paid; otherwise partially paid if anything was paid;
 * otherwise upcoming, due (on its due date) or overdue (its due date has passed). An instalment of
 * 0.00 (a total deferral period) is settled once its date has come, upcoming before.
 */
export function instalmentStatus(
  dueDate: CalendarDate,
  total: Money,
  paid: Money,
  asOf: CalendarDate,
): InstalmentStatus {
  if (paid >= total && (total > 0n || dueDate <= asOf)) return 'paid';
  if (paid > 0n) return 'partially_paid';
  if (dueDate > asOf) return 'upcoming';
  return dueDate === asOf ? 'due' : 'overdue';
}
