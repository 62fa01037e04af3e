/**
 * Windowed rules judge complete periods, and their alerts hold while their condition holds (issue #14), on series
 * written to a real InfluxDB:
 * - W1 on 15-minute and hourly meters: the same verdict at every minute of an hour (the hour under way used to
 *   read as the smallest hour), one alert per leak over three days of rounds every 15 min, cleared only by an
 *   hour at zero (an hour under the threshold does not clear it);
 * - E2 on closures of 40 h, 64 h and two weeks, room sensors every 10 min or every hour: the limit of the planned length (R241-27) from the first hours of
 *   the closure, one alert that holds to its end;
 * - E4 on 15-minute and hourly meters: the same verdict at every minute, no flapping;
 * - a backtest's events each carry the alert as it stood at their time.
 * Each scenario lives in its own period, so that the rules, which read the whole database, see only its data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteCalendarSchema, type SiteCalendar } from '../../services/time/calendar.ts';
import { backtest } from '../../services/alerts/backtest.ts';
import { AlertBook, type AlertEvent } from '../../services/alerts/lifecycle.ts';
import type { Finding } from '../../services/alerts/model.ts';
import { heatedUnoccupiedRule } from '../../services/alerts/rules/energy.ts';
import { evaluateWindowed } from '../../services/alerts/scheduler.ts';
import type { WindowContext, WindowedRule } from '../../services/alerts/rules/define.ts';
import { baseLoadRule } from '../../services/alerts/rules/energy.ts';
import { continuousFlowRule } from '../../services/alerts/rules/water.ts';
import { startStack, windowContexts, writeLines, type Stack } from './support.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const Q = 15 * MIN;

const weekdays = ['08:30-16:30'];
const week = { mon: weekdays, tue: weekdays, wed: weekdays, thu: weekdays, fri: weekdays };
/** A school: Monday to Friday 08:30-16:30, so closed from Friday 16:30 to Monday 08:30 (64 h). */
const school = siteCalendarSchema.parse({ openingHours: week });
/** Open on Saturdays too: closed from Saturday 16:30 to Monday 08:30 (40 h). */
const saturdays = siteCalendarSchema.parse({ openingHours: { ...week, sat: weekdays } });
/** Two weeks of winter holidays, Saturday 7 to Sunday 22 February 2026: closed 400 h. */
const holidays = siteCalendarSchema.parse({ openingHours: week, closedDates: ['2026-02-07..2026-02-22'] });
const calendars: Record<string, SiteCalendar> = { 'e2-ecole': school, 'e2-horaire': school, 'e2-reduit': school, 'e2-samedi-15': saturdays, 'e2-samedi-17': saturdays, 'e2-vacances': holidays };

let stack: Stack;
let ctx: (now: Date | number | string) => WindowContext;
beforeAll(async () => {
  stack = await startStack();
  const contextAt = windowContexts(stack);
  ctx = (now) => contextAt(now, { calendars });
});
afterAll(async () => {
  await stack?.close();
});

const write = (lines: string[]) => writeLines(stack, lines);

const paris = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hourCycle: 'h23', hour: '2-digit', minute: '2-digit', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit' });
/** Wall-clock time in Paris: minutes since midnight, weekday (0 = Sunday), local date. */
function local(t: number): { minutes: number; weekday: number; date: string } {
  const p = Object.fromEntries(paris.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return { minutes: Number(p.hour) * 60 + Number(p.minute), weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday!), date: `${p.year}-${p.month}-${p.day}` };
}
const hhmm = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

/** Index readings at `times`; `rate(t)` = units per hour between a reading and the next. */
function indexLines(prefix: string, field: string, times: number[], rate: (t: number) => number, index0 = 1000): string[] {
  const lines: string[] = [];
  let index = index0;
  for (let i = 0; i < times.length; i++) {
    lines.push(`${prefix} ${field}=${index} ${times[i]}`);
    if (i + 1 < times.length) index += (rate(times[i]!) * (times[i + 1]! - times[i]!)) / HOUR;
  }
  return lines;
}
const every = (from: number, to: number, step: number, offset = 0) => Array.from({ length: Math.ceil((to - from) / step) }, (_, i) => from + offset + i * step).filter((t) => t < to);

/** What a verdict is made of: subject, firing, pending, thresholds and measured values (not the time of the call). */
const verdict = (findings: Finding[], pick: (f: Finding) => boolean) =>
  findings
    .filter(pick)
    .map((f) => JSON.stringify({ s: f.subject, firing: f.firing, pending: f.pending ?? false, thresholds: f.thresholds, measured: f.measured, window: f.window }))
    .sort();

/** Rounds every `stepMs` over [from, to] with one alert book, as the scheduler runs them. */
async function rounds(rules: WindowedRule[], from: number, to: number, stepMs: number): Promise<AlertEvent[]> {
  const book = new AlertBook();
  const events: AlertEvent[] = [];
  for (let t = from; t <= to; t += stepMs) events.push(...(await evaluateWindowed(rules, book, ctx(t))));
  return events;
}
const of = (events: AlertEvent[], device: string) => events.filter((e) => (e.alert.subject.device ?? e.alert.subject.site) === device).map((e) => e.type);

describe('W1 continuous flow on 15-minute and hourly meters', () => {
  // Monday 1 June 2026 00:00 UTC, three days of a steady 12 L/h leak.
  const start = Date.parse('2026-06-01T00:00:00Z');
  const end = start + 3 * DAY;
  const water = (device: string) => `water,tenant=t1,site=w1,role=water-main,dev_eui=${device},device=${device}`;
  beforeAll(async () => {
    await write([
      ...indexLines(water('w1-quart'), 'volume_index_l', every(start, end, Q), () => 12),
      ...indexLines(water('w1-heure'), 'volume_index_l', every(start, end, HOUR, 7 * MIN), () => 12),
      ...indexLines(water('w1-heure-pile'), 'volume_index_l', every(start, end, HOUR), () => 12),
      // 12 L/h, but 8 L/h for the hour from 40 h (the meter's hour, from a :45 reading to the next, sees 9 L: under
      // the threshold, never zero), and nothing from 60 h to 62 h (its hour from 60:45 to 61:45 is at zero).
      ...indexLines(water('w1-creux'), 'volume_index_l', every(start, end, Q), (t) => (t >= start + 40 * HOUR && t < start + 41 * HOUR ? 8 : t >= start + 60 * HOUR && t < start + 62 * HOUR ? 0 : 12)),
    ]);
  });

  it('gives the same verdict at every minute of an hour: firing at 12 L/h on each meter', async () => {
    const hour = start + 30 * HOUR;
    const leaks = (f: Finding) => ['w1-quart', 'w1-heure', 'w1-heure-pile'].includes(f.subject.device ?? '');
    const first = await continuousFlowRule().evaluate(ctx(hour));
    expect(first.filter(leaks).map((f) => [f.subject.device, f.firing, f.measured.min_l_per_h, f.measured.hours]).sort()).toEqual([
      ['w1-heure', true, 12, 24],
      ['w1-heure-pile', true, 12, 24],
      ['w1-quart', true, 12, 24],
    ]);
    for (let m = 1; m < 60; m++) {
      expect(verdict(await continuousFlowRule().evaluate(ctx(hour + m * MIN)), leaks), `minute ${m}`).toEqual(verdict(first, leaks));
    }
  });

  it('opens one alert per leak over three days of rounds every 15 min, and clears only after an hour at zero', async () => {
    const events = await rounds([continuousFlowRule()], start, end, Q);
    for (const device of ['w1-quart', 'w1-heure', 'w1-heure-pile']) expect(of(events, device), device).toEqual(['opened']);
    // The hour at 8 L keeps the alert open (hysteresis); the hour at zero clears it once it is complete.
    expect(of(events, 'w1-creux')).toEqual(['opened', 'resolved']);
    const resolved = events.find((e) => e.alert.subject.device === 'w1-creux' && e.type === 'resolved')!;
    expect(resolved.at).toEqual(new Date(start + 62 * HOUR));
  });

  it('a backtest shows each event with the alert as it stood then', async () => {
    const c = ctx(start);
    const events = (await backtest([continuousFlowRule()], { query: c.query, calendarFor: c.calendarFor }, { from: new Date(start), to: new Date(end), stepMs: HOUR })).filter(
      (e) => e.alert.subject.device === 'w1-creux',
    );
    expect(events.map((e) => e.type)).toEqual(['opened', 'resolved']);
    const [opened, resolved] = events as [AlertEvent, AlertEvent];
    // Opened once 20 complete hours were in the window: it says so, and is open, not resolved.
    expect(opened.at).toEqual(new Date(start + 21 * HOUR));
    expect(opened.alert).toMatchObject({ state: 'open', measured: { hours: 20, min_l_per_h: 12 }, window: { to: new Date(start + 21 * HOUR) } });
    expect(opened.alert.endedAt).toBeUndefined();
    expect(opened.alert.resolved).toBeUndefined();
    expect(resolved.alert).toMatchObject({ state: 'resolved', measured: { hours: 24 }, endedAt: new Date(start + 62 * HOUR) });
  });
});

describe('E2 closures judged by their planned length', () => {
  const open = (t: number, saturday = false) => {
    const l = local(t);
    return l.weekday >= 1 && l.weekday <= (saturday ? 6 : 5) && l.minutes >= hhmm('08:30') && l.minutes < hhmm('16:30');
  };
  const rooms = (site: string, from: number, to: number, c: (t: number) => number, step = 10 * MIN, offset = 0) =>
    every(from, to, step, offset).map((t) => `air,tenant=t1,site=${site},building=${site},role=room,dev_eui=${site}-salle,device=${site}-salle temperature_c=${c(t)} ${t}`);
  // The week of 12 January 2026 to Tuesday 20 January; the weekend closure from Friday 16 January 16:30 (15:30 UTC).
  const from = Date.parse('2026-01-12T00:00:00Z');
  const to = Date.parse('2026-01-20T12:00:00Z');
  const closing = Date.parse('2026-01-16T15:30:00Z');
  const reopening = Date.parse('2026-01-19T07:30:00Z');
  beforeAll(async () => {
    await write([
      ...rooms('e2-ecole', from, to, (t) => (open(t) ? 19 : 15)),
      // The same school with a sensor reporting once an hour (at :20).
      ...rooms('e2-horaire', from, to, (t) => (open(t) ? 19 : 15), HOUR, 20 * MIN),
      // Set back to 7.5 °C once cooled down (4 h), heated again 2 h before opening.
      ...rooms('e2-reduit', from, to, (t) => (open(t) ? 19 : t >= closing + 4 * HOUR && t < reopening - 2 * HOUR ? 7.5 : 14)),
      ...rooms('e2-samedi-15', from, to, (t) => (open(t, true) ? 19 : 15)),
      ...rooms('e2-samedi-17', from, to, (t) => (open(t, true) ? 19 : 17)),
    ]);
  });
  const site = (findings: Finding[], s: string) => findings.find((f) => f.subject.site === s);

  it('a school closed Friday 16:30 → Monday 08:30 (64 h) at 15 °C raises E2 on Saturday morning with the 8 °C limit', async () => {
    const findings = await heatedUnoccupiedRule().evaluate(ctx('2026-01-17T09:00:00Z'));
    const warm = site(findings, 'e2-ecole')!;
    expect(warm).toMatchObject({
      firing: true,
      thresholds: { max_c: 8, max_c_24_48h: 16, max_c_48h: 8 },
      measured: { mean_c: 15, unoccupied_h: 64, unoccupied_from: '2026-01-16T15:30:00.000Z', unoccupied_to: '2026-01-19T07:30:00.000Z', ongoing: 'yes', mean_from: '2026-01-16T19:30:00.000Z', mean_to: '2026-01-17T09:00:00.000Z' },
    });
    expect(warm.message.fr.replace(/[\u202f\u00a0]/g, ' ')).toBe(
      'Bâtiment e2-ecole chauffé pendant son inoccupation : 15 °C en moyenne sur 1 pièce depuis le 16/01/2026 20:30, inoccupé du 16/01/2026 16:30 au 19/01/2026 08:30 (64 h prévues au calendrier, en cours ; 4 h de refroidissement exclues), limite 8 °C pour une inoccupation de 48 h ou plus (R241-27) : programmer le réduit.',
    );
    expect(warm.message.en).toContain('(64 h planned in the calendar, ongoing; 4 h of cool-down left out), limit 8 °C for a closure of 48 h or more');
    expect(site(findings, 'e2-horaire')).toMatchObject({ firing: true, thresholds: { max_c: 8 }, measured: { mean_c: 15, unoccupied_h: 64 } });
    // Set back: not firing, and while the closure goes on it would not clear an alert either.
    expect(site(findings, 'e2-reduit')).toMatchObject({ firing: false, pending: true, measured: { mean_c: 7.5 } });
  });

  it('a 40 h closure (open on Saturdays) keeps the 16 °C limit: 15 °C passes, 17 °C fires', async () => {
    const findings = await heatedUnoccupiedRule().evaluate(ctx('2026-01-18T11:00:00Z'));
    expect(site(findings, 'e2-samedi-15')).toMatchObject({ firing: false, thresholds: { max_c: 16 }, measured: { mean_c: 15, unoccupied_h: 40, ongoing: 'yes' } });
    expect(site(findings, 'e2-samedi-17')).toMatchObject({ firing: true, thresholds: { max_c: 16 }, measured: { mean_c: 17, unoccupied_h: 40 } });
    expect(site(findings, 'e2-samedi-17')!.message.fr).toContain('limite 16 °C pour une inoccupation de 24 à 48 h (R241-27)');
  });

  it('gives the same verdict at every minute of an hour', async () => {
    const hour = Date.parse('2026-01-17T21:00:00Z');
    const sites = (f: Finding) => f.subject.site.startsWith('e2-');
    const first = await heatedUnoccupiedRule().evaluate(ctx(hour));
    expect(site(first, 'e2-ecole')!.firing).toBe(true);
    for (let m = 1; m < 60; m++) expect(verdict(await heatedUnoccupiedRule().evaluate(ctx(hour + m * MIN)), sites), `minute ${m}`).toEqual(verdict(first, sites));
  });

  it('hourly rounds over the weekend: one alert per heated building, opened on Friday evening, never resolved', async () => {
    const events = await rounds([heatedUnoccupiedRule()], Date.parse('2026-01-16T12:00:00Z'), Date.parse('2026-01-19T12:00:00Z'), HOUR);
    expect(of(events, 'e2-ecole')).toEqual(['opened']);
    expect(of(events, 'e2-horaire')).toEqual(['opened']);
    expect(of(events, 'e2-samedi-17')).toEqual(['opened']);
    expect(of(events, 'e2-samedi-15')).toEqual([]);
    expect(of(events, 'e2-reduit')).toEqual([]);
    const opened = events.find((e) => e.alert.subject.site === 'e2-ecole')!;
    // The first round with an hour of readings after the cool-down: Friday 22:00 Paris.
    expect(opened.at).toEqual(new Date('2026-01-16T21:00:00Z'));
    expect(opened.alert.thresholds).toMatchObject({ max_c: 8 });
  });

  it('a two-week holiday at 15 °C: one alert from its first evening to its end, not resolved while heated', async () => {
    const hFrom = Date.parse('2026-02-02T00:00:00Z');
    const hTo = Date.parse('2026-02-24T12:00:00Z');
    const inHoliday = (t: number) => t >= Date.parse('2026-02-06T15:30:00Z') && t < Date.parse('2026-02-23T07:30:00Z');
    await write(rooms('e2-vacances', hFrom, hTo, (t) => (open(t) && !inHoliday(t) ? 19 : 15)));
    const events = await rounds([heatedUnoccupiedRule()], Date.parse('2026-02-06T12:00:00Z'), Date.parse('2026-02-23T12:00:00Z'), HOUR);
    const mine = events.filter((e) => e.alert.subject.site === 'e2-vacances');
    expect(mine.map((e) => e.type)).toEqual(['opened']);
    expect(mine[0]!.at).toEqual(new Date('2026-02-06T21:00:00Z'));
    expect(mine[0]!.alert).toMatchObject({ thresholds: { max_c: 8 }, measured: { unoccupied_h: 400, ongoing: 'yes' } });
    // Day 10 of the holiday: the mean of the last 7 days, still over the limit.
    const late = (await heatedUnoccupiedRule().evaluate(ctx('2026-02-16T10:00:00Z'))).find((f) => f.subject.site === 'e2-vacances')!;
    expect(late).toMatchObject({ firing: true, measured: { mean_c: 15, unoccupied_h: 400, mean_from: '2026-02-09T10:00:00.000Z' } });
  });
});

describe('E4 night base load on 15-minute and hourly meters', () => {
  // Monday 2 to Thursday 12 March 2026 (no DST change): 10 kWh/h from 07:00 to 19:00, 6.5 kWh/h otherwise.
  const start = Date.parse('2026-03-02T00:00:00Z');
  const end = Date.parse('2026-03-12T00:00:00Z');
  const rate = (t: number) => (local(t).minutes >= hhmm('07:00') && local(t).minutes < hhmm('19:00') ? 10_000 : 6_500);
  const meter = (device: string) => `electricity,tenant=t1,site=e4,building=e4,role=building-main,dev_eui=${device},device=${device}`;
  beforeAll(async () => {
    await write([...indexLines(meter('e4-quart'), 'active_energy_index_wh', every(start, end, Q), rate, 5e6), ...indexLines(meter('e4-heure'), 'active_energy_index_wh', every(start, end, HOUR), rate, 5e6)]);
  });
  const mine = (f: Finding) => (f.subject.device ?? '').startsWith('e4-');

  it('gives the same verdict at every minute of an hour, over the last 7 complete local days', async () => {
    const hour = Date.parse('2026-03-10T09:00:00Z');
    const first = await baseLoadRule().evaluate(ctx(hour));
    expect(first.filter(mine).map((f) => [f.subject.device, f.firing, f.measured.ratio, f.window.from.toISOString(), f.window.to.toISOString()]).sort()).toEqual([
      ['e4-heure', true, 0.65, '2026-03-02T23:00:00.000Z', '2026-03-09T23:00:00.000Z'],
      ['e4-quart', true, 0.65, '2026-03-02T23:00:00.000Z', '2026-03-09T23:00:00.000Z'],
    ]);
    for (let m = 1; m < 60; m++) expect(verdict(await baseLoadRule().evaluate(ctx(hour + m * MIN)), mine), `minute ${m}`).toEqual(verdict(first, mine));
  });

  it('rounds every 15 min over two days: one alert per meter, never resolved', async () => {
    const events = await rounds([baseLoadRule()], Date.parse('2026-03-09T00:00:00Z'), Date.parse('2026-03-11T00:00:00Z'), Q);
    expect(of(events, 'e4-quart')).toEqual(['opened']);
    expect(of(events, 'e4-heure')).toEqual(['opened']);
  });
});
