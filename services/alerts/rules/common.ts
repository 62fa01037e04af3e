/**
 * What the windowed rules share: time constants, subjects from InfluxDB tags, robust statistics, index arithmetic
 * (consumption is the non-negative difference of an index, docs/schema.md), the dew point, and a memo for the
 * daily rules so that a 15-minute schedule does not re-read weeks of history every round.
 */
import { inWords, type Finding, type SiteNames, type Subject, type Text } from '../model.ts';
import type { WindowContext } from './define.ts';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

export function deviceSubject(tags: Record<string, string>): Subject {
  return {
    tenant: tags.tenant ?? '',
    site: tags.site ?? '',
    ...(tags.building ? { building: tags.building } : {}),
    ...(tags.zone ? { zone: tags.zone } : {}),
    ...(tags.dev_eui ? { devEui: tags.dev_eui } : {}),
    ...(tags.device ? { device: tags.device } : {}),
  };
}

/**
 * A building-level subject as people say it: "bâtiment École Jean-Jaurès" (the site's display name when the building
 * is the site itself), "bâtiment gymnase b (École Jean-Jaurès)" otherwise; the zone in words after a comma.
 */
export function describePlace(s: Subject, siteName?: SiteNames): Text {
  const site = siteName?.(s.tenant, s.site) ?? s.site;
  const name = s.building && s.building !== s.site ? `${inWords(s.building)} (${site})` : site;
  const zone = s.zone ? `, ${inWords(s.zone)}` : '';
  return { fr: `bâtiment ${name}${zone}`, en: `building ${name}${zone}` };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100): the ⌈p·n/100⌉-th smallest value, easy to check by hand. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1). */
export function stdDev(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export const round1 = (x: number) => Math.round(x * 10) / 10;
export const round2 = (x: number) => Math.round(x * 100) / 100;

export interface Point {
  t: number;
  v: number;
}

/** Rows of a series as (time, value) points of column `col`, finite values only, in time order. */
export function points(rows: Record<string, unknown>[], col: string): Point[] {
  const out: Point[] = [];
  for (const r of rows) {
    const t = Number(r.time);
    const v = r[col];
    if (typeof v === 'number' && Number.isFinite(v) && Number.isFinite(t)) out.push({ t, v });
  }
  return out.sort((a, b) => a.t - b.t);
}

/**
 * The index at instant `t`, linearly interpolated between the readings either side (exact on a reading), or
 * undefined when there is no reading on one side within `maxGapMs`, or the index went down in between (reset).
 */
export function indexAt(pts: readonly Point[], t: number, maxGapMs: number): number | undefined {
  let lo = 0;
  let hi = pts.length - 1;
  if (hi < 0 || t < pts[0]!.t || t > pts[hi]!.t) return undefined;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (pts[mid]!.t <= t) lo = mid;
    else hi = mid;
  }
  const a = pts[lo]!;
  const b = pts[hi]!;
  if (a.t === t) return a.v;
  if (b.t === t) return b.v;
  if (b.t - a.t > maxGapMs || b.v < a.v) return undefined;
  return a.v + ((b.v - a.v) * (t - a.t)) / (b.t - a.t);
}

/**
 * Consumption between two instants from index points: the index at a boundary is the last reading at or before it
 * (a reading stamped at the boundary is the index there), increases only (a decrease is a counter reset: the new
 * value counts from zero, as in the datacenter KPIs). Undefined unless a reading lies within `maxAgeMs` before
 * each boundary.
 */
export function consumption(pts: readonly Point[], start: number, end: number, maxAgeMs: number): number | undefined {
  let before: Point | undefined;
  let last: Point | undefined;
  let total = 0;
  for (const p of pts) {
    if (p.t > end) break;
    if (p.t <= start) before = p;
    else if (last) total += p.v >= last.v ? p.v - last.v : Math.max(0, p.v);
    last = p;
  }
  if (!before || start - before.t > maxAgeMs || !last || end - last.t > maxAgeMs) return undefined;
  return total;
}

/** Dew point (°C) from air temperature and relative humidity: Magnus formula, Sonntag 1990 constants (over water). */
export function dewPointC(tempC: number, rhPct: number): number {
  const b = 17.62;
  const c = 243.12;
  const g = Math.log(Math.max(rhPct, 0.1) / 100) + (b * tempC) / (c + tempC);
  return (c * g) / (b - g);
}

/**
 * Evaluates `compute` at most once per `periodMs`, over a window ending at the start of the current period; the
 * findings are re-stamped with the time of each call. For rules that look at days or weeks: what they read changes
 * slowly, and a new period brings the new data in. One instance reads one database (as the scheduler does).
 */
export function memoByPeriod(periodMs: number, compute: (ctx: WindowContext, to: number) => Promise<Finding[]>): (ctx: WindowContext) => Promise<Finding[]> {
  let cached: { to: number; findings: Finding[] } | undefined;
  return async (ctx) => {
    const to = Math.floor(ctx.now.getTime() / periodMs) * periodMs;
    if (cached?.to !== to) cached = { to, findings: await compute(ctx, to) };
    return cached.findings.map((f) => ({ ...f, at: ctx.now }));
  };
}

/** Months in French and English for messages ("février 2026", "February 2026"), from 'YYYY-MM'. */
export function monthName(ym: string): Text {
  const d = new Date(`${ym}-15T12:00:00Z`);
  return {
    fr: new Intl.DateTimeFormat('fr-FR', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(d),
    en: new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(d),
  };
}

/** The local date `days` after `date` ('YYYY-MM-DD'; negative: before). */
export function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

/** Local date 'YYYY-MM-DD' formatted for messages ("03/03/2026", "3 Mar 2026"). */
export function formatDate(date: string): Text {
  const d = new Date(`${date}T12:00:00Z`);
  return {
    fr: new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeZone: 'UTC' }).format(d),
    en: new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' }).format(d),
  };
}

/** A number for the descriptions, with exactly `digits` decimals ("1,10 ×") and a true minus sign ("−9 °C"). */
export function fixed(n: number, digits: number): Text {
  const f = (locale: string) => new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n).replace('-', '−');
  return { fr: f('fr-FR'), en: f('en-GB') };
}
