import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { createDueReminders } from './reminders.repository';

/**
 * Makes every reminder due by `asOf` that was not made yet (of one fund, or of all), each with its
 * delivery job in the outbox; skips instalments paid since. Run daily and on demand: running it
 * again, or after days of downtime, makes exactly what is missing. Returns how many were made.
 */
export function scanReminders(db: Db, asOf: CalendarDate, fundId?: string): Promise<number> {
  return createDueReminders(db, asOf, fundId);
}
