/**
 * Parc: the state of one commune's devices. Silent devices (the inventory's status, from open S1/W7S alerts, and
 * registered devices never heard), low batteries (the latest level or voltage of each device, one grouped query
 * per field), airtime and over-reporting (the parsimony report over the last 7 days by default) and the messages
 * kept raw because they could not be decoded, counted by reason. Every list is paginated on its own, and every
 * InfluxDB query is confined to the commune with tenantConditions.
 */
import { ReportCache } from '../cache.ts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { QUANTITIES } from '../../../decoders/model/quantities.ts';
import { RULE_DEFAULTS } from '../../alerts/settings.ts';
import { listDevices, type DeviceView } from '../../api/inventory.ts';
import { tenantId } from '../../api/params.ts';
import { ApiError, requestedTenants, tenantConditions } from '../../api/scope.ts';
import { roleLabel } from '../../registry/names.ts';
import { tenantTimeZone } from '../../reports/common.ts';
import { parsimonyReport } from '../../reports/read.ts';
import type { ParsimonyDevice, ParsimonyFlag } from '../../reports/parsimony.ts';
import { allRows, seriesRows } from '../../storage/influx.ts';
import { during, fields, select, type Condition } from '../../storage/influxql.ts';
import { DEVICE_STATUS, UPLINK_REJECTED, UPLINK_UNDECODED } from '../../storage/schema.ts';
import { pageOf, type PageContext } from '../context.ts';
import { html, type Html } from '../html.ts';
import { layout } from '../layout.ts';
import { sendPage, type ConsoleDeps } from '../page.ts';

const PAGE_SIZE = 20;
const LATEST_REJECTED = 10;
const INVENTORY_DAYS = 90;
const BATTERY_DAYS = 30;
export const FLEET_PERIODS = ['7', '30', '90'] as const;
/** "To watch" thresholds, above the S2 alert's: a battery is worth ordering before it fails. */
export const BATTERY_WATCH = { pct: 25, v: 3.1 } as const;

const pageNumber = z.coerce.number().int().min(1).max(10_000).catch(1).default(1);
const fleetQuery = z.object({
  commune: tenantId.optional().catch(undefined),
  jours: z.enum(FLEET_PERIODS).catch('7').default('7'),
  ps: pageNumber,
  pb: pageNumber,
  pe: pageNumber,
});
type FleetQuery = z.infer<typeof fleetQuery>;

// ---------------------------------------------------------------------------------------------------------
// Pure parts (unit-tested)

/** The communes a principal may pick: its own, or every commune the instance knows for an instance-wide key. */
export function communesOf(tenants: string[] | undefined, registry: { tenants: { id: string }[]; devices: { tenant?: string | undefined }[] }, defaultTenant: string): string[] {
  if (tenants) return [...tenants].sort();
  const all = new Set<string>([...registry.tenants.map((t) => t.id), ...registry.devices.flatMap((d) => (d.tenant ? [d.tenant] : []))]);
  if (all.size === 0) all.add(defaultTenant);
  return [...all].sort();
}

/** The commune a page is about: the one asked for (another commune's is "not found"), else the first one. */
export function pickCommune(ctx: Pick<PageContext, 'principal'>, communes: string[], asked: string | undefined): string {
  if (asked !== undefined) {
    try {
      requestedTenants(ctx.principal, asked);
    } catch {
      throw new ApiError(404, 'not_found', 'commune');
    }
    return asked;
  }
  const first = communes[0];
  if (first === undefined) throw new ApiError(404, 'not_found', 'commune');
  return first;
}

export type BatteryState = 'low' | 'watch' | 'ok';

/** Low as the S2 alert judges it (level first, voltage only when no level is known), else "to watch" or fine. */
export function batteryState(pct: number | null, v: number | null, low: { minPct: number; minV: number } = RULE_DEFAULTS.S2): BatteryState {
  if (pct !== null) return pct < low.minPct ? 'low' : pct < BATTERY_WATCH.pct ? 'watch' : 'ok';
  if (v !== null) return v < low.minV ? 'low' : v < BATTERY_WATCH.v ? 'watch' : 'ok';
  return 'ok';
}

export interface BatteryRow {
  devEui: string;
  device: string;
  site: string;
  pct: number | null;
  v: number | null;
  at: number;
  state: BatteryState;
}

type SeriesList = Parameters<typeof seriesRows>[0];

/**
 * Latest battery of each device from three grouped queries: the decoded level (%), the decoded voltage, and the
 * network server's DevStatusAns level (used when the device's own payload gives none).
 */
export function batteryRows(levels: SeriesList, volts: SeriesList, status: SeriesList): BatteryRow[] {
  const out = new Map<string, BatteryRow>();
  const row = (tags: Record<string, string>) => {
    const devEui = tags.dev_eui ?? '';
    let r = out.get(devEui);
    if (!r) {
      r = { devEui, device: tags.device ?? devEui, site: tags.site ?? '', pct: null, v: null, at: 0, state: 'ok' };
      out.set(devEui, r);
    }
    return r;
  };
  const each = (list: SeriesList, set: (r: BatteryRow, v: number, t: number) => void) => {
    for (const { tags, rows } of seriesRows(list)) {
      const v = rows[0]?.v;
      const t = Number(rows[0]?.time);
      if (typeof v !== 'number' || !Number.isFinite(v) || !tags.dev_eui) continue;
      set(row(tags), v, t);
    }
  };
  each(levels, (r, v, t) => ((r.pct = v), (r.at = Math.max(r.at, t))));
  each(volts, (r, v, t) => ((r.v = v), (r.at = Math.max(r.at, t))));
  each(status, (r, v, t) => {
    if (r.pct === null) r.pct = v;
    r.at = Math.max(r.at, t);
  });
  for (const r of out.values()) r.state = batteryState(r.pct, r.v);
  // Weakest first: levels ascending, then voltage-only devices by voltage.
  return [...out.values()].sort((a, b) => (a.pct === null) !== (b.pct === null) ? (a.pct === null ? 1 : -1) : (a.pct ?? a.v ?? 0) - (b.pct ?? b.v ?? 0) || a.devEui.localeCompare(b.devEui));
}

const FLAG_ORDER: Record<ParsimonyFlag, number> = { 'airtime-over-budget': 0, 'over-reporting': 1, 'under-reporting': 2, 'unknown-role': 3 };

/** Devices whose pace is worth a look, the most costly first. */
export function flaggedDevices(devices: readonly ParsimonyDevice[]): ParsimonyDevice[] {
  const rank = (d: ParsimonyDevice) => Math.min(...d.flags.map((f) => FLAG_ORDER[f]));
  return devices.filter((d) => d.flags.length > 0).sort((a, b) => rank(a) - rank(b) || (b.airtimeSPerDay ?? 0) - (a.airtimeSPerDay ?? 0) || a.devEui.localeCompare(b.devEui));
}

/** Silent devices: open S1/W7S alert (status silent) or registered and never heard; longest silence first. */
export function silentDevices(devices: readonly DeviceView[]): DeviceView[] {
  return devices
    .filter((d) => d.status !== 'ok')
    .sort((a, b) => (a.lastSeen === null ? -1 : 0) - (b.lastSeen === null ? -1 : 0) || (a.lastSeen ?? '').localeCompare(b.lastSeen ?? '') || a.name.localeCompare(b.name));
}

/** One page of a list: the page asked for, kept within the pages there are. */
export function pageSlice<T>(items: readonly T[], page: number, size = PAGE_SIZE): { items: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const p = Math.min(Math.max(1, page), pages);
  return { items: items.slice((p - 1) * size, p * size), page: p, pages };
}

/** Counts by reason from a `GROUP BY "reason"` query with `n` (and `done`) columns. */
export function countsByReason(series: SeriesList): { reason: string; n: number; done: number }[] {
  return seriesRows(series)
    .map(({ tags, rows }) => ({ reason: tags.reason ?? '', n: Number(rows[0]?.n ?? 0) || 0, done: Number(rows[0]?.done ?? 0) || 0 }))
    .filter((r) => r.n > 0)
    .sort((a, b) => b.n - a.n || a.reason.localeCompare(b.reason));
}

// ---------------------------------------------------------------------------------------------------------
// Page

/** Links to the other pages of one list (`param` names its page number), keeping the other lists' pages. */
function pager(ctx: PageContext, query: Record<string, string | number | undefined>, param: string, page: number, pages: number, what: string, anchor: string): Html {
  if (pages <= 1) return html``;
  const link = (p: number) => {
    const q = new URLSearchParams(Object.entries({ ...query, [param]: p }).flatMap(([k, v]) => (v === undefined || v === '' || (k !== param && v === 1) ? [] : [[k, String(v)]])));
    return `/parc?${q.toString()}#${anchor}`;
  };
  return html`<nav class="pagination" aria-label="${ctx.t.fleet.pagination(what)}">
  ${page > 1 ? html`<a href="${link(page - 1)}" rel="prev">${ctx.t.previous}</a>` : ''}
  <span aria-current="page">${ctx.t.pageOf(page, pages)}</span>
  ${page < pages ? html`<a href="${link(page + 1)}" rel="next">${ctx.t.next}</a>` : ''}
</nav>`;
}

function deviceLink(devEui: string, name: string): Html {
  return html`<a href="/appareils/${encodeURIComponent(devEui)}">${name}</a>`;
}

interface FleetData {
  tenant: string;
  communes: string[];
  devices: DeviceView[];
  silentAlerts: Map<string, string>;
  batteries: BatteryRow[];
  parsimony: Awaited<ReturnType<typeof parsimonyReport>>;
  rejected: { reason: string; n: number; done: number }[];
  latest: Record<string, unknown>[];
  instance: { reason: string; n: number; done: number }[] | undefined;
  from: Date;
  to: Date;
}

async function readFleet(deps: ConsoleDeps, ctx: PageContext, q: FleetQuery, parsimonyCache: ReportCache): Promise<FleetData> {
  const communes = communesOf(ctx.tenants, deps.api.registry, deps.api.defaultTenant);
  const tenant = pickCommune(ctx, communes, q.commune);
  const influx = deps.api.influx;
  const to = new Date();
  const from = new Date(to.getTime() - Number(q.jours) * 86_400_000);
  const scope = tenantConditions([tenant]);
  const since: Condition[] = [{ time: '>=', at: to.getTime() - BATTERY_DAYS * 86_400_000 }, ...scope];
  const window = [...during(from, to), ...scope];
  const level = QUANTITIES.batteryLevel;
  const volt = QUANTITIES.battery;
  const lastBy = (field: string, from: string, where: Condition[]) =>
    influx.query(select({ select: [{ fn: 'last', field, as: 'v' }], from, where, groupBy: ['dev_eui', 'device', 'site'] }));
  const undecoded = UPLINK_UNDECODED.measurement;
  const [devices, levels, volts, status, parsimony, rejected, latest, instance] = await Promise.all([
    listDevices(deps.api, [tenant], { lookbackDays: INVENTORY_DAYS }),
    lastBy(level.field, level.measurement, since),
    lastBy(volt.field, volt.measurement, since),
    lastBy('battery_level_pct', DEVICE_STATUS.measurement, [...since, { field: 'external_power', compare: '=', value: false }]),
    // A week of radio figures moves little in minutes: computed at most every 5 minutes per commune and period
    // (the section states the period it covers), so the page stays fast on a commune of a thousand sensors.
    parsimonyCache.get(`${tenant}|${q.jours}`, () => parsimonyReport({ influx, registry: deps.api.registry, tenant, from, to, rateBasis: 'active-span' })),
    influx.query(select({ select: [{ fn: 'count', field: 'f_cnt', as: 'n' }, { fn: 'count', field: 'redecoded_by', as: 'done' }], from: undecoded, where: window, groupBy: ['reason'] })),
    influx.query(select({ select: fields('f_port', 'detail', 'redecoded_by', 'dev_eui', 'reason'), from: undecoded, where: window, order: 'desc', limit: LATEST_REJECTED })),
    // uplink_rejected carries no commune: only a key of the whole instance may see it.
    ctx.principal.tenants === undefined
      ? influx.query(select({ select: [{ fn: 'count', field: 'message_bytes', as: 'n' }], from: UPLINK_REJECTED.measurement, where: during(from, to), groupBy: ['reason'] }))
      : Promise.resolve(undefined),
  ]);
  const silentAlerts = new Map<string, string>();
  for (const a of deps.api.alerts?.book.list() ?? []) {
    if (a.subject.tenant === tenant && a.subject.devEui && (a.ruleId === 'S1' || a.ruleId === 'W7S')) silentAlerts.set(a.subject.devEui, a.id);
  }
  return {
    tenant,
    communes,
    devices,
    silentAlerts,
    batteries: batteryRows(levels, volts, status),
    parsimony,
    rejected: countsByReason(rejected),
    latest: allRows(latest),
    instance: instance ? countsByReason(instance) : undefined,
    from,
    to,
  };
}

function fleetPage(ctx: PageContext, q: FleetQuery, d: FleetData, deviceNames: Map<string, string>, registry: ConsoleDeps['api']['registry']): Html {
  const t = ctx.t;
  const f = t.fleet;
  const fmt = ctx.fmt;
  const tz = tenantTimeZone(registry, d.tenant);
  const keep = { commune: q.commune, jours: q.jours === '7' ? undefined : q.jours, ps: q.ps, pb: q.pb, pe: q.pe };
  const nameOf = (devEui: string, fallback: string) => deviceNames.get(devEui) ?? fallback;
  const periodText = t.periodRange(fmt.dateTime(d.from, tz), fmt.dateTime(d.to, tz));

  // Silent devices
  const silent = silentDevices(d.devices);
  const sp = pageSlice(silent, q.ps);
  const silentSection = html`<section aria-labelledby="silencieux"><h2 id="silencieux">${f.silentTitle}</h2>
<p>${f.silentIntro(INVENTORY_DAYS)}</p>
<p role="status">${f.silentCount(silent.length, d.devices.length)}</p>
${
  silent.length === 0
    ? html`<p class="empty">${f.silentNone}</p>`
    : html`<table><caption>${f.silentCaption}</caption>
<thead><tr><th scope="col">${f.device}</th><th scope="col">${t.site}</th><th scope="col">${f.role}</th><th scope="col">${f.lastSeen}</th><th scope="col">${f.silentStatus}</th></tr></thead>
<tbody>${sp.items.map((dv) => {
        const alert = d.silentAlerts.get(dv.devEui);
        return html`<tr><th scope="row">${deviceLink(dv.devEui, dv.name)}</th><td>${ctx.names.site(dv.tenant, dv.site)}</td><td>${roleLabel(dv.role, ctx.lang)}</td><td>${dv.lastSeen ? html`${fmt.dateTime(dv.lastSeen, tz)} <span class="hint">(${fmt.ago(dv.lastSeen)})</span>` : t.never}</td><td>${dv.status === 'never-seen' ? f.statusNever : f.statusSilent}${alert ? html` – <a href="/alertes/${alert}">${f.seeAlert}</a>` : ''}</td></tr>`;
      })}</tbody></table>
${pager(ctx, keep, 'ps', sp.page, sp.pages, f.silentTitle, 'silencieux')}`
}
</section>`;

  // Batteries
  const low = d.batteries.filter((b) => b.state === 'low');
  const watch = d.batteries.filter((b) => b.state === 'watch');
  const shownBatteries = [...low, ...watch];
  const bp = pageSlice(shownBatteries, q.pb);
  const s2 = RULE_DEFAULTS.S2;
  const batterySection = html`<section aria-labelledby="piles"><h2 id="piles">${f.batteryTitle}</h2>
<p>${f.batteryIntro(fmt.quantity(s2.minPct, '%', 0), fmt.quantity(s2.minV, 'V', 2), fmt.quantity(BATTERY_WATCH.pct, '%', 0), fmt.quantity(BATTERY_WATCH.v, 'V', 2))}</p>
<p role="status">${f.batteryCount(d.batteries.length, low.length, watch.length)}</p>
${
  shownBatteries.length === 0
    ? html`<p class="empty">${f.batteryNone}</p>`
    : html`<table><caption>${f.batteryCaption}</caption>
<thead><tr><th scope="col">${f.device}</th><th scope="col">${t.site}</th><th scope="col" class="num">${f.level}</th><th scope="col" class="num">${f.voltage}</th><th scope="col">${f.measuredAt}</th><th scope="col">${f.batteryState}</th></tr></thead>
<tbody>${bp.items.map(
        (b) =>
          html`<tr><th scope="row">${deviceLink(b.devEui, nameOf(b.devEui, b.device))}</th><td>${ctx.names.site(d.tenant, b.site)}</td><td class="num">${fmt.quantity(b.pct, '%', 0)}</td><td class="num">${fmt.quantity(b.v, 'V', 2)}</td><td>${fmt.dateTime(b.at, tz)}</td><td><span class="badge ${b.state === 'low' ? 'sev-major' : 'sev-warning'}">${b.state === 'low' ? f.batteryLow : f.batteryWatch}</span></td></tr>`,
      )}</tbody></table>
${pager(ctx, keep, 'pb', bp.page, bp.pages, f.batteryTitle, 'piles')}`
}
</section>`;

  // Airtime and over-reporting
  const p = d.parsimony;
  const flagged = flaggedDevices(p.devices);
  const ep = pageSlice(flagged, q.pe);
  const reportLink = `/rapports/sobriete?${new URLSearchParams({ commune: d.tenant, jours: q.jours }).toString()}`;
  const airtimeSection = html`<section aria-labelledby="antenne"><h2 id="antenne">${f.airtimeTitle}</h2>
<p>${f.airtimeIntro}</p>
<p><strong>${f.airtimePeriod(periodText, fmt.number(p.period.days, 0))}</strong></p>
<ul class="tiles">
  <li class="tile"><p class="label">${f.airtimeDevices}</p><p class="value">${fmt.number(p.totals.devices, 0)}</p></li>
  <li class="tile"><p class="label">${f.airtimeUplinks}</p><p class="value">${fmt.number(p.totals.uplinksPerDay, 0)}</p></li>
  <li class="tile"><p class="label">${f.airtimeSeconds}</p><p class="value">${fmt.quantity(p.totals.airtimeSPerDay, 's', 1)}</p></li>
  <li class="tile"><p class="label">${f.airtimeFlagged}</p><p class="value">${fmt.number(flagged.length, 0)}</p></li>
</ul>
${
  flagged.length === 0
    ? html`<p class="empty">${f.airtimeNone}</p>`
    : html`<table><caption>${f.airtimeCaption} (${periodText})</caption>
<thead><tr><th scope="col">${f.device}</th><th scope="col">${t.site}</th><th scope="col" class="num">${f.perDay}</th><th scope="col" class="num">${f.needed}</th><th scope="col" class="num">${f.airtimePerDay}</th><th scope="col">${f.finding}</th></tr></thead>
<tbody>${ep.items.map(
        (x) =>
          html`<tr><th scope="row">${deviceLink(x.devEui, nameOf(x.devEui, x.device))}</th><td>${ctx.names.site(d.tenant, x.site)}</td><td class="num">${fmt.number(x.uplinksPerDay, 1)}</td><td class="num">${x.need ? f.neededValue(fmt.number(x.need.neededUplinksPerDay, 0)) : '–'}</td><td class="num">${fmt.quantity(x.airtimeSPerDay, 's', 1)}</td><td>${x.flags.map((fl) => f.flags[fl] ?? fl).join(' ; ')}</td></tr>`,
      )}</tbody></table>
${pager(ctx, keep, 'pe', ep.page, ep.pages, f.airtimeTitle, 'antenne')}`
}
<p><a href="${reportLink}">${f.fullReport}</a></p>
</section>`;

  // Messages kept raw
  const total = d.rejected.reduce((s, r) => s + r.n, 0);
  const reasonText = (r: string) => f.reasons[r] ?? r;
  const rejectedSection = html`<section aria-labelledby="non-lus"><h2 id="non-lus">${f.rejectedTitle}</h2>
<p>${f.rejectedIntro}</p>
<p role="status">${f.rejectedCount(total, d.rejected.reduce((s, r) => s + r.done, 0), `(${periodText})`)}</p>
${
  total === 0
    ? ''
    : html`<table><caption>${f.rejectedCaption} (${periodText})</caption>
<thead><tr><th scope="col">${f.reason}</th><th scope="col" class="num">${f.count}</th><th scope="col" class="num">${f.redecoded}</th></tr></thead>
<tbody>${d.rejected.map((r) => html`<tr><th scope="row">${reasonText(r.reason)}</th><td class="num">${fmt.number(r.n, 0)}</td><td class="num">${fmt.number(r.done, 0)}</td></tr>`)}</tbody></table>
<table><caption>${f.latestCaption}</caption>
<thead><tr><th scope="col">${f.receivedAt}</th><th scope="col">${f.device}</th><th scope="col">${f.reason}</th><th scope="col">${f.detail}</th></tr></thead>
<tbody>${d.latest.map((r) => {
        const eui = String(r.dev_eui ?? '');
        return html`<tr><th scope="row">${fmt.dateTime(Number(r.time), tz)}</th><td>${eui ? deviceLink(eui, nameOf(eui, eui)) : '–'}</td><td>${reasonText(String(r.reason ?? ''))}${r.redecoded_by ? html` <span class="hint">(${f.redecodedOne})</span>` : ''}</td><td>${String(r.detail ?? '')}</td></tr>`;
      })}</tbody></table>`
}
</section>`;

  const instanceSection = d.instance
    ? html`<section aria-labelledby="refuses"><h2 id="refuses">${f.instanceTitle}</h2>
<p>${f.instanceIntro}</p>
${
  d.instance.length === 0
    ? html`<p class="empty">${f.instanceNone(`(${periodText})`)}</p>`
    : html`<table><caption>${f.instanceCaption} (${periodText})</caption>
<thead><tr><th scope="col">${f.reason}</th><th scope="col" class="num">${f.count}</th></tr></thead>
<tbody>${d.instance.map((r) => html`<tr><th scope="row">${reasonText(r.reason)}</th><td class="num">${fmt.number(r.n, 0)}</td></tr>`)}</tbody></table>`
}
</section>`
    : '';

  const chooser = html`<form method="get" action="/parc" class="filters" aria-label="${f.choose}">
  ${
    d.communes.length > 1
      ? html`<div class="field"><label for="f-commune">${t.commune}</label><select id="f-commune" name="commune">${d.communes.map((c) => html`<option value="${c}"${c === d.tenant ? html` selected` : ''}>${ctx.names.tenant(c)}</option>`)}</select></div>`
      : ''
  }
  <div class="field"><label for="f-jours">${t.period}</label><select id="f-jours" name="jours">${FLEET_PERIODS.map((n) => html`<option value="${n}"${n === q.jours ? html` selected` : ''}>${f.lastDays(Number(n))}</option>`)}</select></div>
  <div class="actions"><button type="submit">${f.show}</button></div>
</form>`;

  return html`<p class="intro">${f.intro}</p>
${chooser}
${silentSection}
${batterySection}
${airtimeSection}
${rejectedSection}
${instanceSection}`;
}

export function fleetPages(app: FastifyInstance, deps: ConsoleDeps): void {
  const parsimonyCache = new ReportCache();
  app.get('/parc', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const q = fleetQuery.parse(req.query ?? {});
    const data = await readFleet(deps, ctx, q, parsimonyCache);
    // Looked up only for the DevEUIs of the commune's own (confined) results; a registry entry may leave its
    // tenant to the network server, so it is not filtered on it.
    const names = new Map(deps.api.registry.devices.filter((x) => x.name).map((x) => [x.devEui, x.name!]));
    const title = data.communes.length > 1 ? `${ctx.t.fleet.title} – ${ctx.names.tenant(data.tenant)}` : ctx.t.fleet.title;
    return sendPage(reply, 200, layout(ctx, { title, section: 'fleet', content: fleetPage(ctx, q, data, names, deps.api.registry) }));
  });
}
