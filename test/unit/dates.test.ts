import {
  actualDays,
  addMonths,
  days30E360,
  isCalendarDate,
  type CalendarDate,
} from '../../src/domain/dates';

const d = (text: string) => text as CalendarDate;

describe('calendar dates', () => {
  it.each(['2024-02-29', '2000-02-29', '2023-12-31', '1900-01-01'])('accepts %s', (text) => {
    expect(isCalendarDate(text)).toBe(true);
  });

  it.each([
    '2023-02-29',
    '1900-02-29',
    '2023-02-30',
    '2023-04-31',
    '2023-13-01',
    '2023-00-10',
    '2023-1-1',
    '20230101',
    '2023-01-01T00:00:00Z',
  ])('refuses %s', (text) => {
    expect(isCalendarDate(text)).toBe(false);
  });

  it('keeps the anchor day and clamps to the month end: 31 Jan → 29 Feb → 31 Mar → 30 Apr → 31 May (2024)', () => {
    const months = [1, 2, 3, 4].map((k) => addMonths(d('2024-01-31'), k));
    expect(months).toEqual(['2024-02-29', '2024-03-31', '2024-04-30', '2024-05-31']);
  });

  it('clamps 29 February to 28 February in common years and back to the 29th in leap years', () => {
    expect(addMonths(d('2024-02-29'), 12)).toBe('2025-02-28');
    expect(addMonths(d('2024-02-29'), 48)).toBe('2028-02-29');
    expect(addMonths(d('2024-02-29'), 1)).toBe('2024-03-29');
  });

  it('crosses year ends in both directions', () => {
    expect(addMonths(d('2024-11-30'), 3)).toBe('2025-02-28');
    expect(addMonths(d('2024-03-31'), -1)).toBe('2024-02-29');
    expect(addMonths(d('2024-01-15'), 600)).toBe('2074-01-15');
  });

  it.each([
    // 30E/360: a day 31 counts as 30 at both ends
    ['2024-01-31', '2024-02-29', 29],
    ['2024-01-30', '2024-03-31', 60],
    ['2024-01-31', '2024-03-31', 60],
    ['2023-12-15', '2024-03-01', 76],
    ['2024-02-28', '2024-03-31', 32],
  ])('30E/360 counts %s → %s as %d days', (start, end, days) => {
    expect(days30E360(d(start), d(end))).toBe(days);
  });

  it.each([
    ['2024-01-31', '2024-02-29', 29],
    ['2023-01-31', '2023-02-28', 28],
    ['2024-01-01', '2025-01-01', 366],
    ['2023-03-25', '2023-03-27', 2], // across the European summer-time change: calendar days, no clock
  ])('counts actual days %s → %s as %d', (start, end, days) => {
    expect(actualDays(d(start), d(end))).toBe(days);
  });
});
