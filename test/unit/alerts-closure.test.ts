/**
 * E2 judges a closure by its length as planned in the site's calendar (Code de l'énergie R241-27: 16 °C for
 * 24 to 48 h, 8 °C from 48 h), from its first hour: the closure found must not depend on how much of it has
 * elapsed, nor on the minute of the evaluation.
 */
import { describe, expect, it } from 'vitest';
import { siteCalendarSchema } from '../../services/time/calendar.ts';
import { plannedClosure } from '../../services/alerts/rules/energy.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const weekdays = ['08:30-16:30'];
const school = siteCalendarSchema.parse({ openingHours: { mon: weekdays, tue: weekdays, wed: weekdays, thu: weekdays, fri: weekdays } });
const saturdays = siteCalendarSchema.parse({ openingHours: { mon: weekdays, tue: weekdays, wed: weekdays, thu: weekdays, fri: weekdays, sat: weekdays } });
// Two weeks of winter holidays: Saturday 7 to Sunday 22 February 2026.
const holidays = siteCalendarSchema.parse({ openingHours: { mon: weekdays, tue: weekdays, wed: weekdays, thu: weekdays, fri: weekdays }, closedDates: ['2026-02-07..2026-02-22'] });

const closureAt = (now: string, cal = school) => {
  const to = Date.parse(now);
  const c = plannedClosure(to - 7 * DAY, to, cal);
  return c && { start: c.start.toISOString(), end: c.end.toISOString(), hours: (c.end.getTime() - c.start.getTime()) / HOUR };
};

describe('planned closures', () => {
  it('knows the whole 64 h weekend (Friday 16:30 → Monday 08:30) from its first hour to its last', () => {
    const weekend = { start: '2026-01-16T15:30:00.000Z', end: '2026-01-19T07:30:00.000Z', hours: 64 };
    for (const now of ['2026-01-16T16:00:00Z', '2026-01-16T21:00:00Z', '2026-01-17T12:00:00Z', '2026-01-18T15:00:00Z', '2026-01-19T07:00:00Z']) {
      expect(closureAt(now), now).toEqual(weekend);
    }
    // Once the school has reopened, the weekend stays the latest closure (the weeknights are under 24 h).
    expect(closureAt('2026-01-21T12:00:00Z')).toEqual(weekend);
  });

  it('gives the same closure at every minute of an hour', () => {
    const base = Date.parse('2026-01-17T09:00:00Z');
    const first = closureAt(new Date(base).toISOString());
    for (let m = 1; m < 60; m++) expect(closureAt(new Date(base + m * 60_000).toISOString()), `minute ${m}`).toEqual(first);
  });

  it('a 40 h closure (open on Saturdays) is under 48 h, a two-week holiday is 400 h', () => {
    expect(closureAt('2026-01-18T10:00:00Z', saturdays)).toEqual({ start: '2026-01-17T15:30:00.000Z', end: '2026-01-19T07:30:00.000Z', hours: 40 });
    // Friday 6 February 16:30 to Monday 23 February 08:30, seen from its third day and from its last.
    const holiday = { start: '2026-02-06T15:30:00.000Z', end: '2026-02-23T07:30:00.000Z', hours: 400 };
    expect(closureAt('2026-02-09T10:00:00Z', holidays)).toEqual(holiday);
    expect(closureAt('2026-02-22T20:00:00Z', holidays)).toEqual(holiday);
  });

  it('finds no closure on a weekday when the last one ended more than the look-back ago', () => {
    const to = Date.parse('2026-01-22T12:00:00Z');
    expect(plannedClosure(to - 2 * DAY, to, school)).toBeUndefined();
  });
});
