import fc from 'fast-check';
import { todayInParis } from '../../src/http/clock';

const PARIS_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Paris',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});
const at = (iso: string) => Date.parse(iso);

describe('todayInParis', () => {
  it.each([
    ['2026-12-31T22:59:59.999Z', '2026-12-31'], // 23:59:59.999 in winter (UTC+1)
    ['2026-12-31T23:00:00.000Z', '2027-01-01'],
    ['2026-07-14T21:59:59.999Z', '2026-07-14'], // 23:59:59.999 in summer (UTC+2)
    ['2026-07-14T22:00:00.000Z', '2026-07-15'],
    ['2026-03-29T00:59:59.999Z', '2026-03-29'], // the spring change, 01:00 UTC
    ['2026-03-29T01:00:00.000Z', '2026-03-29'],
    ['2026-03-28T22:59:59.999Z', '2026-03-28'],
    ['2026-03-28T23:00:00.000Z', '2026-03-29'],
    ['2026-10-24T21:59:59.999Z', '2026-10-24'], // the eve of the autumn change, still UTC+2
    ['2026-10-24T22:00:00.000Z', '2026-10-25'],
    ['2026-10-25T22:59:59.999Z', '2026-10-25'], // the day after it, UTC+1
    ['2026-10-25T23:00:00.000Z', '2026-10-26'],
  ])('at %s it is %s in Paris', (instant, date) => {
    expect(todayInParis(at(instant))).toBe(date);
  });

  it('agrees with Intl at any instant of this century, in any order (the offset is cached per UTC hour)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2099-12-31T23:59:59Z') }),
        (instant) => {
          expect(todayInParis(instant)).toBe(PARIS_DATE.format(instant));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('agrees with Intl minute by minute across both changes of 2027', () => {
    for (const start of ['2027-03-27T20:00:00Z', '2027-10-30T20:00:00Z']) {
      for (let instant = at(start); instant < at(start) + 8 * 3_600_000; instant += 60_000) {
        expect(todayInParis(instant)).toBe(PARIS_DATE.format(instant));
      }
    }
  });
});
