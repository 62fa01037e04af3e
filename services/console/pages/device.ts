/**
 * Appareil: one device — what it is and where (display names, role, decoder, registered or discovered), when it
 * was last heard, its battery, its radio link over time (RSSI, SNR, spreading factor in words), a chart per
 * quantity it reports over a chosen period and aggregation (kept in the query string), the uplinks kept raw with
 * their reason, and re-decoding of those for admins (the same function as POST /api/v1/admin/redecode).
 * Another commune's device is answered as if it did not exist.
 */
import type { FastifyInstance } from 'fastify';
import { QUANTITIES, type QuantityId } from '../../../decoders/model/quantities.ts';
import { localDayBounds, localTime } from '../../time/calendar.ts';
import { listDevices, siteTimeZone, type DeviceView } from '../../api/inventory.ts';
import { hasRole } from '../../api/keys.ts';
import { devEui as devEuiParam } from '../../api/params.ts';
import { readSeries, type Aggregation } from '../../api/readings.ts';
import { lastReadings } from '../../api/routes/devices.ts';
import { ApiError, requestedTenants, tenantConditions } from '../../api/scope.ts';
import { roleLabel } from '../../registry/names.ts';
import { allRows } from '../../storage/influx.ts';
import { during, fields, select, type Condition } from '../../storage/influxql.ts';
import { DEVICE_STATUS, UPLINK, UPLINK_REJECTED, UPLINK_UNDECODED } from '../../storage/schema.ts';
import { chart, seriesRange, type ChartSeries } from '../components.ts';
import { pageOf, type PageContext } from '../context.ts';
import { html, type Html } from '../html.ts';
import { csrfField, layout, notice } from '../layout.ts';
import { sendPage, type ConsoleDeps } from '../page.ts';
import { sitePath } from './sites.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const MAX_DAYS = 366;
/** Raw readings over more than this are too many to draw: the API's own bound. */
const MAX_RAW_DAYS = 31;
const MAX_POINTS = 5000;
const RAW_ROWS_SHOWN = 50;

// ---------------------------------------------------------------------------------------------------------
// Period and aggregation (pure)

export const PRESETS = { '24h': DAY, '7j': 7 * DAY, '30j': 30 * DAY } as const;
export type Preset = keyof typeof PRESETS;
export const AGGREGATIONS = { brutes: 'raw', horaires: 'hourly', journalieres: 'daily' } as const satisfies Record<string, Aggregation>;
export type AggregationName = keyof typeof AGGREGATIONS;

export interface DevicePeriod {
  from: Date;
  to: Date;
  /** The preset chosen, or undefined for explicit dates. */
  preset: Preset | undefined;
  du: string | undefined;
  au: string | undefined;
  aggregation: AggregationName;
  /** What was asked for and could not be given (the page says so and shows the default instead). */
  problem?: 'order' | 'too-long' | 'raw-too-long' | 'bad-date' | undefined;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (s: string) => DATE.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);

/** The aggregation that suits a period when none is asked for: raw up to 2 days, hourly up to 2 weeks, else daily. */
export function defaultAggregation(spanMs: number): AggregationName {
  return spanMs <= 2 * DAY ? 'brutes' : spanMs <= 14 * DAY ? 'horaires' : 'journalieres';
}

/**
 * The period of the device page from its query string: `du`/`au` (local dates, both days included) or the preset
 * `periode` (24h, 7j, 30j; 7 days by default), and `agregation` (brutes, horaires, journalieres). A query that
 * cannot be served (end before start, more than a year, raw readings over more than 31 days, a malformed date)
 * falls back to a servable one and names the problem.
 */
export function parseDevicePeriod(query: Record<string, unknown>, now: Date, timeZone: string): DevicePeriod {
  const str = (k: string) => (typeof query[k] === 'string' && (query[k] as string) !== '' ? (query[k] as string) : undefined);
  const asked = str('agregation');
  const askedAggregation = asked && asked in AGGREGATIONS ? (asked as AggregationName) : undefined;
  const presetName = str('periode');
  const preset: Preset = presetName && presetName in PRESETS ? (presetName as Preset) : '7j';
  let problem: DevicePeriod['problem'];
  let du = str('du');
  let au = str('au');
  if ((du && !validDate(du)) || (au && !validDate(au))) {
    problem = 'bad-date';
    du = au = undefined;
  }
  let from: Date;
  let to: Date;
  let chosenPreset: Preset | undefined;
  if (du || au) {
    to = au ? localDayBounds(au, timeZone).end : now;
    from = du ? localDayBounds(du, timeZone).start : new Date(to.getTime() - PRESETS['7j']);
    if (to.getTime() <= from.getTime()) problem = 'order';
    else if (to.getTime() - from.getTime() > MAX_DAYS * DAY) problem = 'too-long';
    if (problem) {
      du = au = undefined;
      chosenPreset = preset;
      to = now;
      from = new Date(now.getTime() - PRESETS[preset]);
    }
  } else {
    chosenPreset = preset;
    to = now;
    from = new Date(now.getTime() - PRESETS[preset]);
  }
  const span = to.getTime() - from.getTime();
  let aggregation = askedAggregation ?? defaultAggregation(span);
  if (aggregation === 'brutes' && span > MAX_RAW_DAYS * DAY) {
    problem ??= 'raw-too-long';
    aggregation = defaultAggregation(span);
  }
  return { from, to, preset: chosenPreset, du, au, aggregation, ...(problem ? { problem } : {}) };
}

/** The query string of a period, to keep it in links and forms. */
export function periodQuery(p: Pick<DevicePeriod, 'preset' | 'du' | 'au' | 'aggregation'>): string {
  const q = new URLSearchParams();
  if (p.du || p.au) {
    if (p.du) q.set('du', p.du);
    if (p.au) q.set('au', p.au);
  } else if (p.preset) q.set('periode', p.preset);
  q.set('agregation', p.aggregation);
  return q.toString();
}

/** Consumption between consecutive raw index readings (a decrease, a counter reset, counts the new value). */
export function rawConsumption(points: readonly [number, number | null][]): [number, number | null][] {
  const out: [number, number | null][] = [];
  let previous: number | undefined;
  for (const [t, v] of points) {
    if (v === null) continue;
    if (previous !== undefined) out.push([t, v >= previous ? v - previous : Math.max(0, v)]);
    previous = v;
  }
  return out;
}

export type RadioQuality = 'good' | 'fair' | 'poor';

/**
 * An indicative reading of a LoRa link from its best gateway: SNR above 0 dB and RSSI above -100 dBm leave margin
 * at any spreading factor; below -10 dB of SNR or -115 dBm of RSSI the link is near the demodulation floor of the
 * faster spreading factors (Semtech AN1200.22, "LoRa Modulation Basics": SF7 demodulates down to -7.5 dB, SF12
 * to -20 dB).
 */
export function radioQuality(rssi: number | null, snr: number | null): RadioQuality | undefined {
  if (rssi === null || snr === null) return undefined;
  if (rssi < -115 || snr < -10) return 'poor';
  if (rssi >= -100 && snr >= 0) return 'good';
  return 'fair';
}

// ---------------------------------------------------------------------------------------------------------
// Reading

interface Reading {
  quantity: string;
  value: number | boolean;
  unit: string;
  channel: string;
  time: string;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Wh → kWh and the like: how meters are read by people. */
function displayUnit(unit: string): { unit: string; factor: number } {
  if (unit === 'Wh') return { unit: 'kWh', factor: 0.001 };
  if (unit === 'varh') return { unit: 'kvarh', factor: 0.001 };
  if (unit === 'VAh') return { unit: 'kVAh', factor: 0.001 };
  return { unit, factor: 1 };
}

/** "milesight/em300-zld" → "Milesight EM300-ZLD"; a codec keeps its configured name. */
export function decoderLabel(decoder: string | undefined): string | undefined {
  if (!decoder) return undefined;
  if (decoder.startsWith('codec:')) return decoder.slice('codec:'.length);
  const [vendor = '', ...model] = decoder.split('/');
  return `${vendor.charAt(0).toUpperCase()}${vendor.slice(1)} ${model.join(' ').toUpperCase()}`.trim();
}

interface RawRow {
  time: number;
  reason: string;
  detail: string;
  fPort: number | null;
  fCnt: number | null;
  payloadHex: string;
  redecodedBy: string;
}

async function readRadio(deps: ConsoleDeps, d: DeviceView, p: DevicePeriod, tz: string) {
  const where: Condition[] = [...during(p.from, p.to), { tag: 'dev_eui', equals: d.devEui }, ...tenantConditions([d.tenant])];
  const agg = AGGREGATIONS[p.aggregation];
  const from = UPLINK.measurement;
  const series =
    agg === 'raw'
      ? select({ select: [{ field: 'rssi_dbm', as: 'rssi' }, { field: 'snr_db', as: 'snr' }], from, where, order: 'asc', limit: MAX_POINTS })
      : select({ select: [{ fn: 'mean', field: 'rssi_dbm', as: 'rssi' }, { fn: 'mean', field: 'snr_db', as: 'snr' }], from, where, interval: agg === 'hourly' ? '1h' : '1d', fill: 'none', tz });
  const summary = select({
    select: [
      { fn: 'count', field: 'f_cnt', as: 'uplinks' },
      { fn: 'min', field: 'sf', as: 'sf_min' },
      { fn: 'max', field: 'sf', as: 'sf_max' },
      { fn: 'mean', field: 'rssi_dbm', as: 'rssi' },
      { fn: 'mean', field: 'snr_db', as: 'snr' },
    ],
    from,
    where,
  });
  const [rows, stats] = await Promise.all([deps.api.influx.query(series), deps.api.influx.query(summary)]);
  const points = allRows(rows).map((r) => ({ t: Number(r.time), rssi: num(r.rssi), snr: num(r.snr) }));
  const s = allRows(stats)[0] ?? {};
  return { points, uplinks: num(s.uplinks) ?? 0, sfMin: num(s.sf_min), sfMax: num(s.sf_max), rssi: num(s.rssi), snr: num(s.snr) };
}

async function readKeptRaw(deps: ConsoleDeps, ctx: PageContext, d: DeviceView, p: DevicePeriod) {
  const device: Condition[] = [...during(p.from, p.to), { tag: 'dev_eui', equals: d.devEui }];
  const where = [...device, ...tenantConditions([d.tenant])];
  // uplink_rejected has no tenant (its messages were not placed in any commune): only an instance-wide key sees it.
  const instanceWide = ctx.principal.tenants === undefined;
  const latest = { order: 'desc', limit: RAW_ROWS_SHOWN } as const;
  const [rows, count, rejected] = await Promise.all([
    deps.api.influx.query(select({ select: fields('reason', 'detail', 'f_port', 'f_cnt', 'payload_b64', 'redecoded_by'), from: UPLINK_UNDECODED.measurement, where, ...latest })),
    deps.api.influx.query(select({ select: [{ fn: 'count', field: 'f_cnt', as: 'n' }], from: UPLINK_UNDECODED.measurement, where })),
    instanceWide
      ? deps.api.influx.query(select({ select: fields('reason', 'detail', 'message_bytes'), from: UPLINK_REJECTED.measurement, where: device, ...latest }))
      : Promise.resolve([]),
  ]);
  const kept: RawRow[] = allRows(rows).map((r) => ({
    time: Number(r.time),
    reason: String(r.reason ?? ''),
    detail: String(r.detail ?? ''),
    fPort: num(r.f_port),
    fCnt: num(r.f_cnt),
    payloadHex: Buffer.from(String(r.payload_b64 ?? ''), 'base64').toString('hex'),
    redecodedBy: typeof r.redecoded_by === 'string' ? r.redecoded_by : '',
  }));
  return {
    kept,
    total: num(allRows(count)[0]?.n) ?? kept.length,
    rejected: allRows(rejected).map((r) => ({ time: Number(r.time), reason: String(r.reason ?? ''), detail: String(r.detail ?? ''), bytes: num(r.message_bytes) })),
  };
}

async function readBatteryStatus(deps: ConsoleDeps, d: DeviceView): Promise<{ pct: number; time: number } | undefined> {
  const rows = allRows(
    await deps.api.influx.query(
      select({
        select: [{ fn: 'last', field: 'battery_level_pct', as: 'pct' }],
        from: DEVICE_STATUS.measurement,
        where: [{ time: '>=', at: Date.now() - 90 * DAY }, { tag: 'dev_eui', equals: d.devEui }, ...tenantConditions([d.tenant])],
      }),
    ),
  );
  const pct = num(rows[0]?.pct);
  return pct === null ? undefined : { pct, time: Number(rows[0]!.time) };
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

function quantityName(ctx: PageContext, id: string, channel: string): string {
  const q = QUANTITIES[id as QuantityId];
  const base = q ? q.description[ctx.lang] : id;
  return channel ? ctx.t.device.channel(base, channel) : base;
}

function facts(ctx: PageContext, d: DeviceView, tz: string, battery: Html): Html {
  const t = ctx.t.device;
  const row = (label: string, value: Html | string) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`;
  return html`<dl class="figures device-facts">
${row(ctx.t.commune, ctx.names.tenant(d.tenant))}
${row(ctx.t.site, d.site ? html`<a href="${sitePath(d.tenant, d.site)}">${ctx.names.site(d.tenant, d.site)}</a>` : t.notSet)}
${row(t.building, d.building ?? t.notSet)}
${row(t.zone, d.zone ?? t.notSet)}
${row(t.role, roleLabel(d.role, ctx.lang))}
${row(t.model, decoderLabel(d.decoder) ?? t.modelFromProfile)}
${row(t.registration, d.registered ? t.registered : t.discovered)}
${row(t.devEui, html`<code>${d.devEui}</code>`)}
${row(t.lastSeen, d.lastSeen ? html`<time datetime="${d.lastSeen}">${ctx.fmt.dateTime(d.lastSeen, tz)}</time> (${ctx.fmt.ago(d.lastSeen)})` : ctx.t.never)}
${row(t.status, t.statuses[d.status] ?? d.status)}
${row(t.battery, battery)}
</dl>`;
}

function batteryText(ctx: PageContext, readings: Reading[], status: { pct: number; time: number } | undefined, tz: string): Html {
  const t = ctx.t.device;
  const level = readings.find((r) => r.quantity === 'batteryLevel' && typeof r.value === 'number');
  const volts = readings.find((r) => r.quantity === 'battery' && typeof r.value === 'number');
  const at = (time: string | number) => ctx.fmt.dateTime(time, tz);
  if (level) return html`${ctx.fmt.quantity(level.value as number, '%', 0)} <span class="hint">${t.readAt(at(level.time))}</span>`;
  if (volts) return html`${ctx.fmt.quantity(volts.value as number, 'V', 2)} <span class="hint">${t.readAt(at(volts.time))}</span>`;
  if (status) return html`${ctx.fmt.quantity(status.pct, '%', 0)} <span class="hint">${t.fromNetwork(at(status.time))}</span>`;
  return html`${t.noBattery}`;
}

function periodForm(ctx: PageContext, d: DeviceView, p: DevicePeriod): Html {
  const t = ctx.t.device;
  const presetOptions = (Object.keys(PRESETS) as Preset[]).map((k) => html`<option value="${k}"${p.preset === k ? html` selected` : ''}>${t.presets[k]}</option>`);
  const aggOptions = (Object.keys(AGGREGATIONS) as AggregationName[]).map((k) => html`<option value="${k}"${p.aggregation === k ? html` selected` : ''}>${t.aggregations[k]}</option>`);
  return html`<form method="get" action="/appareils/${d.devEui}" class="filters" aria-label="${t.periodForm}">
  <div class="field"><label for="f-periode">${ctx.t.period}</label><select id="f-periode" name="periode">${presetOptions}${p.preset ? '' : html`<option value="" selected>${t.presetDates}</option>`}</select></div>
  <div class="field"><label for="f-du">${t.fromDate}</label><input id="f-du" name="du" type="date" value="${p.du ?? ''}" aria-describedby="aide-dates"></div>
  <div class="field"><label for="f-au">${t.toDate}</label><input id="f-au" name="au" type="date" value="${p.au ?? ''}" aria-describedby="aide-dates"></div>
  <div class="field"><label for="f-agregation">${t.aggregation}</label><select id="f-agregation" name="agregation">${aggOptions}</select></div>
  <div class="actions"><button type="submit">${ctx.t.apply}</button></div>
  <p class="hint" id="aide-dates">${t.datesHint}</p>
</form>`;
}

function periodText(ctx: PageContext, p: DevicePeriod, tz: string): string {
  return ctx.t.periodRange(ctx.fmt.dateTime(p.from, tz), ctx.fmt.dateTime(p.to, tz));
}

function radioSection(ctx: PageContext, d: DeviceView, radio: Awaited<ReturnType<typeof readRadio>>, p: DevicePeriod, tz: string): Html {
  const t = ctx.t.device;
  const when = periodText(ctx, p, tz);
  const quality = radioQuality(d.rssiDbm, d.snrDb);
  const latest =
    d.rssiDbm !== null || d.snrDb !== null
      ? html`<p>${t.radioLatest(ctx.fmt.quantity(d.rssiDbm, 'dBm', 0), ctx.fmt.quantity(d.snrDb, 'dB', 1))} ${quality ? html`<strong>${t.quality[quality]}</strong>` : ''}</p>`
      : html`<p class="empty">${t.radioNone}</p>`;
  const sf = d.spreadingFactor;
  const sfText = sf !== null ? html`<p>${t.sfExplained(sf)}</p>${radio.sfMin !== null && radio.sfMax !== null && radio.sfMin !== radio.sfMax ? html`<p>${t.sfRange(radio.sfMin, radio.sfMax, when)}</p>` : ''}` : '';
  const summary = radio.uplinks ? html`<p>${t.radioPeriod(radio.uplinks, when, ctx.fmt.quantity(radio.rssi, 'dBm', 0), ctx.fmt.quantity(radio.snr, 'dB', 1))}</p>` : html`<p class="empty">${t.noUplinks(when)}</p>`;
  const agg = AGGREGATIONS[p.aggregation];
  const label = agg === 'raw' ? '' : t.meanPer[agg];
  const oneChart = (id: string, title: string, unit: string, key: 'rssi' | 'snr', digits: number) => {
    const series: ChartSeries[] = [{ label: title, points: radio.points.map((x) => [x.t, x[key]] as [number, number | null]) }];
    const r = seriesRange(series);
    if (!r) return '';
    const full = label ? `${title} (${label})` : title;
    return chart(ctx, { id, title: full, unit, series, timeZone: tz, digits, summary: t.chartSummary(full, when, r.n, ctx.fmt.quantity(r.min, unit, digits), ctx.fmt.quantity(r.max, unit, digits)) });
  };
  return html`${latest}${sfText}${summary}${oneChart('rssi', t.rssi, 'dBm', 'rssi', 0)}${oneChart('snr', t.snr, 'dB', 'snr', 1)}`;
}

async function quantityCharts(deps: ConsoleDeps, ctx: PageContext, d: DeviceView, readings: Reading[], p: DevicePeriod, tz: string): Promise<Html> {
  const t = ctx.t.device;
  const when = periodText(ctx, p, tz);
  const wanted = readings.filter((r) => r.quantity in QUANTITIES);
  if (!wanted.length) return html`<p class="empty">${t.noQuantities}</p>`;
  const asked = AGGREGATIONS[p.aggregation];
  const results = await Promise.all(
    wanted.map(async (r, i) => {
      const id = r.quantity as QuantityId;
      const spec = QUANTITIES[id];
      // States (leak, door) are drawn as they were reported: a mean of "wet" means nothing.
      const aggregation: Aggregation = spec.type === 'boolean' ? 'raw' : asked;
      const series = await readSeries(deps.api, {
        tenants: [d.tenant],
        devEui: d.devEui,
        quantity: id,
        channel: r.channel || undefined,
        aggregation,
        timeZone: tz,
        from: p.from,
        to: p.to,
        limit: MAX_POINTS,
      });
      const { unit, factor } = displayUnit(spec.unit);
      const raw = series[0]?.points ?? [];
      let points: [number, number | null][];
      let title = quantityName(ctx, id, r.channel);
      let shownUnit = unit;
      const notes: string[] = [];
      if (spec.type === 'boolean') {
        points = raw.map((x) => [Date.parse(x.time), typeof x.value === 'boolean' ? (x.value ? 1 : 0) : null]);
        title = t.stateTitle(title);
      } else if (spec.cumulative) {
        points =
          aggregation === 'raw'
            ? rawConsumption(raw.map((x) => [Date.parse(x.time), typeof x.value === 'number' ? x.value : null])).map(([tt, v]) => [tt, v === null ? null : v * factor])
            : raw
                // The hour or day under way is left out: half a bucket would draw a false drop at the end.
                .filter((x) => Date.parse(x.time) + (aggregation === 'hourly' ? HOUR : DAY) <= p.to.getTime())
                .map((x) => [Date.parse(x.time), x.consumption == null ? null : x.consumption * factor]);
        title = t.consumptionTitle(title, aggregation);
        if (aggregation !== 'raw') notes.push(aggregation === 'hourly' ? t.hourUnderWay : t.dayUnderWay);
        // A pulse count has no unit: "par heure" in the title says it all.
        if (aggregation !== 'raw' && unit) shownUnit = `${unit}/${aggregation === 'hourly' ? 'h' : t.dayUnit}`;
      } else {
        points = raw.map((x) => {
          const v = aggregation === 'raw' ? x.value : x.mean;
          return [Date.parse(x.time), typeof v === 'number' ? v * factor : null];
        });
        if (aggregation !== 'raw') title = t.meanTitle(title, aggregation);
      }
      const digits = shownUnit.startsWith('kWh') || shownUnit === 'V' ? 2 : 1;
      const chartSeries: ChartSeries[] = [{ label: quantityName(ctx, id, r.channel), points }];
      const range = seriesRange(chartSeries);
      const last = typeof r.value === 'boolean' ? (r.value ? t.stateOn : t.stateOff) : ctx.fmt.quantity((r.value as number) * factor, unit, digits);
      const heading = html`<p class="hint">${t.lastValue(last, ctx.fmt.dateTime(r.time, tz))}${aggregation !== asked ? ` ${t.statesRaw}` : ''}${notes.map((n) => ` ${n}`)}${points.length >= MAX_POINTS ? ` ${t.truncated(MAX_POINTS)}` : ''}</p>`;
      if (!range) return html`<h3>${title}</h3>${heading}<p class="empty">${t.noReadings(when)}</p>`;
      return html`<div class="quantity">${chart(ctx, {
        id: `mesure-${i}`,
        title,
        unit: spec.type === 'boolean' ? '' : shownUnit,
        series: chartSeries,
        timeZone: tz,
        steps: spec.type === 'boolean',
        digits,
        summary: t.chartSummary(title, when, range.n, spec.type === 'boolean' ? String(range.min) : ctx.fmt.quantity(range.min, shownUnit, digits), spec.type === 'boolean' ? String(range.max) : ctx.fmt.quantity(range.max, shownUnit, digits)),
      })}${heading}</div>`;
    }),
  );
  return html`${results}`;
}

function keptRawSection(ctx: PageContext, raw: Awaited<ReturnType<typeof readKeptRaw>>, p: DevicePeriod, tz: string): Html {
  const t = ctx.t.device;
  const when = periodText(ctx, p, tz);
  const kept = raw.kept.length
    ? html`<table>
<caption>${t.keptCaption(raw.kept.length, raw.total, when)}</caption>
<thead><tr><th scope="col">${t.receivedAt}</th><th scope="col">${t.reason}</th><th scope="col">${t.detail}</th><th scope="col">${t.portCounter}</th><th scope="col">${t.payload}</th><th scope="col">${t.redecoded}</th></tr></thead>
<tbody>${raw.kept.map(
        (r) =>
          html`<tr><th scope="row">${ctx.fmt.dateTime(r.time, tz)}</th><td>${t.reasons[r.reason] ?? r.reason}</td><td><code class="wrap">${r.detail || '–'}</code></td><td>${r.fPort ?? '–'} / ${r.fCnt ?? '–'}</td><td><code class="wrap">${r.payloadHex || '–'}</code></td><td>${r.redecodedBy ? t.redecodedBy(decoderLabel(r.redecodedBy.replace(/^decoder:/, '')) ?? r.redecodedBy) : t.notYet}</td></tr>`,
      )}</tbody>
</table>`
    : html`<p class="empty">${t.keptNone(when)}</p>`;
  const rejected = raw.rejected.length
    ? html`<h3>${t.rejectedTitle}</h3><p class="hint">${t.rejectedHint}</p><table>
<caption>${t.rejectedCaption(raw.rejected.length, when)}</caption>
<thead><tr><th scope="col">${t.receivedAt}</th><th scope="col">${t.reason}</th><th scope="col">${t.detail}</th></tr></thead>
<tbody>${raw.rejected.map((r) => html`<tr><th scope="row">${ctx.fmt.dateTime(r.time, tz)}</th><td>${t.reasons[r.reason] ?? r.reason}</td><td><code class="wrap">${r.detail || '–'}</code></td></tr>`)}</tbody>
</table>`
    : '';
  return html`<p class="hint">${t.keptHint}</p>${kept}${rejected}`;
}

function redecodeSection(ctx: PageContext, d: DeviceView, p: DevicePeriod, tz: string, available: boolean, result: Html): Html {
  const t = ctx.t.device;
  if (!available) return html`<p class="hint">${t.redecodeUnavailable}</p>`;
  const day = (x: Date) => localTime(x, tz).date;
  const du = p.du ?? day(p.from);
  const au = p.au ?? day(new Date(p.to.getTime() - 1));
  return html`${result}<p>${t.redecodeIntro}</p>
<form method="post" action="/appareils/${d.devEui}/redecodage" class="action-form">
  <fieldset class="stack"><legend>${t.redecodeLegend}</legend>
  ${csrfField(ctx)}
  <label for="r-du">${t.fromDate}</label><input id="r-du" name="du" type="date" value="${du}" required>
  <label for="r-au">${t.toDate}</label><input id="r-au" name="au" type="date" value="${au}" required>
  <button type="submit">${t.redecodeSubmit}</button>
  </fieldset>
</form>`;
}

function redecodeResult(ctx: PageContext, q: Record<string, unknown>): Html {
  const t = ctx.t.device;
  if (q.erreur === 'periode') return notice('error', t.redecodeBadPeriod);
  if (q.fait !== 'redecodage') return html``;
  const n = (k: string) => (typeof q[k] === 'string' && /^\d{1,9}$/.test(q[k] as string) ? Number(q[k]) : 0);
  return notice('ok', t.redecodeDone(n('examines'), n('decodes'), n('restants'), n('deja')));
}

/** The device the key may see, or a 404 (another commune's device, an unknown or malformed EUI). */
async function findDevice(deps: ConsoleDeps, ctx: PageContext, raw: string): Promise<DeviceView> {
  const eui = devEuiParam.safeParse(raw);
  if (!eui.success) throw new ApiError(404, 'not_found', 'device');
  const [device] = await listDevices(deps.api, requestedTenants(ctx.principal, undefined), { devEui: eui.data });
  if (!device) throw new ApiError(404, 'not_found', 'device');
  return device;
}

export function devicePages(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/appareils/:devEui', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const d = await findDevice(deps, ctx, (req.params as { devEui: string }).devEui);
    const q = (req.query ?? {}) as Record<string, unknown>;
    const tz = siteTimeZone(deps.api.registry, d.tenant, d.site);
    const p = parseDevicePeriod(q, new Date(), tz);
    const t = ctx.t.device;
    const [readings, radio, raw, status] = await Promise.all([lastReadings(deps.api, d.tenant, d.devEui) as Promise<Reading[]>, readRadio(deps, d, p, tz), readKeptRaw(deps, ctx, d, p), readBatteryStatus(deps, d)]);
    // The charts need the quantities the device reports: a second round of queries, one per quantity.
    const charts = await quantityCharts(deps, ctx, d, readings, p, tz);
    const isAdmin = hasRole(ctx.principal.role, 'admin');
    const content = html`<p>${d.site ? html`<a href="${sitePath(d.tenant, d.site)}">${t.backToSite(ctx.names.site(d.tenant, d.site))}</a> · ` : ''}<a href="${`/?${new URLSearchParams({ commune: d.tenant, ...(d.site ? { site: d.site } : {}) }).toString()}`}">${t.alertsOfSite(d.openAlerts)}</a></p>
${p.problem ? notice('error', t.periodProblems[p.problem] ?? p.problem) : ''}
<section aria-labelledby="fiche"><h2 id="fiche">${t.factsTitle}</h2>${facts(ctx, d, tz, batteryText(ctx, readings, status, tz))}</section>
<section aria-labelledby="mesures"><h2 id="mesures">${t.readingsTitle}</h2>${periodForm(ctx, d, p)}<p class="count">${t.shown(t.aggregations[p.aggregation] ?? p.aggregation, periodText(ctx, p, tz))}</p>${charts}</section>
<section aria-labelledby="radio"><h2 id="radio">${t.radioTitle}</h2>${radioSection(ctx, d, radio, p, tz)}</section>
<section aria-labelledby="bruts"><h2 id="bruts">${t.keptTitle}</h2>${keptRawSection(ctx, raw, p, tz)}</section>
${isAdmin ? html`<section aria-labelledby="redecodage"><h2 id="redecodage">${t.redecodeTitle}</h2>${redecodeSection(ctx, d, p, tz, deps.api.redecode !== undefined, redecodeResult(ctx, q))}</section>` : ''}`;
    return sendPage(reply, 200, layout(ctx, { title: d.name, section: 'sites', content }));
  });

  app.post('/appareils/:devEui/redecodage', { config: { console: true, role: 'admin' }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const d = await findDevice(deps, ctx, (req.params as { devEui: string }).devEui);
    if (!deps.api.redecode) throw new ApiError(503, 'unavailable', 're-decoding is not available on this instance');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const tz = siteTimeZone(deps.api.registry, d.tenant, d.site);
    const du = typeof body.du === 'string' ? body.du : '';
    const au = typeof body.au === 'string' ? body.au : '';
    const back = `/appareils/${d.devEui}`;
    if (!validDate(du) || !validDate(au)) return reply.code(303).redirect(`${back}?erreur=periode#redecodage`);
    const from = localDayBounds(du, tz).start;
    const to = localDayBounds(au, tz).end;
    if (to.getTime() <= from.getTime() || to.getTime() - from.getTime() > MAX_DAYS * DAY) return reply.code(303).redirect(`${back}?${new URLSearchParams({ du, au, erreur: 'periode' }).toString()}#redecodage`);
    req.log.warn({ keyId: ctx.principal.keyId, devEui: d.devEui, tenant: d.tenant, from, to }, 'console re-decode');
    const period = `${from.toISOString()} – ${to.toISOString()}`;
    const r = await deps.api.redecode({ from, to, devEui: d.devEui, tenants: [d.tenant] });
    deps.api.audit?.ofRequest(req, ctx.principal, { action: 'data.redecode', tenant: d.tenant, target: d.devEui, detail: `${period}: ${r.decoded} decoded of ${r.examined} examined`, source: 'console' });
    const q = new URLSearchParams({ du, au, fait: 'redecodage', examines: String(r.examined), decodes: String(r.decoded), restants: String(r.stillUndecoded), deja: String(r.alreadyDone) });
    return reply.code(303).redirect(`${back}?${q.toString()}#redecodage`);
  });
}
