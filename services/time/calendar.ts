/**
 * Occupancy calendars of sites and local-time windows: the alert rules, rollups, reports, the API and the console
 * all count local days and opening hours with these functions (services/time/, below every room that uses it).
 *
 * Why: the heating limits of the Code de l'énergie (R241-26: 19 °C when occupied; R241-27: 16 °C when
 * unoccupied for ≥ 24 h, 8 °C for ≥ 48 h) need to know when a school or town hall is closed, and the water-leak
 * rules look at the night flow in a local window (e.g. 02:00-04:00). Both are defined in local wall time, while
 * readings are UTC instants; this module converts between the two across daylight-saving changes with
 * nothing but Node's built-in `Intl` (no time-zone package).
 *
 * Conventions: dates are 'YYYY-MM-DD' local dates, times 'HH:MM' (24-hour; '24:00' means the next midnight),
 * intervals are half-open [start, end).
 */
import { z } from 'zod';

const MINUTE = 60_000;
const DAY = 86_400_000;
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export interface Interval {
  start: Date;
  end: Date;
}

// ---------------------------------------------------------------------------------------------------------
// Plain dates ('YYYY-MM-DD') and times ('HH:MM')

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** Midnight UTC of a 'YYYY-MM-DD' date as epoch ms, or undefined when it is not a real calendar date. */
function dateMs(date: string): number | undefined {
  const m = DATE_RE.exec(date);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return formatDate(ms) === date ? ms : undefined; // rejects 2026-02-30
}

function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function addDays(date: string, days: number): string {
  return formatDate(requireDate(date) + days * DAY);
}

function requireDate(date: string): number {
  const ms = dateMs(date);
  if (ms === undefined) throw new RangeError(`expected a date 'YYYY-MM-DD', got '${date}'`);
  return ms;
}

/** Minutes since midnight of 'HH:MM' (0..1440). */
function minutesOf(hhmm: string): number {
  if (!TIME_RE.test(hhmm)) throw new RangeError(`expected a time 'HH:MM', got '${hhmm}'`);
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

// ---------------------------------------------------------------------------------------------------------
// French public holidays

/** Easter Sunday of a Gregorian year ('YYYY-MM-DD'), by the anonymous (Meeus/Jones/Butcher) computus. */
export function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return formatDate(Date.UTC(year, month - 1, day));
}

/**
 * The 11 public holidays of the Code du travail (L3133-1), sorted, as 'YYYY-MM-DD'. With `alsaceMoselle`,
 * also Good Friday and 26 December (L3134-13), 13 days.
 */
export function frenchPublicHolidays(year: number, options: { alsaceMoselle?: boolean } = {}): string[] {
  const easter = easterSunday(year);
  const fixed = (mmdd: string) => `${String(year).padStart(4, '0')}-${mmdd}`;
  const days = [
    fixed('01-01'),
    addDays(easter, 1), // lundi de Pâques
    fixed('05-01'),
    fixed('05-08'),
    addDays(easter, 39), // Ascension
    addDays(easter, 50), // lundi de Pentecôte
    fixed('07-14'),
    fixed('08-15'),
    fixed('11-01'),
    fixed('11-11'),
    fixed('12-25'),
  ];
  if (options.alsaceMoselle) days.push(addDays(easter, -2), fixed('12-26'));
  return days.sort();
}

const holidayCache = new Map<string, Set<string>>();

function holidaySet(year: number, alsaceMoselle: boolean): Set<string> {
  const key = `${year}:${alsaceMoselle}`;
  let set = holidayCache.get(key);
  if (!set) {
    set = new Set(frenchPublicHolidays(year, { alsaceMoselle }));
    holidayCache.set(key, set);
  }
  return set;
}

// ---------------------------------------------------------------------------------------------------------
// Site calendar schema

/** An IANA time zone name the runtime knows ('Europe/Paris'). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Why an opening range is invalid, or undefined when it is fine. */
function hoursRangeProblem(s: string): string | undefined {
  const [from = '', to = '', ...rest] = s.split('-');
  if (rest.length > 0 || !TIME_RE.test(from) || !TIME_RE.test(to) || from === '24:00') {
    return `expected an opening range 'HH:MM-HH:MM' from 00:00 to 24:00, e.g. '08:00-18:00', got '${s}'`;
  }
  if (from >= to) return `expected the start before the end in '${s}'; split a range that crosses midnight over two days`;
  return undefined;
}

/** Why a closed date is invalid, or undefined when it is fine. */
function closedDateProblem(s: string): string | undefined {
  const [from = '', to = from, ...rest] = s.split('..');
  if (rest.length > 0 || dateMs(from) === undefined || dateMs(to) === undefined) {
    return `expected a date 'YYYY-MM-DD' or a range 'YYYY-MM-DD..YYYY-MM-DD', got '${s}'`;
  }
  if (from > to) return `expected the first date of the range before the last in '${s}'`;
  return undefined;
}

/** A string checked by `problem`, reported as one clear issue. */
const checked = (problem: (s: string) => string | undefined) =>
  z.string().superRefine((s, ctx) => {
    const message = problem(s);
    if (message) ctx.addIssue({ code: 'custom', message });
  });

const hoursRange = checked(hoursRangeProblem);
const dayHours = z.array(hoursRange).default([]);

// Omitted days are closed once `openingHours` is given; strict so that 'monday' is not silently ignored.
const openingHoursSchema = z
  .strictObject({
    mon: dayHours,
    tue: dayHours,
    wed: dayHours,
    thu: dayHours,
    fri: dayHours,
    sat: dayHours,
    sun: dayHours,
  })
  .default({
    mon: ['08:00-18:00'],
    tue: ['08:00-18:00'],
    wed: ['08:00-18:00'],
    thu: ['08:00-18:00'],
    fri: ['08:00-18:00'],
    sat: [],
    sun: [],
  });

const closedDate = checked(closedDateProblem);

export const siteCalendarSchema = z.strictObject({
  timeZone: z
    .string()
    .refine(isTimeZone, { message: "expected an IANA time zone, e.g. 'Europe/Paris'" })
    .default('Europe/Paris'),
  openingHours: openingHoursSchema,
  closedDates: z.array(closedDate).default([]),
  publicHolidays: z.boolean().default(true),
  alsaceMoselle: z.boolean().default(false),
});

/** A validated calendar (defaults applied): build one with `siteCalendarSchema.parse(...)`. */
export type SiteCalendar = z.output<typeof siteCalendarSchema>;
export type SiteCalendarInput = z.input<typeof siteCalendarSchema>;

// ---------------------------------------------------------------------------------------------------------
// Local time through Intl

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // hourCycle 'h23': with `hour12: false` some ICU versions print midnight as '24'.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function formattedWallMs(ms: number, timeZone: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
}

/**
 * UTC offsets by zone and minute. formatToParts costs microseconds and the stream rules ask for every uplink;
 * offsets only change on whole minutes (DST), so one computation serves every uplink of the same minute.
 */
const offsetByMinute = new Map<string, number>();

/** The local wall time of instant `ms`, expressed as if it were a UTC epoch (ms, whole seconds). */
function wallMs(ms: number, timeZone: string): number {
  const minuteStart = Math.floor(ms / 60_000) * 60_000;
  const key = `${timeZone}|${minuteStart}`;
  let offset = offsetByMinute.get(key);
  if (offset === undefined) {
    offset = formattedWallMs(minuteStart, timeZone) - minuteStart;
    if (offsetByMinute.size >= 4096) offsetByMinute.clear();
    offsetByMinute.set(key, offset);
  }
  return ms - (((ms % 1000) + 1000) % 1000) + offset;
}

/** UTC offset of the zone at instant `ms`, in ms (Paris: +3,600,000 in winter, +7,200,000 in summer). */
function offsetMs(ms: number, timeZone: string): number {
  return wallMs(ms, timeZone) - (ms - (((ms % 1000) + 1000) % 1000));
}

export interface LocalTime {
  date: string;
  /** 0 = Sunday … 6 = Saturday, like `Date#getDay`. */
  weekday: number;
  hour: number;
  minute: number;
  minutesOfDay: number;
}

export function localTime(t: Date, timeZone: string): LocalTime {
  const wall = new Date(wallMs(t.getTime(), timeZone));
  const hour = wall.getUTCHours();
  const minute = wall.getUTCMinutes();
  return {
    date: wall.toISOString().slice(0, 10),
    weekday: wall.getUTCDay(),
    hour,
    minute,
    minutesOfDay: hour * 60 + minute,
  };
}

/**
 * The UTC instant of local wall time `hhmm` on `date` in `timeZone` ('24:00' is the next midnight).
 * Around a DST change a wall time can exist twice or not at all:
 * - autumn overlap (Paris 2026-10-25 02:30): the first occurrence, i.e. still in summer time;
 * - spring gap (Paris 2026-03-29 02:30): the instant just after the gap, i.e. 03:00 local — not 03:30 as
 *   `Temporal`'s 'compatible' would give — so that a window starting in the gap starts when the day resumes.
 */
export function zonedTime(date: string, hhmm: string, timeZone: string): Date {
  const wall = requireDate(date) + minutesOf(hhmm) * MINUTE;
  // Offsets a day either side bracket any single transition near `wall`; each gives a candidate instant.
  const before = offsetMs(wall - DAY, timeZone);
  const after = offsetMs(wall + DAY, timeZone);
  const candidates = [wall - before, wall - after].filter((t) => t + offsetMs(t, timeZone) === wall);
  if (candidates.length > 0) return new Date(Math.min(...candidates));
  return new Date(transitionBetween(wall - after, wall - before, timeZone));
}

/** First instant after `lo` (whole seconds) where the offset differs from the offset at `lo`, up to `hi`. */
function transitionBetween(lo: number, hi: number, timeZone: string): number {
  const base = offsetMs(lo, timeZone);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetMs(mid, timeZone) === base) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** [local midnight, next local midnight): 24 h, or 23 h / 25 h on the days clocks change. */
export function localDayBounds(date: string, timeZone: string): Interval {
  return { start: zonedTime(date, '00:00', timeZone), end: zonedTime(date, '24:00', timeZone) };
}

/**
 * The local window `from`–`to` of `date` as UTC instants; a `to` at or before `from` ends on the next day
 * (22:00-06:00). Windows follow the wall clock, so their length changes with DST: in Europe/Paris the
 * 02:00-04:00 window is 1 h on the spring night (02:00-03:00 does not exist, it starts at 03:00) and 3 h on
 * the autumn night (02:00-03:00 happens twice).
 */
export function localWindow(date: string, from: string, to: string, timeZone: string): Interval {
  if (from === to) throw new RangeError(`empty window ${from}-${to}`);
  const endDate = minutesOf(to) > minutesOf(from) ? date : addDays(date, 1);
  return { start: zonedTime(date, from, timeZone), end: zonedTime(endDate, to, timeZone) };
}

// ---------------------------------------------------------------------------------------------------------
// Occupancy

/** True when the whole local day is closed: a public holiday (if enabled) or one of `closedDates`. */
export function isClosedDay(date: string, cal: SiteCalendar): boolean {
  if (cal.publicHolidays && holidaySet(Number(date.slice(0, 4)), cal.alsaceMoselle).has(date)) return true;
  return cal.closedDates.some((entry) => {
    const [from = '', to = from] = entry.split('..');
    return from <= date && date <= to; // 'YYYY-MM-DD' strings sort like dates
  });
}

/** The opening ranges ('HH:MM-HH:MM') of the weekday of `date`, ignoring closed days. */
function openingRanges(date: string, cal: SiteCalendar): string[] {
  return cal.openingHours[WEEKDAYS[new Date(requireDate(date)).getUTCDay()]!];
}

export function isOccupied(t: Date, cal: SiteCalendar): boolean {
  const local = localTime(t, cal.timeZone);
  if (isClosedDay(local.date, cal)) return false;
  return openingRanges(local.date, cal).some(
    (r) => minutesOf(r.slice(0, 5)) <= local.minutesOfDay && local.minutesOfDay < minutesOf(r.slice(6)),
  );
}

/**
 * Opening periods of one local day as UTC ms: exactly the instants whose wall time falls in an opening range,
 * as `isOccupied` sees them. The day is cut where its offset changes, so a range that overlaps the spring gap
 * or the repeated autumn hour covers what the clock shows, not a naive start→end.
 */
function occupiedIntervals(date: string, cal: SiteCalendar): { start: number; end: number }[] {
  if (isClosedDay(date, cal)) return [];
  const midnight = requireDate(date);
  const out: { start: number; end: number }[] = [];
  for (const segment of offsetSegments(date, cal.timeZone)) {
    for (const r of openingRanges(date, cal)) {
      // While the offset is constant, wall time w is the instant w - offset.
      const start = Math.max(segment.start, midnight + minutesOf(r.slice(0, 5)) * MINUTE - segment.offset);
      const end = Math.min(segment.end, midnight + minutesOf(r.slice(6)) * MINUTE - segment.offset);
      if (end > start) out.push({ start, end });
    }
  }
  return out;
}

/** The local day cut where its UTC offset changes (at most once a day), each piece with its offset. */
function offsetSegments(date: string, timeZone: string): { start: number; end: number; offset: number }[] {
  const bounds = localDayBounds(date, timeZone);
  const start = bounds.start.getTime();
  const end = bounds.end.getTime();
  const offset = offsetMs(start, timeZone);
  if (offsetMs(end - 1000, timeZone) === offset) return [{ start, end, offset }];
  const change = transitionBetween(start, end - 1000, timeZone);
  return [
    { start, end: change, offset },
    { start: change, end, offset: offsetMs(change, timeZone) },
  ];
}

/**
 * The periods within [from, to) during which the site is continuously unoccupied, oldest first
 * (Friday 18:00 → Monday 08:00 is one 62 h stretch; a closed Monday makes it 86 h). Stretches are clipped to
 * [from, to): query a few days more than the duration a rule looks for.
 */
export function unoccupiedStretches(from: Date, to: Date, cal: SiteCalendar): Interval[] {
  if (to.getTime() <= from.getTime()) return [];
  const last = localTime(to, cal.timeZone).date;
  const occupied: { start: number; end: number }[] = [];
  for (let d = localTime(from, cal.timeZone).date; d <= last; d = addDays(d, 1)) {
    occupied.push(...occupiedIntervals(d, cal));
  }
  occupied.sort((x, y) => x.start - y.start);

  const stretches: Interval[] = [];
  let cursor = from.getTime(); // start of the current unoccupied period
  for (const { start, end } of occupied) {
    if (start > cursor) pushClipped(stretches, cursor, Math.min(start, to.getTime()));
    cursor = Math.max(cursor, end);
  }
  pushClipped(stretches, cursor, to.getTime());
  return stretches;
}

function pushClipped(out: Interval[], start: number, end: number): void {
  if (end > start) out.push({ start: new Date(start), end: new Date(end) });
}
