/**
 * Sites and devices as the API shows them: the registry (configuration) merged with what InfluxDB has seen.
 * Observed devices come from the `uplink` measurement with plain SELECT … GROUP BY (portable to InfluxDB 3,
 * which has no SHOW TAG VALUES cardinality queries).
 */
import type { FileConfig } from '../config/schema.ts';
import { seriesRows } from '../storage/influx.ts';
import { select, tagFilters, type Condition } from '../storage/influxql.ts';
import { UPLINK } from '../storage/schema.ts';
import { siteCalendars } from '../time/sites.ts';
import type { ApiDeps } from './deps.ts';
import { tenantConditions } from './scope.ts';

export interface DeviceView {
  devEui: string;
  tenant: string;
  site: string;
  name: string;
  building?: string | undefined;
  zone?: string | undefined;
  role?: string | undefined;
  decoder?: string | undefined;
  registered: boolean;
  lastSeen: string | null;
  rssiDbm: number | null;
  snrDb: number | null;
  spreadingFactor: number | null;
  status: 'ok' | 'silent' | 'never-seen';
  openAlerts: number;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Devices seen within `lookbackDays` (or registered), confined to `tenants`; only `devEui`, or one `site`'s, when given. */
export async function listDevices(deps: ApiDeps, tenants: string[] | undefined, opts: { devEui?: string; site?: string; lookbackDays?: number } = {}): Promise<DeviceView[]> {
  const since = Date.now() - (opts.lookbackDays ?? 90) * 86_400_000;
  const where: Condition[] = [{ time: '>=', at: since }, ...tenantConditions(tenants), ...tagFilters({ dev_eui: opts.devEui, site: opts.site })];
  const groupBy = ['tenant', 'site', 'dev_eui', 'device'];
  // One selector per query keeps the point's own timestamp (several selectors return time 0).
  const [seen, radio] = await Promise.all([
    deps.influx.query(select({ select: [{ fn: 'last', field: 'f_cnt', as: 'f_cnt' }], from: UPLINK.measurement, where, groupBy })),
    deps.influx.query(
      select({ select: [{ fn: 'last', field: 'rssi_dbm', as: 'rssi' }, { fn: 'last', field: 'snr_db', as: 'snr' }, { fn: 'last', field: 'sf', as: 'sf' }], from: UPLINK.measurement, where, groupBy }),
    ),
  ]);
  const radioBy = new Map(seriesRows(radio).map((s) => [`${s.tags.tenant}|${s.tags.dev_eui}`, s.rows[0] ?? {}]));
  const registered = registryByEui(deps.registry);
  const openByDevice = new Map<string, number>();
  const silentByDevice = new Set<string>();
  for (const a of deps.alerts?.book.list() ?? []) {
    if (!a.subject.devEui) continue;
    const k = `${a.subject.tenant}|${a.subject.devEui}`;
    openByDevice.set(k, (openByDevice.get(k) ?? 0) + 1);
    // S1: any device silent for 3 × its interval; W7S: a leak sensor past 2 × its heartbeat.
    if (a.ruleId === 'S1' || a.ruleId === 'W7S') silentByDevice.add(k);
  }

  const out = new Map<string, DeviceView>();
  for (const { tags, rows } of seriesRows(seen)) {
    const devEui = tags.dev_eui ?? '';
    const tenant = tags.tenant ?? '';
    const key = `${tenant}|${devEui}`;
    const entry = registered.get(devEui);
    const r = radioBy.get(key) ?? {};
    out.set(key, {
      devEui,
      tenant,
      site: tags.site ?? entry?.site ?? '',
      name: entry?.name ?? tags.device ?? devEui,
      building: entry?.building,
      zone: entry?.zone,
      role: entry?.role,
      decoder: entry?.decoder,
      registered: entry !== undefined,
      lastSeen: rows[0]?.time !== undefined ? new Date(Number(rows[0].time)).toISOString() : null,
      rssiDbm: num(r.rssi),
      snrDb: num(r.snr),
      spreadingFactor: num(r.sf),
      status: silentByDevice.has(key) ? 'silent' : 'ok',
      openAlerts: openByDevice.get(key) ?? 0,
    });
  }
  // Registered devices never heard from (a sensor installed but not joined is worth knowing about).
  const heard = new Set([...out.values()].map((d) => d.devEui));
  for (const [devEui, entry] of registered) {
    const tenant = entry.tenant ?? deps.defaultTenant;
    if (tenants !== undefined && !tenants.includes(tenant)) continue;
    if (heard.has(devEui) || (opts.devEui !== undefined && devEui !== opts.devEui) || (opts.site !== undefined && entry.site !== opts.site)) continue;
    out.set(`${tenant}|${devEui}`, {
      devEui,
      tenant,
      site: entry.site ?? '',
      name: entry.name ?? devEui,
      building: entry.building,
      zone: entry.zone,
      role: entry.role,
      decoder: entry.decoder,
      registered: true,
      lastSeen: null,
      rssiDbm: null,
      snrDb: null,
      spreadingFactor: null,
      status: 'never-seen',
      openAlerts: 0,
    });
  }
  return [...out.values()].sort((a, b) => a.tenant.localeCompare(b.tenant) || a.site.localeCompare(b.site) || a.name.localeCompare(b.name));
}

function registryByEui(registry: Pick<FileConfig, 'devices'>): Map<string, FileConfig['devices'][number]> {
  return new Map(registry.devices.map((d) => [d.devEui, d]));
}

/** The time zone of a site: its calendar's, as the alert rules see it (Europe/Paris by default); the lookup is built once per registry. */
export function siteTimeZone(registry: Pick<FileConfig, 'sites'>, tenant: string, site: string): string {
  return siteCalendars(registry.sites).timeZone(tenant, site);
}
