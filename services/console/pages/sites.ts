/**
 * Sites: per commune, each site with tiles that answer the daily questions (water today, yesterday, over 7 days
 * and last night's smallest hourly volume; electricity; room temperatures against 19 °C; CO₂; PUE of server
 * rooms; open alerts), and one site's page with its devices and charts.
 *
 * The list stays fast with a fleet of 1,000 devices: a handful of InfluxQL queries grouped by tenant, site and
 * device for every site at once (daily first/last index, hourly index of last night, latest room readings), never
 * one query per device; the figures are then computed here, in pure functions the unit tests call directly.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { QUANTITIES } from '../../../decoders/model/quantities.ts';
import { ROLES } from '../../../decoders/model/roles.ts';
import { localDayBounds, localTime, localWindow } from '../../time/calendar.ts';
import type { Alert } from '../../alerts/model.ts';
import { listDevices, siteTimeZone, type DeviceView } from '../../api/inventory.ts';
import { siteId, tenantId } from '../../api/params.ts';
import { readSeries, type DeviceSeries } from '../../api/readings.ts';
import { ApiError, mayRead, requestedTenants, tenantConditions } from '../../api/scope.ts';
import { energyFromIndex } from '../../datacenter/kpi.ts';
import { rollupField, rollupMeasurement, ROLLUP_RP } from '../../rollups/names.ts';
import { roleLabel } from '../../registry/names.ts';
import { seriesRows, type InfluxSeries } from '../../storage/influx.ts';
import { select, type Condition, type Select } from '../../storage/influxql.ts';
import { chart, seriesRange, type ChartSeries } from '../components.ts';
import { pageOf, type PageContext } from '../context.ts';
import { html, type Html } from '../html.ts';
import { layout } from '../layout.ts';
import { sendPage, type ConsoleDeps } from '../page.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The indoor temperature the tiles compare rooms to (Code de l'énergie R241-26: 19 °C on average when heated). */
export const ROOM_REFERENCE_C = 19;
/** How old a room reading may be to count as "latest". */
const LATEST_WINDOW_MS = 3 * HOUR;

const WATER = QUANTITIES['metering.water.total'];
const ENERGY = QUANTITIES['metering.electricity.activeEnergy'];
const TEMPERATURE = QUANTITIES['air.temperature'];
const CO2 = QUANTITIES['air.co2'];

/** A site's water is its building meters', else (a reservoir, a district) its district inflow meters'. */
const WATER_ROLES = { primary: [ROLES.waterMain], fallback: [ROLES.districtInflow] } as const;
/** A site's electricity is its building main meter's, else its server room's total (sub-meters are not added). */
const POWER_ROLES = { primary: [ROLES.buildingMain], fallback: [ROLES.facilityTotal] } as const;
const SERVER_ROOM_ROLES: readonly string[] = [ROLES.facilityTotal, ROLES.itLoad, ROLES.itInlet];

// ---------------------------------------------------------------------------------------------------------
// Pure computation

/**
 * One local day of one meter: from the readings, its first and last index reading of that day (InfluxQL
 * first()/last() by day); from the daily rollup, the day's consumption (`diff`, counted from the last reading
 * before the day) and its last index.
 */
export interface DayBucket {
  /** Start of the local day, epoch ms. */
  t: number;
  first: number | null;
  last: number | null;
  diff?: number | null | undefined;
}

export interface MeterDays {
  tenant: string;
  site: string;
  devEui: string;
  role: string;
  /** Sorted by time. */
  days: DayBucket[];
}

export interface Consumption {
  value: number;
  /** Set when no reading precedes the period: the figure counts from the meter's first reading, that day. */
  partialSince?: number | undefined;
}

/**
 * One meter's consumption over the local days [start, end). A rolled-up day counts its `diff`; a day read from the
 * readings counts from the last index before it (the previous day's) through its first and last readings, a
 * decrease counting as a counter reset (the rule of the datacenter report). Partial when the first day of the
 * period with readings has no index before it. Undefined when the meter has no reading in the period.
 */
export function meterConsumption(days: readonly DayBucket[], start: number, end: number): Consumption | undefined {
  let previous: number | undefined;
  let firstDay: number | undefined;
  let partial = false;
  let total = 0;
  for (const d of days) {
    if (d.t >= end) break;
    if (d.t >= start) {
      if (d.diff !== undefined && d.diff !== null) {
        firstDay ??= d.t;
        total += d.diff;
      } else if (d.first !== null || d.last !== null) {
        if (firstDay === undefined && previous === undefined) partial = true;
        firstDay ??= d.t;
        total += energyFromIndex([previous, d.first, d.last].filter((v): v is number => v !== null && v !== undefined)).wh;
      }
    }
    if (d.last !== null) previous = d.last;
  }
  if (firstDay === undefined) return undefined;
  return partial ? { value: total, partialSince: firstDay } : { value: total };
}

/**
 * A meter's days from the daily rollup and from the readings, by day: a rolled-up day wins (complete and computed
 * once); the readings fill the days the rollup has not reached yet (today, and yesterday in its first minutes).
 */
export function mergeDays(rollup: readonly DayBucket[], raw: readonly DayBucket[]): DayBucket[] {
  const byDay = new Map<number, DayBucket>(raw.map((d) => [d.t, d]));
  for (const d of rollup) if (d.diff !== undefined && d.diff !== null) byDay.set(d.t, d);
  return [...byDay.values()].sort((a, b) => a.t - b.t);
}

export interface SiteFigure {
  value: number;
  /** Meters that make up the site's figure, and how many of them had readings in the period. */
  meters: number;
  metersWithData: number;
  partialSince?: number | undefined;
}

/** The meters that count for a site: those of the primary roles, else those of the fallback roles. */
export function metersFor<M extends { role: string }>(meters: readonly M[], roles: { primary: readonly string[]; fallback: readonly string[] }): M[] {
  const primary = meters.filter((m) => roles.primary.includes(m.role));
  return primary.length ? primary : meters.filter((m) => roles.fallback.includes(m.role));
}

/** The sum over a site's meters of their consumption over [start, end); undefined when none has a reading. */
export function siteConsumption(meters: readonly MeterDays[], start: number, end: number): SiteFigure | undefined {
  let value = 0;
  let withData = 0;
  let partialSince: number | undefined;
  for (const m of meters) {
    const c = meterConsumption(m.days, start, end);
    if (!c) continue;
    value += c.value;
    withData++;
    if (c.partialSince !== undefined) partialSince = Math.max(partialSince ?? 0, c.partialSince);
  }
  if (withData === 0) return undefined;
  return { value, meters: meters.length, metersWithData: withData, ...(partialSince !== undefined ? { partialSince } : {}) };
}

/** PUE = total energy of the room ÷ energy of its IT equipment, over the same period (ISO/IEC 30134-2). */
export function pueOf(facility: SiteFigure | undefined, it: SiteFigure | undefined): number | undefined {
  if (!facility || !it || it.value <= 0) return undefined;
  return facility.value / it.value;
}

/** One meter's last index reading of each local hour (InfluxQL last() by hour). */
export interface MeterHours {
  role: string;
  hours: { t: number; last: number | null }[];
}

export interface NightMinimum {
  /** The smallest hourly volume of the site over the night, L/h. */
  value: number;
  /** Start of that hour, epoch ms. */
  at: number;
  /** Hours of the night with a volume for every meter of the site. */
  hours: number;
  of: number;
}

/**
 * The smallest hourly consumption of the site over the night's hours: each hour's volume is the difference of the
 * meter's last index of that hour and of the hour before (both needed; a decrease, i.e. a counter reset, leaves the
 * hour out), summed over the site's meters (an hour some meter cannot tell is left out).
 */
export function nightMinimum(meters: readonly MeterHours[], hourStarts: readonly number[]): NightMinimum | undefined {
  if (meters.length === 0) return undefined;
  const maps = meters.map((m) => new Map(m.hours.filter((h) => h.last !== null).map((h) => [h.t, h.last as number])));
  let best: { value: number; at: number } | undefined;
  let hours = 0;
  for (const h of hourStarts) {
    let sum = 0;
    let complete = true;
    for (const m of maps) {
      const now = m.get(h);
      const before = m.get(h - HOUR);
      if (now === undefined || before === undefined || now < before) {
        complete = false;
        break;
      }
      sum += now - before;
    }
    if (!complete) continue;
    hours++;
    if (!best || sum < best.value) best = { value: sum, at: h };
  }
  return best ? { ...best, hours, of: hourStarts.length } : undefined;
}

export interface LatestReading {
  devEui: string;
  device: string;
  value: number;
  /** Epoch ms of the reading. */
  t: number;
}

export interface RoomsSummary {
  rooms: number;
  mean: number;
  warmest: LatestReading;
  above: number;
  /** The oldest of the readings used, epoch ms (what "latest" means for this figure). */
  oldest: number;
}

/** The latest temperature of each room of a site: their mean, the warmest, how many are above the reference. */
export function roomsSummary(readings: readonly LatestReading[], reference = ROOM_REFERENCE_C): RoomsSummary | undefined {
  if (readings.length === 0) return undefined;
  let warmest = readings[0]!;
  let sum = 0;
  let above = 0;
  let oldest = Infinity;
  for (const r of readings) {
    sum += r.value;
    if (r.value > warmest.value) warmest = r;
    if (r.value > reference) above++;
    oldest = Math.min(oldest, r.t);
  }
  return { rooms: readings.length, mean: sum / readings.length, warmest, above, oldest };
}

export interface TilePeriods {
  timeZone: string;
  /** Local date of today, YYYY-MM-DD. */
  today: string;
  todayStart: number;
  yesterdayStart: number;
  /** Start of the 7 local days that end with today. */
  weekStart: number;
  /** The day before the week: its last index is where the week starts from. */
  queryFrom: number;
  /** Last complete night, 00:00–06:00 local, and the starts of its hours. */
  night: { date: string; start: number; end: number; hourStarts: number[] };
  now: number;
}

const minusDays = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) - n * DAY).toISOString().slice(0, 10);

/** The periods of the tiles, in the site's time zone, at `now`. */
export function tilePeriods(now: Date, timeZone: string): TilePeriods {
  const local = localTime(now, timeZone);
  const today = local.date;
  const start = (d: string) => localDayBounds(d, timeZone).start.getTime();
  // The night is the last one that is over: before 06:00, today's is still under way.
  const nightDate = local.hour >= 6 ? today : minusDays(today, 1);
  const w = localWindow(nightDate, '00:00', '06:00', timeZone);
  const hourStarts: number[] = [];
  for (let t = w.start.getTime(); t < w.end.getTime(); t += HOUR) hourStarts.push(t);
  return {
    timeZone,
    today,
    todayStart: start(today),
    yesterdayStart: start(minusDays(today, 1)),
    weekStart: start(minusDays(today, 6)),
    queryFrom: start(minusDays(today, 7)),
    night: { date: nightDate, start: w.start.getTime(), end: w.end.getTime(), hourStarts },
    now: now.getTime(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Reading InfluxDB: a few grouped queries for every site of the key's communes

interface SiteKey {
  tenant: string;
  site: string;
}

const siteKey = (tenant: string, site: string) => `${tenant}\u0000${site}`;

interface SiteData {
  tenant: string;
  site: string;
  timeZone: string;
  periods: TilePeriods;
  water: MeterDays[];
  power: MeterDays[];
  nightWater: (MeterHours & { devEui: string })[];
  rooms: LatestReading[];
  co2: LatestReading[];
  co2MaxToday: { value: number; t: number } | undefined;
  devicesHeard: number;
  /** Roles of the site's devices, from the registry and the readings. */
  roles: Set<string>;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function scopeConditions(tenants: string[] | undefined, site: SiteKey | undefined): Condition[] {
  return site ? [...tenantConditions([site.tenant]), { tag: 'site', equals: site.site }] : tenantConditions(tenants);
}

/** The InfluxQL statements of one time zone's sites (exported for the tests that check their confinement). */
const WATER_METER_ROLES = [...WATER_ROLES.primary, ...WATER_ROLES.fallback];
const POWER_METER_ROLES = [...POWER_ROLES.primary, ...POWER_ROLES.fallback, ROLES.itLoad];

/**
 * The InfluxQL statements of one time zone's sites (exported for the tests that check their confinement). Complete
 * days come from the daily rollup (a few points per meter); the readings are scanned for yesterday and today only,
 * or for the whole week (`rawFrom`) when the rollup has nothing (rollups turned off, or not caught up yet).
 */
export function tileQueries(p: TilePeriods, scope: readonly Condition[], rawFrom = p.yesterdayStart): Record<'water' | 'power' | 'waterDays' | 'powerDays' | 'night' | 'rooms' | 'co2' | 'co2Max' | 'heard', string> {
  const byMeter = ['tenant', 'site', 'dev_eui', 'role'];
  const byDevice = ['tenant', 'site', 'dev_eui', 'device'];
  const wholeMeter: Condition = { tag: 'channel', equals: '' };
  const between = (from: number, to: number, toIncluded: boolean): Condition[] => [
    { time: '>=', at: from },
    { time: toIncluded ? '<=' : '<', at: to },
  ];
  const localBuckets = (interval: '1h' | '1d'): Pick<Select, 'interval' | 'fill' | 'tz'> => ({ interval, fill: 'none', tz: p.timeZone });
  const daily = (m: { measurement: string; field: string }, roles: readonly string[]) =>
    select({
      select: [{ fn: 'first', field: m.field, as: 'first' }, { fn: 'last', field: m.field, as: 'last' }],
      from: m.measurement,
      where: [...between(rawFrom, p.now, true), { tag: 'role', in: roles }, wholeMeter, ...scope],
      groupBy: byMeter,
      ...localBuckets('1d'),
    });
  const rolled = (id: 'metering.water.total' | 'metering.electricity.activeEnergy', roles: readonly string[]) =>
    select({
      select: [{ field: rollupField(id, 'diff'), as: 'diff' }, { field: rollupField(id, 'last'), as: 'last' }],
      from: { measurement: rollupMeasurement(QUANTITIES[id].measurement, '1d'), rp: ROLLUP_RP['1d'] },
      where: [...between(p.queryFrom, p.todayStart, false), { tag: 'role', in: roles }, wholeMeter, ...scope],
      groupBy: byMeter,
    });
  const latest = between(p.now - LATEST_WINDOW_MS, p.now, true);
  const one = (fn: 'last' | 'max', m: { measurement: string; field: string }, as: string, where: Condition[], groupBy: string[]) =>
    select({ select: [{ fn, field: m.field, as }], from: m.measurement, where: [...where, ...scope], groupBy });
  return {
    water: daily(WATER, WATER_METER_ROLES),
    power: daily(ENERGY, POWER_METER_ROLES),
    waterDays: rolled('metering.water.total', WATER_METER_ROLES),
    powerDays: rolled('metering.electricity.activeEnergy', POWER_METER_ROLES),
    night: select({
      select: [{ fn: 'last', field: WATER.field, as: 'last' }],
      from: WATER.measurement,
      where: [...between(p.night.start - HOUR, p.night.end, false), { tag: 'role', in: WATER_METER_ROLES }, wholeMeter, ...scope],
      groupBy: byMeter,
      ...localBuckets('1h'),
    }),
    // One selector per query: the point keeps its own time (the age of the "latest" reading is shown).
    rooms: one('last', TEMPERATURE, 'value', [...latest, { tag: 'role', equals: ROLES.room }, wholeMeter], byDevice),
    co2: one('last', CO2, 'value', [...latest, wholeMeter], byDevice),
    co2Max: one('max', CO2, 'value', [...between(p.todayStart, p.now, true), wholeMeter], ['tenant', 'site']),
    heard: one('last', { measurement: 'uplink', field: 'f_cnt' }, 'f', between(p.now - DAY, p.now, true), ['tenant', 'site', 'dev_eui']),
  };
}

function meterDays(series: InfluxSeries[]): MeterDays[] {
  return seriesRows(series).map(({ tags, rows }) => ({
    tenant: tags.tenant ?? '',
    site: tags.site ?? '',
    devEui: tags.dev_eui ?? '',
    role: tags.role ?? '',
    days: rows.map((r) => ({ t: Number(r.time), first: num(r.first), last: num(r.last), ...('diff' in r ? { diff: num(r.diff) } : {}) })).sort((a, b) => a.t - b.t),
  }));
}

/** Each meter's days, the rollup's and the readings', merged (see mergeDays). */
function mergedMeters(rollup: InfluxSeries[], raw: InfluxSeries[]): MeterDays[] {
  const out = new Map<string, MeterDays>();
  const key = (m: MeterDays) => `${m.tenant}\u0000${m.devEui}\u0000${m.role}`;
  for (const m of meterDays(raw)) out.set(key(m), m);
  for (const m of meterDays(rollup)) {
    const r = out.get(key(m));
    out.set(key(m), r ? { ...r, days: mergeDays(m.days, r.days) } : m);
  }
  return [...out.values()];
}

function latestReadings(series: InfluxSeries[]): (LatestReading & SiteKey)[] {
  return seriesRows(series).flatMap(({ tags, rows }) => {
    const r = rows[0];
    const value = num(r?.value);
    return r && value !== null ? [{ tenant: tags.tenant ?? '', site: tags.site ?? '', devEui: tags.dev_eui ?? '', device: tags.device ?? '', value, t: Number(r.time) }] : [];
  });
}

/** Every site the key covers (or one), with what the tiles need; sorted by commune then site display name. */
async function readSites(deps: ConsoleDeps, ctx: PageContext, tenants: string[] | undefined, only?: SiteKey): Promise<SiteData[]> {
  const registry = deps.api.registry;
  const now = new Date();
  const covered = (tenant: string) => tenants === undefined || tenants.includes(tenant);
  // One set of queries per time zone of the configured sites (in practice one: Europe/Paris).
  const zoneOf = (tenant: string, site: string) => siteTimeZone(registry, tenant, site);
  const zones = only ? [zoneOf(only.tenant, only.site)] : [...new Set([zoneOf('\u0000', '\u0000'), ...registry.sites.map((s) => zoneOf(s.tenant ?? '\u0000', s.site))])];
  const scope = scopeConditions(tenants, only);
  const byZone = new Map<string, { periods: TilePeriods; results: Record<string, InfluxSeries[]> }>();
  await Promise.all(
    zones.map(async (tz) => {
      const periods = tilePeriods(now, tz);
      const qs = tileQueries(periods, scope);
      // A rollup's retention policy does not exist where rollups are off (no retention: section): nothing rolled up.
      const rollupQuery = (k: string) => k === 'waterDays' || k === 'powerDays';
      const read = (k: string, q: string) => deps.api.influx.query(q).catch((err: Error) => (rollupQuery(k) && /retention policy not found/i.test(err.message) ? [] : Promise.reject(err)));
      const results: Record<string, InfluxSeries[]> = Object.fromEntries(await Promise.all(Object.entries(qs).map(async ([k, q]) => [k, await read(k, q)] as const)));
      // No rollup at all (turned off, or a new instance): the week is read from the readings.
      if (!results.waterDays?.length && !results.powerDays?.length) {
        const week = tileQueries(periods, scope, periods.queryFrom);
        [results.water, results.power] = await Promise.all([deps.api.influx.query(week.water), deps.api.influx.query(week.power)]);
      }
      byZone.set(tz, { periods, results });
    }),
  );

  const sites = new Map<string, SiteData>();
  const siteOf = (tenant: string, site: string): SiteData | undefined => {
    if (!site || !covered(tenant) || (only && (only.tenant !== tenant || only.site !== site))) return undefined;
    const k = siteKey(tenant, site);
    let s = sites.get(k);
    if (!s) {
      const timeZone = zoneOf(tenant, site);
      const z = byZone.get(timeZone) ?? byZone.get(zones[0]!)!;
      s = { tenant, site, timeZone, periods: z.periods, water: [], power: [], nightWater: [], rooms: [], co2: [], co2MaxToday: undefined, devicesHeard: 0, roles: new Set() };
      sites.set(k, s);
    }
    return s;
  };
  // Sites the configuration places in a commune, and the sites of open alerts, even without readings.
  for (const d of registry.devices) if (d.tenant && d.site) siteOf(d.tenant, d.site)?.roles.add(d.role ?? '');
  for (const s of registry.sites) if (s.tenant) siteOf(s.tenant, s.site);
  for (const a of deps.api.alerts?.book.list() ?? []) siteOf(a.subject.tenant, a.subject.site);

  // Each site takes the results of its own time zone's queries.
  const mine = (s: SiteData, tz: string) => s.timeZone === tz || (!byZone.has(s.timeZone) && tz === zones[0]);
  for (const [tz, { results }] of byZone) {
    for (const m of mergedMeters(results.waterDays ?? [], results.water ?? [])) {
      const s = siteOf(m.tenant, m.site);
      if (s && mine(s, tz)) {
        s.water.push(m);
        s.roles.add(m.role);
      }
    }
    for (const m of mergedMeters(results.powerDays ?? [], results.power ?? [])) {
      const s = siteOf(m.tenant, m.site);
      if (s && mine(s, tz)) {
        s.power.push(m);
        s.roles.add(m.role);
      }
    }
    for (const { tags, rows } of seriesRows(results.night ?? [])) {
      const s = siteOf(tags.tenant ?? '', tags.site ?? '');
      if (s && mine(s, tz)) s.nightWater.push({ devEui: tags.dev_eui ?? '', role: tags.role ?? '', hours: rows.map((r) => ({ t: Number(r.time), last: num(r.last) })) });
    }
    for (const r of latestReadings(results.rooms ?? [])) {
      const s = siteOf(r.tenant, r.site);
      if (s && mine(s, tz)) {
        s.rooms.push(r);
        s.roles.add(ROLES.room);
      }
    }
    for (const r of latestReadings(results.co2 ?? [])) {
      const s = siteOf(r.tenant, r.site);
      if (s && mine(s, tz)) s.co2.push(r);
    }
    for (const r of latestReadings(results.co2Max ?? [])) {
      const s = siteOf(r.tenant, r.site);
      if (s && mine(s, tz)) s.co2MaxToday = { value: r.value, t: r.t };
    }
    for (const { tags } of seriesRows(results.heard ?? [])) {
      const s = siteOf(tags.tenant ?? '', tags.site ?? '');
      if (s && mine(s, tz)) s.devicesHeard++;
    }
  }
  return [...sites.values()].sort(
    (a, b) => ctx.names.tenant(a.tenant).localeCompare(ctx.names.tenant(b.tenant), ctx.lang) || ctx.names.site(a.tenant, a.site).localeCompare(ctx.names.site(b.tenant, b.site), ctx.lang),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

const timeFormats = new Map<string, Intl.DateTimeFormat>();
/** "03:00" in the site's time zone (format.ts formats dates; the tiles name hours of a day already stated). */
export function timeOfDay(ctx: Pick<PageContext, 'lang'>, t: number, timeZone: string): string {
  const key = `${ctx.lang}|${timeZone}`;
  let f = timeFormats.get(key);
  if (!f) timeFormats.set(key, (f = new Intl.DateTimeFormat(ctx.lang === 'fr' ? 'fr-FR' : 'en-GB', { hour: '2-digit', minute: '2-digit', timeZone })));
  return f.format(t);
}

interface Tile {
  label: string;
  value: string | undefined;
  notes: string[];
}

/** Volumes in litres up to 10 m³, then in m³ (how a water agent reads a meter). */
function volume(ctx: PageContext, litres: number): string {
  return litres < 10_000 ? ctx.fmt.quantity(litres, 'L', 0) : ctx.fmt.quantity(litres / 1000, 'm³', 1);
}

function kwh(ctx: PageContext, wh: number): string {
  const v = wh / 1000;
  return ctx.fmt.quantity(v, 'kWh', v < 10 ? 2 : v < 100 ? 1 : 0);
}

function coverageNotes(ctx: PageContext, f: SiteFigure | undefined, tz: string, meterWord: 'water' | 'power'): string[] {
  if (!f) return [];
  const out: string[] = [];
  if (f.metersWithData < f.meters) out.push(ctx.t.sites.metersWithData(f.metersWithData, f.meters, meterWord));
  if (f.partialSince !== undefined) out.push(ctx.t.sites.partialSince(ctx.fmt.date(f.partialSince, tz)));
  return out;
}

function consumptionTiles(ctx: PageContext, s: SiteData, meters: MeterDays[], kind: 'water' | 'power'): Tile[] {
  const p = s.periods;
  const t = ctx.t.sites;
  const show = (wh: number) => (kind === 'water' ? volume(ctx, wh) : kwh(ctx, wh));
  const end = p.todayStart + DAY;
  const today = siteConsumption(meters, p.todayStart, end);
  const yesterday = siteConsumption(meters, p.yesterdayStart, p.todayStart);
  const week = siteConsumption(meters, p.weekStart, end);
  const tz = s.timeZone;
  return [
    { label: t.tile[kind].today, value: today && show(today.value), notes: [t.periodToday, ...coverageNotes(ctx, today, tz, kind)] },
    { label: t.tile[kind].yesterday, value: yesterday && show(yesterday.value), notes: [t.periodYesterday(ctx.fmt.date(p.yesterdayStart, tz)), ...coverageNotes(ctx, yesterday, tz, kind)] },
    { label: t.tile[kind].week, value: week && show(week.value), notes: [t.periodWeek(ctx.fmt.date(p.weekStart, tz)), ...coverageNotes(ctx, week, tz, kind)] },
  ];
}

function siteTiles(ctx: PageContext, s: SiteData): Tile[] {
  const t = ctx.t.sites;
  const tz = s.timeZone;
  const p = s.periods;
  const tiles: Tile[] = [];
  const water = metersFor(s.water, WATER_ROLES);
  const hasWater = water.length > 0 || s.roles.has(ROLES.waterMain) || s.roles.has(ROLES.districtInflow);
  if (hasWater) {
    tiles.push(...consumptionTiles(ctx, s, water, 'water'));
    const nightMeters = metersFor(s.nightWater, WATER_ROLES);
    const night = nightMinimum(nightMeters, p.night.hourStarts);
    const nightPeriod = t.periodNight(ctx.fmt.date(p.night.start - DAY, tz), ctx.fmt.date(p.night.start, tz));
    const notes = [nightPeriod];
    if (night) {
      notes.push(t.nightHour(timeOfDay(ctx, night.at, tz), timeOfDay(ctx, night.at + HOUR, tz)));
      if (night.hours < night.of) notes.push(t.nightCoverage(night.hours, night.of));
      notes.push(nightMeters.every((m) => m.role === ROLES.districtInflow) ? t.nightDistrict : night.value > 0 ? t.nightFlowing : t.nightStill);
    }
    tiles.push({ label: t.tile.night, value: night && ctx.fmt.quantity(night.value, 'L/h', 0), notes });
  }
  const power = metersFor(s.power, POWER_ROLES);
  if (power.length > 0 || s.roles.has(ROLES.buildingMain) || s.roles.has(ROLES.facilityTotal)) tiles.push(...consumptionTiles(ctx, s, power, 'power'));

  if (s.roles.has(ROLES.room)) {
    const rooms = roomsSummary(s.rooms);
    tiles.push({
      label: t.tile.temperature,
      value: rooms && ctx.fmt.quantity(rooms.mean, '°C', 1),
      notes: rooms
        ? [
            t.roomsLatest(rooms.rooms, ctx.fmt.ago(rooms.oldest, p.now)),
            t.roomsAbove(rooms.above, rooms.rooms, ctx.fmt.quantity(ROOM_REFERENCE_C, '°C', 0)),
            t.roomsWarmest(rooms.warmest.device, ctx.fmt.quantity(rooms.warmest.value, '°C', 1)),
          ]
        : [t.roomsNone(ctx.fmt.quantity(ROOM_REFERENCE_C, '°C', 0))],
    });
  }
  if (s.co2.length > 0 || s.co2MaxToday) {
    const highest = s.co2.reduce<LatestReading | undefined>((best, r) => (!best || r.value > best.value ? r : best), undefined);
    const notes: string[] = [];
    if (highest) notes.push(s.co2.length > 1 ? t.co2LatestOf(s.co2.length, ctx.fmt.ago(highest.t, p.now)) : t.co2Latest(ctx.fmt.ago(highest.t, p.now)));
    notes.push(s.co2MaxToday ? t.co2MaxToday(ctx.fmt.quantity(s.co2MaxToday.value, 'ppm', 0), timeOfDay(ctx, s.co2MaxToday.t, tz)) : t.co2NoMaxToday);
    tiles.push({ label: t.tile.co2, value: highest && ctx.fmt.quantity(highest.value, 'ppm', 0), notes });
  }
  if (SERVER_ROOM_ROLES.some((r) => s.roles.has(r)) && (s.roles.has(ROLES.facilityTotal) || s.roles.has(ROLES.itLoad))) {
    const end = p.todayStart + DAY;
    const facility = siteConsumption(s.power.filter((m) => m.role === ROLES.facilityTotal), p.weekStart, end);
    const it = siteConsumption(s.power.filter((m) => m.role === ROLES.itLoad), p.weekStart, end);
    const pue = pueOf(facility, it);
    const partial = Math.max(facility?.partialSince ?? 0, it?.partialSince ?? 0);
    tiles.push({
      label: t.tile.pue,
      value: pue === undefined ? undefined : ctx.fmt.number(pue, 2),
      notes: [
        t.periodWeek(ctx.fmt.date(p.weekStart, tz)),
        ...(pue !== undefined ? [t.pueFormula(kwh(ctx, facility!.value), kwh(ctx, it!.value))] : [t.pueMissing]),
        ...(partial ? [t.partialSince(ctx.fmt.date(partial, tz))] : []),
      ],
    });
  }
  return tiles;
}

function tileList(ctx: PageContext, tiles: Tile[]): Html {
  if (!tiles.length) return html`<p class="empty">${ctx.t.sites.noMeters}</p>`;
  return html`<ul class="tiles">${tiles.map(
    (x) => html`<li class="tile${x.value === undefined ? ' no-data' : ''}"><p class="label">${x.label}</p><p class="value">${x.value ?? ctx.t.sites.noMeasure}</p>${x.notes.map((n) => html`<p class="note">${n}</p>`)}</li>`,
  )}</ul>`;
}

interface AlertCount {
  open: number;
  acknowledged: number;
}

function alertCounts(deps: ConsoleDeps, tenants: string[] | undefined): Map<string, AlertCount> {
  const out = new Map<string, AlertCount>();
  for (const a of deps.api.alerts?.book.list() ?? ([] as Alert[])) {
    if (tenants && !tenants.includes(a.subject.tenant)) continue;
    const k = siteKey(a.subject.tenant, a.subject.site);
    const c = out.get(k) ?? { open: 0, acknowledged: 0 };
    if (a.state === 'open') c.open++;
    else if (a.state === 'acknowledged') c.acknowledged++;
    out.set(k, c);
  }
  return out;
}

export function alertsLink(tenant: string, site: string): string {
  return `/?${new URLSearchParams({ commune: tenant, site }).toString()}`;
}

function alertsLine(ctx: PageContext, s: SiteKey, c: AlertCount | undefined): Html {
  const t = ctx.t.sites;
  const open = c?.open ?? 0;
  const ack = c?.acknowledged ?? 0;
  const text = t.openAlerts(open) + (ack ? t.acknowledgedAlerts(ack) : '');
  return html`<a href="${alertsLink(s.tenant, s.site)}" class="alert-count${open ? ' has-open' : ''}">${text}</a>`;
}

export function sitePath(tenant: string, site: string): string {
  return `/sites/${encodeURIComponent(tenant)}/${encodeURIComponent(site)}`;
}

function listPage(ctx: PageContext, sites: SiteData[], counts: Map<string, AlertCount>, communes: string[], chosen: string | undefined): Html {
  const t = ctx.t.sites;
  const byTenant = new Map<string, SiteData[]>();
  for (const s of sites) byTenant.set(s.tenant, [...(byTenant.get(s.tenant) ?? []), s]);
  const filter =
    communes.length > 1
      ? html`<form method="get" action="/sites" class="filters" aria-label="${t.filter}">
  <div class="field"><label for="f-commune">${ctx.t.commune}</label>
  <select id="f-commune" name="commune"><option value="">${ctx.t.allCommunes}</option>${communes.map((c) => html`<option value="${c}"${c === chosen ? html` selected` : ''}>${ctx.names.tenant(c)}</option>`)}</select></div>
  <div class="actions"><button type="submit">${ctx.t.apply}</button></div>
</form>`
      : '';
  return html`<p class="intro">${t.intro}</p>
${filter}
${
  sites.length === 0
    ? html`<p class="empty">${t.none}</p>`
    : [...byTenant].map(
        ([tenant, list]) => html`<div class="commune-sites">
<h2>${ctx.names.tenant(tenant)}</h2>
${list.map((s) => {
  const id = `site-${s.tenant}-${s.site}`;
  return html`<section class="site-card" aria-labelledby="${id}">
  <h3 id="${id}"><a href="${sitePath(s.tenant, s.site)}">${ctx.names.site(s.tenant, s.site)}</a></h3>
  <p class="site-meta">${alertsLine(ctx, s, counts.get(siteKey(s.tenant, s.site)))}<span>${t.devicesHeard(s.devicesHeard)}</span></p>
  ${tileList(ctx, siteTiles(ctx, s))}
</section>`;
})}
</div>`,
      )
}`;
}

// ---------------------------------------------------------------------------------------------------------
// One site: its tiles, its devices, its charts over 7 days

function seriesOf(ctx: PageContext, list: DeviceSeries[], value: (p: DeviceSeries['points'][number]) => number | null | undefined, names: Map<string, string>): ChartSeries[] {
  return list.slice(0, 8).map((s) => ({
    label: names.get(s.devEui) ?? s.device ?? s.devEui,
    points: s.points.map((p) => [Date.parse(p.time), value(p) ?? null] as [number, number | null]),
  }));
}

async function siteCharts(deps: ConsoleDeps, ctx: PageContext, s: SiteData, devices: DeviceView[]): Promise<Html> {
  const t = ctx.t.sites;
  const tz = s.timeZone;
  const to = new Date(Math.floor(Date.now() / HOUR) * HOUR);
  const from = new Date(to.getTime() - 7 * DAY);
  const base = { tenants: [s.tenant], site: s.site, timeZone: tz, from, to, aggregation: 'hourly' as const, limit: 5000 };
  const names = new Map(devices.map((d) => [d.devEui, d.name]));
  const waterRoles = metersFor(s.water, WATER_ROLES)[0]?.role;
  const powerRoles = metersFor(s.power, POWER_ROLES)[0]?.role;
  const [water, power, temp, co2] = await Promise.all([
    waterRoles ? readSeries(deps.api, { ...base, quantity: 'metering.water.total', roles: [waterRoles] }) : [],
    powerRoles ? readSeries(deps.api, { ...base, quantity: 'metering.electricity.activeEnergy', roles: [powerRoles] }) : [],
    s.roles.has(ROLES.room) ? readSeries(deps.api, { ...base, quantity: 'air.temperature', roles: [ROLES.room] }) : [],
    s.co2.length || s.co2MaxToday ? readSeries(deps.api, { ...base, quantity: 'air.co2' }) : [],
  ]);
  const period = ctx.t.periodRange(ctx.fmt.dateTime(from, tz), ctx.fmt.dateTime(to, tz));
  const one = (id: string, title: string, unit: string, series: ChartSeries[], digits: number, reference?: { value: number; label: string }) => {
    const r = seriesRange(series);
    if (!r) return html`<h3>${title}</h3><p class="empty">${t.chartEmpty(period)}</p>`;
    return chart(ctx, {
      id,
      title,
      unit,
      series,
      timeZone: tz,
      digits,
      thresholds: reference ? [{ value: reference.value, legend: ctx.t.threshold }] : undefined,
      thresholdsText: reference?.label,
      summary: t.chartSummary(title, period, r.n, ctx.fmt.quantity(r.min, unit, digits), ctx.fmt.quantity(r.max, unit, digits)),
    });
  };
  const parts: Html[] = [];
  if (water.length) parts.push(one('eau', t.chartWater, 'L/h', seriesOf(ctx, water, (p) => p.consumption, names), 0));
  if (power.length) parts.push(one('electricite', t.chartPower, 'kWh/h', seriesOf(ctx, power, (p) => (p.consumption == null ? null : p.consumption / 1000), names), 2));
  if (temp.length) {
    const ref = ctx.fmt.quantity(ROOM_REFERENCE_C, '°C', 0);
    parts.push(one('temperature', t.chartTemperature, '°C', seriesOf(ctx, temp, (p) => p.mean, names), 1, { value: ROOM_REFERENCE_C, label: t.reference(ref) }));
  }
  if (co2.length) parts.push(one('co2', t.chartCo2, 'ppm', seriesOf(ctx, co2, (p) => p.max, names), 0));
  if (!parts.length) return html`<p class="empty">${t.chartsNone}</p>`;
  return html`${parts}`;
}

function devicesTable(ctx: PageContext, devices: DeviceView[], tz: string): Html {
  const t = ctx.t.sites;
  if (!devices.length) return html`<p class="empty">${t.devicesNone}</p>`;
  return html`<table>
<caption>${t.devicesCaption(devices.length)}</caption>
<thead><tr><th scope="col">${t.deviceName}</th><th scope="col">${t.deviceRole}</th><th scope="col">${t.deviceWhere}</th><th scope="col">${t.deviceLastSeen}</th><th scope="col">${t.deviceStatus}</th><th scope="col" class="num">${t.deviceAlerts}</th></tr></thead>
<tbody>${devices.map(
    (d) => html`<tr><th scope="row"><a href="/appareils/${d.devEui}">${d.name}</a></th><td>${roleLabel(d.role, ctx.lang)}</td><td>${[d.building, d.zone].filter(Boolean).join(' · ') || '–'}</td><td>${d.lastSeen ? html`<time datetime="${d.lastSeen}">${ctx.fmt.dateTime(d.lastSeen, tz)}</time>` : ctx.t.never}</td><td>${t.status[d.status] ?? d.status}</td><td class="num">${d.openAlerts}</td></tr>`,
  )}</tbody>
</table>`;
}

const listQuery = z.object({ commune: tenantId.optional().catch(undefined) });

export function sitePages(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/sites', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const q = listQuery.parse(req.query ?? {});
    // Another commune's id in the link: the page of the communes the key covers, not an error (a shared link).
    const chosen = q.commune && mayRead(ctx.principal, q.commune) ? q.commune : undefined;
    const tenants = requestedTenants(ctx.principal, chosen);
    const sites = await readSites(deps, ctx, tenants);
    const all = ctx.tenants ?? [...new Set([...sites.map((s) => s.tenant), ...deps.api.registry.tenants.map((x) => x.id)])].sort();
    const communes = chosen ? all : [...new Set([...all, ...sites.map((s) => s.tenant)])];
    return sendPage(reply, 200, layout(ctx, { title: ctx.t.sites.title, section: 'sites', content: listPage(ctx, sites, alertCounts(deps, tenants), communes, chosen) }));
  });

  app.get('/sites/:commune/:site', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const params = req.params as { commune: string; site: string };
    const tenant = tenantId.safeParse(params.commune);
    const site = siteId.safeParse(params.site);
    // Another commune's site is answered as if it did not exist.
    if (!tenant.success || !site.success || !mayRead(ctx.principal, tenant.data)) throw new ApiError(404, 'not_found', 'site');
    const key = { tenant: tenant.data, site: site.data };
    const [[s], devices] = await Promise.all([readSites(deps, ctx, [key.tenant], key), listDevices(deps.api, [key.tenant], { site: key.site, lookbackDays: 30 })]);
    const own = devices.filter((d) => d.site === key.site);
    if (!s && !own.length) throw new ApiError(404, 'not_found', 'site');
    const data: SiteData = s ?? { ...key, timeZone: siteTimeZone(deps.api.registry, key.tenant, key.site), periods: tilePeriods(new Date(), siteTimeZone(deps.api.registry, key.tenant, key.site)), water: [], power: [], nightWater: [], rooms: [], co2: [], co2MaxToday: undefined, devicesHeard: 0, roles: new Set() };
    for (const d of own) if (d.role) data.roles.add(d.role);
    const t = ctx.t.sites;
    const counts = alertCounts(deps, [key.tenant]);
    const name = ctx.names.site(key.tenant, key.site);
    const content = html`<p><a href="/sites${ctx.tenants && ctx.tenants.length === 1 ? '' : `?commune=${encodeURIComponent(key.tenant)}`}">${t.back}</a></p>
<p class="site-meta"><span>${ctx.t.commune}${ctx.t.colon}${ctx.names.tenant(key.tenant)}</span>${alertsLine(ctx, key, counts.get(siteKey(key.tenant, key.site)))}</p>
<section aria-labelledby="aujourdhui"><h2 id="aujourdhui">${t.dailyTitle}</h2>${tileList(ctx, siteTiles(ctx, data))}</section>
<section aria-labelledby="appareils"><h2 id="appareils">${t.devicesTitle}</h2>${devicesTable(ctx, own, data.timeZone)}</section>
<section aria-labelledby="courbes"><h2 id="courbes">${t.chartsTitle}</h2>${await siteCharts(deps, ctx, data, own)}</section>`;
    return sendPage(reply, 200, layout(ctx, { title: name, section: 'sites', content }));
  });
}
