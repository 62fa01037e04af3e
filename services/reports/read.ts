/**
 * What the governance reports read from InfluxDB, kept apart from the computations (parsimony.ts, yearly.ts).
 * Plain InfluxQL over /query (SELECT … WHERE time and tags … GROUP BY time(1h|1d), tags), which InfluxDB 1.x,
 * 2.x (v1 compatibility) and 3.x accept. Every statement is confined to one tenant; tag values are escaped.
 *
 * Volumes: a year of 15-minute indexes is read as hourly last values (8,760 per meter instead of 35,040). A value
 * is placed at the end of its hour (start + 1 h − 1 ms), so "the last reading before a boundary" stays true at
 * every whole-hour boundary (local midnights and months in Europe/Paris).
 */
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { ROLES } from '../../decoders/model/roles.ts';
import type { FileConfig } from '../config/schema.ts';

/** What the reports read of the configuration file: communes and sites (names, time zones), device roles, the reports section. */
export type ReportRegistry = Pick<FileConfig, 'tenants' | 'devices' | 'sites' | 'reports'>;
import { loadAlerts } from '../alerts/store.ts';
import { BASELINE_LOOKBACK_MS, DATACENTER_ROLES, readMeterSeries, type MeterSeries } from '../datacenter/kpi.ts';
import { seriesRows, type InfluxTarget } from '../storage/influx.ts';
import { during, select, type Condition, type Projection } from '../storage/influxql.ts';
import { ALERT_EVENT, DEVICE_EVENT, DEVICE_STATUS, LNS_OBJECT, READING_MEASUREMENTS, UPLINK, UPLINK_DEFAULTS, UPLINK_UNDECODED } from '../storage/schema.ts';
import { DAY_MS, HOUR_MS, registryRoles, reportNames, tenantTimeZone } from './common.ts';
import { reportsConfigOf, type ReportsConfig } from './config.ts';
import { buildParsimonyReport, type DeviceUplinks, type ParsimonyReport, type UplinkBucket } from './parsimony.ts';
import { buildYearlyReport, yearBounds, type IndexMeter, type MeasurementCount, type OutdoorHour, type YearlyReport } from './yearly.ts';

type Influx = Pick<InfluxTarget, 'query'>;

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** Every statement of the reports is confined to one tenant. */
const ofTenant = (tenant: string): Condition => ({ tag: 'tenant', equals: tenant });

// ---------------------------------------------------------------------------------------------------------
// Uplinks

/**
 * Mean bandwidth of a day's uplinks: points since issue 15 leave out 125 kHz (UPLINK_DEFAULTS), older points carry
 * it; both read the same.
 */
export function meanBandwidth(uplinks: number, meanStored: number | null, withStored: number): number | null {
  const absent = Math.max(0, uplinks - withStored);
  if (absent === 0) return meanStored;
  return ((meanStored ?? 0) * withStored + UPLINK_DEFAULTS.bandwidth_hz * absent) / (withStored + absent);
}

/** Per device and UTC day: uplinks, stored airtime, payload size, spreading factor, bandwidth; and its first and last uplink. */
export async function readUplinkDays(influx: Influx, tenant: string, from: Date, to: Date): Promise<DeviceUplinks[]> {
  const base = { from: UPLINK.measurement, where: [ofTenant(tenant), ...during(from, to)], groupBy: ['site', 'dev_eui', 'device'] };
  const perDay: Projection[] = [
    { fn: 'count', field: 'f_cnt', as: 'uplinks' },
    { fn: 'sum', field: 'airtime_ms', as: 'airtime_ms' },
    { fn: 'count', field: 'airtime_ms', as: 'with_airtime' },
    { fn: 'mean', field: 'size_bytes', as: 'size' },
    { fn: 'max', field: 'sf', as: 'sf' },
    { fn: 'mean', field: 'bandwidth_hz', as: 'bw' },
    { fn: 'count', field: 'bandwidth_hz', as: 'with_bw' },
  ];
  // One selector per query keeps the point's own timestamp.
  const [days, firsts, lasts] = await Promise.all([
    influx.query(select({ ...base, select: perDay, interval: '1d', fill: 'none' })),
    influx.query(select({ ...base, select: [{ fn: 'first', field: 'f_cnt' }] })),
    influx.query(select({ ...base, select: [{ fn: 'last', field: 'f_cnt' }] })),
  ]);
  const key = (tags: Record<string, string>) => `${tags.site ?? ''}\u0000${tags.dev_eui ?? ''}\u0000${tags.device ?? ''}`;
  const timeOf = (list: typeof firsts) => new Map(seriesRows(list).map(({ tags, rows }) => [key(tags), Number(rows[0]?.time)]));
  const first = timeOf(firsts);
  const last = timeOf(lasts);
  return seriesRows(days).map(({ tags, rows }) => ({
    tenant,
    site: tags.site ?? '',
    devEui: tags.dev_eui ?? '',
    device: tags.device ?? '',
    firstT: first.get(key(tags)),
    lastT: last.get(key(tags)),
    buckets: rows.map(
      (r): UplinkBucket => ({
        t: Number(r.time),
        uplinks: numOrNull(r.uplinks) ?? 0,
        airtimeMs: numOrNull(r.airtime_ms) ?? 0,
        withAirtime: numOrNull(r.with_airtime) ?? 0,
        meanSizeBytes: numOrNull(r.size),
        maxSf: numOrNull(r.sf),
        meanBandwidthHz: meanBandwidth(numOrNull(r.uplinks) ?? 0, numOrNull(r.bw), numOrNull(r.with_bw) ?? 0),
      }),
    ),
  }));
}

/** Fields whose points carry a device's role tag (the `uplink` measurement has none). */
const ROLE_PROBES = [
  QUANTITIES['air.temperature'],
  QUANTITIES['metering.water.total'],
  QUANTITIES['water.leak'],
  QUANTITIES['metering.electricity.activeEnergy'],
  QUANTITIES['metering.heat.total'],
];

/**
 * DevEUI → role: the registry's, and for the devices it does not know (roles from network-server device tags),
 * the `role` tag of their readings over the period.
 */
export async function readRoles(influx: Influx, registry: ReportRegistry | undefined, tenant: string, devEuis: readonly string[], from: Date, to: Date): Promise<Map<string, string>> {
  const roles = registryRoles(registry);
  if (devEuis.every((d) => roles.has(d))) return roles;
  const results = await Promise.all(
    ROLE_PROBES.map((q) =>
      influx.query(
        select({ select: [{ fn: 'count', field: q.field }], from: q.measurement, where: [ofTenant(tenant), ...during(from, to), { tag: 'role', notEquals: '' }], groupBy: ['dev_eui', 'role'] }),
      ),
    ),
  );
  for (const series of results) for (const s of series) if (s.tags?.dev_eui && s.tags.role && !roles.has(s.tags.dev_eui)) roles.set(s.tags.dev_eui, s.tags.role);
  return roles;
}

export interface ParsimonyOptions {
  influx: Influx;
  registry?: ReportRegistry | undefined;
  tenant: string;
  from: Date;
  to: Date;
  rateBasis?: 'period' | 'active-span';
}

export async function parsimonyReport(opts: ParsimonyOptions): Promise<ParsimonyReport> {
  if (!(opts.to.getTime() > opts.from.getTime())) throw new RangeError('the period must end after it starts');
  const devices = await readUplinkDays(opts.influx, opts.tenant, opts.from, opts.to);
  const roles = await readRoles(opts.influx, opts.registry, opts.tenant, [...new Set(devices.map((d) => d.devEui))], opts.from, opts.to);
  const names = reportNames(opts.registry, opts.tenant, devices.map((d) => d.site));
  return buildParsimonyReport({ tenant: opts.tenant, from: opts.from, to: opts.to, devices, roles, rateBasis: opts.rateBasis, names });
}

// ---------------------------------------------------------------------------------------------------------
// Index meters, outdoor temperature

/**
 * Channel-less index readings of the tenant's meters with these roles: the last one before `from` (within a year)
 * the first one of [from, to), and the last of each hour of [from, to), placed at the end of its hour.
 */
export async function readHourlyIndexes(
  influx: Influx,
  tenant: string,
  quantity: (typeof QUANTITIES)[keyof typeof QUANTITIES],
  roles: readonly string[],
  from: Date,
  to: Date,
): Promise<IndexMeter[]> {
  const field = quantity.field;
  const where: Condition[] = [ofTenant(tenant), { tag: 'role', in: roles }, { tag: 'channel', equals: '' }];
  const base = { from: quantity.measurement, groupBy: ['site', 'building', 'zone', 'dev_eui', 'device', 'role'] };
  const f = from.getTime();
  const inPeriod = [...where, ...during(f, to)];
  const [before, first, hourly] = await Promise.all([
    influx.query(select({ ...base, select: [{ fn: 'last', field, as: 'v' }], where: [...where, ...during(f - BASELINE_LOOKBACK_MS, f)] })),
    // The first reading of the period at its own time: a meter installed during the period loses nothing of its first hour.
    influx.query(select({ ...base, select: [{ fn: 'first', field, as: 'v' }], where: inPeriod })),
    influx.query(select({ ...base, select: [{ fn: 'last', field, as: 'v' }], where: inPeriod, interval: '1h', fill: 'none' })),
  ]);
  const meters = new Map<string, IndexMeter>();
  const add = (seriesList: typeof before, hourly: boolean) => {
    for (const { tags: tg, rows } of seriesRows(seriesList)) {
      const key = `${tg.dev_eui ?? ''}\u0000${tg.site ?? ''}\u0000${tg.building ?? ''}\u0000${tg.role ?? ''}`;
      let m = meters.get(key);
      if (!m) {
        m = { site: tg.site ?? '', building: tg.building ?? '', zone: tg.zone ?? '', devEui: tg.dev_eui ?? '', device: tg.device ?? '', role: tg.role ?? '', medium: quantity.measurement, points: [] };
        meters.set(key, m);
      }
      for (const r of rows) {
        const v = numOrNull(r.v);
        const t = Number(r.time);
        if (v === null || !Number.isFinite(t)) continue;
        m.points.push({ t: hourly ? Math.min(t + HOUR_MS - 1, to.getTime() - 1) : t, wh: v });
      }
    }
  };
  add(before, false);
  add(first, false);
  add(hourly, true);
  for (const m of meters.values()) m.points.sort((a, b) => a.t - b.t);
  return [...meters.values()];
}

export async function readOutdoorHours(influx: Influx, tenant: string, from: Date, to: Date): Promise<OutdoorHour[]> {
  const q = QUANTITIES['air.temperature'];
  const series = await influx.query(
    select({
      select: [{ fn: 'min', field: q.field, as: 'tmin' }, { fn: 'max', field: q.field, as: 'tmax' }],
      from: q.measurement,
      where: [ofTenant(tenant), { tag: 'role', equals: ROLES.outdoor }, ...during(from, to)],
      interval: '1h',
      groupBy: ['site', 'building', 'dev_eui'],
      fill: 'none',
    }),
  );
  return seriesRows(series).flatMap(({ tags, rows }) =>
    rows
      .map((r) => ({ site: tags.site ?? '', building: tags.building ?? '', devEui: tags.dev_eui ?? '', t: Number(r.time), tmin: numOrNull(r.tmin) ?? Number.NaN, tmax: numOrNull(r.tmax) ?? Number.NaN }))
      .filter((h) => Number.isFinite(h.tmin) && Number.isFinite(h.tmax)),
  );
}

/** Sites of the tenant with server-room meters (facility-total or it-load) in the period. */
export async function readDatacenterSites(influx: Influx, tenant: string, from: Date, to: Date): Promise<string[]> {
  const e = QUANTITIES['metering.electricity.activeEnergy'];
  const series = await influx.query(
    select({
      select: [{ fn: 'count', field: e.field }],
      from: e.measurement,
      where: [ofTenant(tenant), { tag: 'role', in: [DATACENTER_ROLES.facilityTotal, DATACENTER_ROLES.itLoad] }, ...during(from, to)],
      groupBy: ['site'],
    }),
  );
  return [...new Set(series.map((s) => s.tags?.site ?? '').filter(Boolean))].sort();
}

// ---------------------------------------------------------------------------------------------------------
// Data stored

/** Measurements counted for a tenant (uplink_rejected has no tenant tag: it cannot be attributed). */
export const COUNTED_MEASUREMENTS = [
  UPLINK.measurement,
  ...READING_MEASUREMENTS,
  UPLINK_UNDECODED.measurement,
  LNS_OBJECT.measurement,
  DEVICE_STATUS.measurement,
  DEVICE_EVENT.measurement,
  ALERT_EVENT.measurement,
] as const;

export async function readPointCounts(influx: Influx, tenant: string, from: Date, to: Date, meanPayloadBytes?: number): Promise<MeasurementCount[]> {
  return Promise.all(
    COUNTED_MEASUREMENTS.map(async (measurement) => {
      const series = await influx.query(select({ select: [{ fn: 'count', field: '*' }], from: measurement, where: [ofTenant(tenant), ...during(from, to)] }));
      const fields: Record<string, number> = {};
      for (const { rows } of seriesRows(series)) {
        for (const row of rows) {
          for (const [col, v] of Object.entries(row)) {
            if (col.startsWith('count_') && typeof v === 'number') fields[col.slice('count_'.length)] = (fields[col.slice('count_'.length)] ?? 0) + v;
          }
        }
      }
      return { measurement, fields, ...(measurement === UPLINK.measurement && meanPayloadBytes !== undefined ? { meanPayloadBytes } : {}) };
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// The yearly report

export interface YearlyOptions {
  influx: Influx;
  registry?: ReportRegistry | undefined;
  tenant: string;
  year: number;
  /** Default: the tenant's first site calendar, else Europe/Paris. */
  timeZone?: string | undefined;
  /** Default: `reports:` of the registry (config.ts). */
  config?: ReportsConfig | undefined;
  now?: Date | undefined;
}

export async function yearlyReport(opts: YearlyOptions): Promise<YearlyReport> {
  const timeZone = opts.timeZone ?? tenantTimeZone(opts.registry, opts.tenant);
  const { from, to } = yearBounds(opts.year, timeZone);
  const config = opts.config ?? reportsConfigOf(opts.registry);
  const { influx, tenant } = opts;

  const water = QUANTITIES['metering.water.total'];
  const electricity = QUANTITIES['metering.electricity.activeEnergy'];
  const heat = QUANTITIES['metering.heat.total'];
  const [waterMeters, elecMeters, heatMeters, outdoor, alerts, dcSites, parsimony] = await Promise.all([
    readHourlyIndexes(influx, tenant, water, [ROLES.waterMain, ROLES.districtInflow], from, to),
    readHourlyIndexes(influx, tenant, electricity, [ROLES.buildingMain], from, to),
    readHourlyIndexes(influx, tenant, heat, [ROLES.buildingMain], from, to),
    readOutdoorHours(influx, tenant, from, to),
    // Alerts that started before the year and were still open in it have events before it.
    loadAlerts(influx, { from: new Date(from.getTime() - 90 * DAY_MS), to, scope: [ofTenant(tenant)] }),
    readDatacenterSites(influx, tenant, from, to),
    parsimonyReport({ influx, registry: opts.registry, tenant, from, to, rateBasis: 'active-span' }),
  ]);
  const datacenterMeters = new Map<string, MeterSeries[]>();
  for (const site of dcSites) datacenterMeters.set(site, await readMeterSeries(influx, { tenant, site }, Object.values(DATACENTER_ROLES), from, to));
  const sizeN = parsimony.devices.reduce((s, d) => s + (d.meanSizeBytes !== null ? d.uplinks : 0), 0);
  const sizeSum = parsimony.devices.reduce((s, d) => s + (d.meanSizeBytes ?? 0) * d.uplinks, 0);
  const storage = await readPointCounts(influx, tenant, from, to, sizeN > 0 ? sizeSum / sizeN : undefined);

  const sites = [
    ...[...waterMeters, ...elecMeters, ...heatMeters].map((m) => m.site),
    ...alerts.map((a) => a.subject.site),
    ...dcSites,
    ...parsimony.devices.map((d) => d.site),
  ];
  return buildYearlyReport({
    tenant,
    names: reportNames(opts.registry, tenant, sites),
    year: opts.year,
    timeZone,
    now: opts.now ?? new Date(),
    waterMeters,
    energyMeters: [...elecMeters, ...heatMeters],
    outdoor,
    alerts,
    datacenterMeters,
    parsimony,
    storage,
    config,
  });
}
