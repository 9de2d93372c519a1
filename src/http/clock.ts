import type { CalendarDate } from '../domain/dates';

const PARIS_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Today's calendar date where the funds are (Europe/Paris): the default `as_of`. */
export const todayInParis = (): CalendarDate => PARIS_DATE.format(new Date()) as CalendarDate;

/** The `as_of` query parameter (validated against openapi.yaml), or today. */
export const asOfOf = (query: unknown): CalendarDate => ((query as { as_of?: string }).as_of as CalendarDate | undefined) ?? todayInParis();
