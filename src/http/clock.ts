import type { CalendarDate } from '../domain/dates';

const PARIS_OFFSET = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Europe/Paris',
  timeZoneName: 'longOffset',
});
const HOUR_MS = 3_600_000;

/** Paris's offset from UTC at `instant`, in ms, from Intl's "GMT+01:00" (or "GMT" at offset 0). */
function parisOffsetMs(instant: number): number {
  const name = PARIS_OFFSET.formatToParts(instant).find(
    (part) => part.type === 'timeZoneName',
  )!.value;
  const [, sign, hours, minutes] = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name) ?? [];
  if (hours === undefined) return 0;
  return (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes)) * 60_000;
}

let cachedHour = Number.NaN;
let cachedOffset = 0;

/**
 * The calendar date in Europe/Paris at `instant` (default now): the default `as_of`. Paris changes
 * its offset only on a whole UTC hour (01:00 UTC, the last Sundays of March and October), so the
 * offset is asked of Intl once per UTC hour, and the date is then plain arithmetic.
 */
export function todayInParis(instant: number = Date.now()): CalendarDate {
  const hour = Math.floor(instant / HOUR_MS);
  if (hour !== cachedHour) {
    cachedOffset = parisOffsetMs(instant);
    cachedHour = hour;
  }
  return new Date(instant + cachedOffset).toISOString().slice(0, 10) as CalendarDate;
}

/** What the routes take "today" from: todayInParis, unless a test fixes the date (AppDeps.today). */
export type Today = () => CalendarDate;

/** The `as_of` query parameter (validated against openapi.yaml), or today. */
export const asOfOf = (query: unknown, today: Today): CalendarDate =>
  ((query as { as_of?: string }).as_of as CalendarDate | undefined) ?? today();
