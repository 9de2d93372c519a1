/**
 * Calendar dates "YYYY-MM-DD" with no time zone. Arithmetic goes through y/m/d integers and
 * a UTC day number, never through the process clock.
 */
export type CalendarDate = string & { readonly __brand: 'CalendarDate' };

const DATE_INPUT = /^(\d{4})-(\d{2})-(\d{2})$/;

interface Ymd {
  readonly year: number;
  readonly month: number; // 1..12
  readonly day: number;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const TWO_DIGITS = Array.from({ length: 32 }, (_, n) => String(n).padStart(2, '0'));

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1]!;
}

export function isCalendarDate(text: string): text is CalendarDate {
  const match = DATE_INPUT.exec(text);
  if (!match) return false;
  const month = Number(match[2]);
  const day = Number(match[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(match[1]), month);
}

export function parseDate(text: string): CalendarDate {
  if (!isCalendarDate(text)) throw new RangeError(`not a calendar date: ${JSON.stringify(text)}`);
  return text;
}

export function toYmd(date: CalendarDate): Ymd {
  return {
    year: Number(date.slice(0, 4)),
    month: Number(date.slice(5, 7)),
    day: Number(date.slice(8, 10)),
  };
}

/**
 * `date` moved by `months` calendar months onto `anchorDay`, clamped to the end of the month
 * (anchor 31: 31 Jan → 28/29 Feb → 31 Mar → 30 Apr).
 */
export function addMonths(
  date: CalendarDate,
  months: number,
  anchorDay = toYmd(date).day,
): CalendarDate {
  return monthDate(monthIndex(date) + months, anchorDay);
}

/** Months since year 0 (year × 12 + month − 1): due dates are computed on this integer. */
export function monthIndex(date: CalendarDate): number {
  return Number(date.slice(0, 4)) * 12 + Number(date.slice(5, 7)) - 1;
}

const FIRST_CACHED = 1900 * 12;
const CACHED_MONTHS = 1200 * 12;
/** For each month from 1900 to 3099 once used: its dates by anchor day 1..31, clamped to its end. */
const datesOfMonth: (CalendarDate[] | undefined)[] = new Array(CACHED_MONTHS).fill(undefined);

function anchoredDates(index: number): CalendarDate[] {
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  const length = daysInMonth(year, month);
  const prefix = `${String(year).padStart(4, '0')}-${TWO_DIGITS[month]}-`;
  return Array.from(
    { length: 32 },
    (_, day) => `${prefix}${TWO_DIGITS[Math.min(Math.max(day, 1), length)]}` as CalendarDate,
  );
}

/**
 * The date on `anchorDay` (clamped to the month's end) of the month `index` (see monthIndex).
 * Schedules ask for the same months again and again, so each month's dates are made once and shared.
 */
export function monthDate(index: number, anchorDay: number): CalendarDate {
  const slot = index - FIRST_CACHED;
  if (slot < 0 || slot >= CACHED_MONTHS) return anchoredDates(index)[anchorDay]!;
  let dates = datesOfMonth[slot];
  if (dates === undefined) dates = datesOfMonth[slot] = anchoredDates(index);
  return dates[anchorDay]!;
}

function dayNumber(date: CalendarDate): number {
  const { year, month, day } = toYmd(date);
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day); // unlike Date.UTC, keeps years 0..99 as they are
  return utc.getTime() / 86_400_000;
}

/** Actual days from `start` to `end` (ACT/365, ACT/360). */
export function actualDays(start: CalendarDate, end: CalendarDate): number {
  return dayNumber(end) - dayNumber(start);
}

/** Days from `start` to `end` under 30E/360 (Eurobond basis): every day 31 counts as 30. */
export function days30E360(start: CalendarDate, end: CalendarDate): number {
  const a = toYmd(start);
  const b = toYmd(end);
  return (
    360 * (b.year - a.year) + 30 * (b.month - a.month) + (Math.min(b.day, 30) - Math.min(a.day, 30))
  );
}
