import { describe, expect, it } from 'vitest';
import {
  easterSunday,
  frenchPublicHolidays,
  isOccupied,
  localDayBounds,
  localTime,
  localWindow,
  siteCalendarSchema,
  unoccupiedStretches,
  zonedTime,
  type Interval,
} from '../../services/time/calendar.ts';

const PARIS = 'Europe/Paris';
const HOUR = 3_600_000;
const hours = (i: Interval) => (i.end.getTime() - i.start.getTime()) / HOUR;
const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString();

describe('French public holidays', () => {
  it.each([
    [2024, '2024-03-31', '2024-04-01', '2024-05-09', '2024-05-20'],
    [2025, '2025-04-20', '2025-04-21', '2025-05-29', '2025-06-09'],
    [2026, '2026-04-05', '2026-04-06', '2026-05-14', '2026-05-25'],
  ])('%i: Easter %s, Easter Monday, Ascension, Whit Monday', (year, easter, monday, ascension, whit) => {
    expect(easterSunday(year)).toBe(easter);
    const days = frenchPublicHolidays(year);
    expect(days).toHaveLength(11);
    expect(days).toEqual(
      [
        `${year}-01-01`,
        monday,
        `${year}-05-01`,
        `${year}-05-08`,
        ascension,
        whit,
        `${year}-07-14`,
        `${year}-08-15`,
        `${year}-11-01`,
        `${year}-11-11`,
        `${year}-12-25`,
      ].sort(),
    );
  });

  it('computes Easter for known years, including the extremes 22 March and 25 April', () => {
    expect(easterSunday(2000)).toBe('2000-04-23');
    expect(easterSunday(2019)).toBe('2019-04-21');
    expect(easterSunday(1818)).toBe('1818-03-22');
    expect(easterSunday(2285)).toBe('2285-03-22');
    expect(easterSunday(2038)).toBe('2038-04-25');
  });

  it('adds Good Friday and 26 December in Alsace-Moselle', () => {
    const days = frenchPublicHolidays(2026, { alsaceMoselle: true });
    expect(days).toHaveLength(13);
    expect(days).toContain('2026-04-03');
    expect(days).toContain('2026-12-26');
    expect(frenchPublicHolidays(2026)).not.toContain('2026-04-03');
  });
});

describe('local time', () => {
  it('reads the wall clock of the zone, winter (+1) and summer (+2)', () => {
    expect(localTime(at('2026-01-15T09:00:00Z'), PARIS)).toEqual({
      date: '2026-01-15',
      weekday: 4,
      hour: 10,
      minute: 0,
      minutesOfDay: 600,
    });
    expect(localTime(at('2026-07-15T08:30:00Z'), PARIS)).toMatchObject({ date: '2026-07-15', hour: 10, minute: 30 });
    expect(localTime(at('2026-01-10T23:30:00Z'), PARIS)).toMatchObject({ date: '2026-01-11', weekday: 0, hour: 0 });
  });
});

describe('occupancy', () => {
  const cal = siteCalendarSchema.parse({ closedDates: ['2026-02-21..2026-03-08', '2026-06-12'] });

  it('applies the defaults: Europe/Paris, Monday to Friday 08:00-18:00, public holidays closed', () => {
    expect(cal.timeZone).toBe(PARIS);
    expect(cal.openingHours.mon).toEqual(['08:00-18:00']);
    expect(cal.openingHours.sat).toEqual([]);
    expect(cal.publicHolidays).toBe(true);
    expect(cal.alsaceMoselle).toBe(false);
  });

  it('is occupied on a weekday at 10:00 Paris time, in winter and in summer', () => {
    expect(isOccupied(at('2026-01-15T09:00:00Z'), cal)).toBe(true); // Thursday 10:00 CET
    expect(isOccupied(at('2026-07-16T08:00:00Z'), cal)).toBe(true); // Thursday 10:00 CEST
    expect(isOccupied(at('2026-07-16T06:30:00Z'), cal)).toBe(true); // 08:30 CEST
    expect(isOccupied(at('2026-01-15T06:30:00Z'), cal)).toBe(false); // 07:30 CET
  });

  it('opens at the start of a range and closes at its end', () => {
    expect(isOccupied(at('2026-01-15T07:00:00Z'), cal)).toBe(true); // 08:00
    expect(isOccupied(at('2026-01-15T16:59:00Z'), cal)).toBe(true); // 17:59
    expect(isOccupied(at('2026-01-15T17:00:00Z'), cal)).toBe(false); // 18:00
  });

  it('is unoccupied at weekends, on public holidays and on closed dates', () => {
    expect(isOccupied(at('2026-01-17T09:00:00Z'), cal)).toBe(false); // Saturday
    expect(isOccupied(at('2026-01-18T09:00:00Z'), cal)).toBe(false); // Sunday
    expect(isOccupied(at('2026-05-25T08:00:00Z'), cal)).toBe(false); // Whit Monday
    expect(isOccupied(at('2026-07-14T08:00:00Z'), cal)).toBe(false); // 14 July, a Tuesday
    expect(isOccupied(at('2026-02-23T09:00:00Z'), cal)).toBe(false); // winter school holidays
    expect(isOccupied(at('2026-03-09T09:00:00Z'), cal)).toBe(true); // the Monday after them
    expect(isOccupied(at('2026-06-12T08:00:00Z'), cal)).toBe(false); // a single closed date
  });

  it('can keep public holidays open and honours per-day hours', () => {
    const gym = siteCalendarSchema.parse({
      publicHolidays: false,
      openingHours: { mon: ['09:00-12:00', '14:00-22:00'], sat: ['10:00-18:00'] },
    });
    expect(isOccupied(at('2026-05-25T08:00:00Z'), gym)).toBe(true); // Whit Monday 10:00
    expect(isOccupied(at('2026-05-25T11:00:00Z'), gym)).toBe(false); // 13:00, lunch break
    expect(isOccupied(at('2026-05-30T09:00:00Z'), gym)).toBe(true); // Saturday 11:00
    expect(isOccupied(at('2026-05-26T08:00:00Z'), gym)).toBe(false); // Tuesday: omitted days are closed
  });

  it('closes Good Friday only in Alsace-Moselle', () => {
    const goodFriday = at('2026-04-03T08:00:00Z');
    expect(isOccupied(goodFriday, cal)).toBe(true);
    expect(isOccupied(goodFriday, siteCalendarSchema.parse({ alsaceMoselle: true }))).toBe(false);
  });
});

describe('zoned time and local days', () => {
  it('maps ordinary wall times with the offset of the season', () => {
    expect(iso(zonedTime('2026-01-15', '10:00', PARIS))).toBe('2026-01-15T09:00:00.000Z');
    expect(iso(zonedTime('2026-07-15', '10:00', PARIS))).toBe('2026-07-15T08:00:00.000Z');
    expect(iso(zonedTime('2026-07-15', '24:00', PARIS))).toBe('2026-07-15T22:00:00.000Z');
  });

  it('maps a time in the spring gap to the instant just after the gap', () => {
    // 2026-03-29 in Paris: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    expect(iso(zonedTime('2026-03-29', '02:30', PARIS))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(zonedTime('2026-03-29', '03:00', PARIS))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(zonedTime('2026-03-29', '01:59', PARIS))).toBe('2026-03-29T00:59:00.000Z');
  });

  it('maps an ambiguous autumn time to its first occurrence', () => {
    // 2026-10-25 in Paris: 03:00 CEST goes back to 02:00 CET at 01:00 UTC; 02:30 happens twice.
    expect(iso(zonedTime('2026-10-25', '02:30', PARIS))).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(zonedTime('2026-10-25', '03:00', PARIS))).toBe('2026-10-25T02:00:00.000Z');
  });

  it('handles other zones and a gap at midnight', () => {
    expect(iso(zonedTime('2026-11-01', '01:30', 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(zonedTime('2026-03-08', '02:30', 'America/New_York'))).toBe('2026-03-08T07:00:00.000Z');
    // Chile moves its clocks at midnight: the day starts at 01:00.
    expect(iso(localDayBounds('2026-09-06', 'America/Santiago').start)).toBe('2026-09-06T04:00:00.000Z');
  });

  it('rejects malformed dates and times', () => {
    expect(() => zonedTime('2026-02-30', '10:00', PARIS)).toThrow(RangeError);
    expect(() => zonedTime('2026-02-10', '10h00', PARIS)).toThrow(RangeError);
  });

  it('gives 23 h and 25 h local days when the clocks change', () => {
    const spring = localDayBounds('2026-03-29', PARIS);
    expect(iso(spring.start)).toBe('2026-03-28T23:00:00.000Z');
    expect(iso(spring.end)).toBe('2026-03-29T22:00:00.000Z');
    expect(hours(spring)).toBe(23);
    const autumn = localDayBounds('2026-10-25', PARIS);
    expect(iso(autumn.start)).toBe('2026-10-24T22:00:00.000Z');
    expect(iso(autumn.end)).toBe('2026-10-25T23:00:00.000Z');
    expect(hours(autumn)).toBe(25);
    expect(hours(localDayBounds('2026-06-01', PARIS))).toBe(24);
  });

  it('gives the 02:00-04:00 night window: 1 h on the spring night, 2 h normally, 3 h in autumn', () => {
    const spring = localWindow('2026-03-29', '02:00', '04:00', PARIS);
    expect(iso(spring.start)).toBe('2026-03-29T01:00:00.000Z'); // 03:00 CEST
    expect(iso(spring.end)).toBe('2026-03-29T02:00:00.000Z');
    expect(hours(spring)).toBe(1);
    const normal = localWindow('2026-03-22', '02:00', '04:00', PARIS);
    expect(iso(normal.start)).toBe('2026-03-22T01:00:00.000Z');
    expect(hours(normal)).toBe(2);
    expect(hours(localWindow('2026-10-25', '02:00', '04:00', PARIS))).toBe(3);
  });

  it('lets a window cross midnight', () => {
    const night = localWindow('2026-01-15', '22:00', '06:00', PARIS);
    expect(iso(night.start)).toBe('2026-01-15T21:00:00.000Z');
    expect(iso(night.end)).toBe('2026-01-16T05:00:00.000Z');
  });
});

describe('unoccupied stretches', () => {
  const cal = siteCalendarSchema.parse({});
  const longest = (stretches: Interval[]) => stretches.reduce((a, b) => (hours(b) > hours(a) ? b : a));

  it('finds Friday 18:00 → Monday 08:00 over a normal weekend: 62 h', () => {
    const stretches = unoccupiedStretches(at('2026-01-12T00:00:00Z'), at('2026-01-23T00:00:00Z'), cal);
    const weekend = longest(stretches);
    expect(iso(weekend.start)).toBe('2026-01-16T17:00:00.000Z');
    expect(iso(weekend.end)).toBe('2026-01-19T07:00:00.000Z');
    expect(hours(weekend)).toBe(62);
    // Weeknights are 14 h; the first and last stretches are clipped to the query.
    expect(stretches.map(hours)).toEqual([7, 14, 14, 14, 14, 62, 14, 14, 14, 7]);
  });

  it('extends the weekend of Whit Monday to 86 h', () => {
    const weekend = longest(unoccupiedStretches(at('2026-05-18T00:00:00Z'), at('2026-06-01T00:00:00Z'), cal));
    expect(iso(weekend.start)).toBe('2026-05-22T16:00:00.000Z'); // Friday 18:00 CEST
    expect(iso(weekend.end)).toBe('2026-05-26T06:00:00.000Z'); // Tuesday 08:00 CEST
    expect(hours(weekend)).toBe(86);
  });

  it('counts real hours over the spring DST weekend: 61 h', () => {
    const weekend = longest(unoccupiedStretches(at('2026-03-23T00:00:00Z'), at('2026-04-01T00:00:00Z'), cal));
    expect(iso(weekend.start)).toBe('2026-03-27T17:00:00.000Z');
    expect(hours(weekend)).toBe(61);
  });

  it('joins a school holiday and its weekends into one stretch', () => {
    const school = siteCalendarSchema.parse({ closedDates: ['2026-02-23..2026-03-06'] });
    const stretch = longest(unoccupiedStretches(at('2026-02-16T00:00:00Z'), at('2026-03-16T00:00:00Z'), school));
    expect(iso(stretch.start)).toBe('2026-02-20T17:00:00.000Z');
    expect(iso(stretch.end)).toBe('2026-03-09T07:00:00.000Z');
  });

  it('returns nothing for a site open around the clock, and the whole range for a closed one', () => {
    const allDay = ['00:00-24:00'];
    const serverRoom = siteCalendarSchema.parse({
      publicHolidays: false,
      openingHours: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay },
    });
    expect(unoccupiedStretches(at('2026-03-20T00:00:00Z'), at('2026-04-10T00:00:00Z'), serverRoom)).toEqual([]);
    const closed = siteCalendarSchema.parse({ openingHours: {} });
    expect(unoccupiedStretches(at('2026-03-20T00:00:00Z'), at('2026-03-21T00:00:00Z'), closed)).toEqual([
      { start: at('2026-03-20T00:00:00Z'), end: at('2026-03-21T00:00:00Z') },
    ]);
  });

  it('agrees with isOccupied every 15 minutes across both DST changes', () => {
    const site = siteCalendarSchema.parse({
      openingHours: { sun: ['01:30-02:45', '23:00-24:00'], mon: ['00:00-08:00'], sat: ['09:00-12:00'] },
      closedDates: ['2026-04-04'],
    });
    for (const [from, to] of [
      ['2026-03-20T00:00:00Z', '2026-04-06T00:00:00Z'],
      ['2026-10-16T00:00:00Z', '2026-11-02T00:00:00Z'],
    ] as const) {
      const stretches = unoccupiedStretches(at(from), at(to), site);
      for (let t = at(from).getTime(); t < at(to).getTime(); t += 15 * 60_000) {
        const inStretch = stretches.some((s) => s.start.getTime() <= t && t < s.end.getTime());
        expect(inStretch, new Date(t).toISOString()).toBe(!isOccupied(new Date(t), site));
      }
    }
  });
});

describe('calendar schema', () => {
  const messages = (input: unknown) => siteCalendarSchema.safeParse(input).error?.issues.map((i) => i.message) ?? [];

  it('rejects an unknown time zone', () => {
    expect(messages({ timeZone: 'Europe/Pariss' })).toEqual(["expected an IANA time zone, e.g. 'Europe/Paris'"]);
    expect(messages({ timeZone: 'America/Guadeloupe' })).toEqual([]);
  });

  it("rejects a malformed 'HH:MM' range, a reversed one and an unknown day", () => {
    expect(messages({ openingHours: { mon: ['8:00-18:00'] } })).toEqual([
      "expected an opening range 'HH:MM-HH:MM' from 00:00 to 24:00, e.g. '08:00-18:00', got '8:00-18:00'",
    ]);
    expect(messages({ openingHours: { mon: ['08:00-25:00'] } })[0]).toMatch(/^expected an opening range/);
    expect(messages({ openingHours: { mon: ['22:00-06:00'] } })[0]).toMatch(/crosses midnight/);
    expect(siteCalendarSchema.safeParse({ openingHours: { monday: ['08:00-18:00'] } }).success).toBe(false);
  });

  it('rejects impossible closed dates and reversed ranges', () => {
    expect(messages({ closedDates: ['2026-02-30'] })[0]).toMatch(/^expected a date 'YYYY-MM-DD'/);
    expect(messages({ closedDates: ['2026-03-02..2026-03-01'] })[0]).toMatch(/before the last/);
    expect(messages({ closedDates: ['2026-12-19..2027-01-03', '2026-05-15'] })).toEqual([]);
  });
});
