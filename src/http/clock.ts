import type { CalendarDate } from '../domain/dates';

const PARIS_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Today's calendar date where the funds are (Europe/Paris): the default `as_of`. */
export const todayInParis = (): CalendarDate => PARIS_DATE.format(new Date()) as CalendarDate;
