/**
 * Every panel of every dashboard, in both languages, on a real InfluxDB filled by the real service with three days
 * of the simulated town, over the range Grafana would give it (the panel's own relative time and time shift
 * included). The town's own devices must feed every panel (meters that report an index and no flow included);
 * added only what a town does not do by itself: an uplink no decoder knows and a malformed MQTT message (the
 * undecodable-messages panel), a day of the town one year earlier (the panels shifted by a year), and leak sensors
 * that report water (the service opens W7 alerts, one of them resolved). Then the service is restarted with a
 * `retention:` section and computes its hourly and daily rollups, which the long-range panels read.
 *
 * Each query must return at least one non-null value; each panel, once its transformations are applied as Grafana
 * applies them (test/dashboards/grafana.ts), must show data within bounds: no NaN or infinite value, PUE ≥ 1, no
 * negative energy, volume, flow or emissions, humidity and shares within 0–100 %. The rollup panels must give the
 * same figures as the raw-data queries they stand for, and a commune's selection must show only its own data.
 */
import type { Dashboard, DataTransformerConfig } from '@grafana/grafana-foundation-sdk/dashboard';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { degreeDays } from '../../dashboards/building-energy.ts';
import { VARIABLE_QUERIES } from '../../dashboards/common.ts';
import { LANGS } from '../../dashboards/i18n.ts';
import { DASHBOARDS } from '../../dashboards/index.ts';
import { consumption, render, scope, TIME_ZONE, type InfluxQLDataquery, type SelectQuery } from '../../dashboards/influxql.ts';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { ROLES } from '../../decoders/model/roles.ts';
import type { FileConfig } from '../../services/config/schema.ts';
import { retentionSchema } from '../../services/retention/config.ts';
import { localTime } from '../../services/alerts/calendar.ts';
import { firstPeriodAt, readCheckpoint } from '../../services/rollups/rollup.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import { generateUplinks, type SimUplink } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { queryRows, ServiceProcess, startStack, waitFor, type Stack } from '../integration/support.ts';
import { applyTransformations, framesOf, unitOf, type Frame } from './grafana.ts';
import { panelQueries, panelRange, startOfLocalMonth, substitute, type Range } from './support.ts';

type Series = { name?: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] };

/** Queries of devices a town may not have: the panel shows the other queries' series meanwhile. */
const FOR_DEVICES_THE_TOWN_LACKS = new Set(['Débit / A']);

interface ShownPanel {
  title?: string;
  type?: string;
  targets?: InfluxQLDataquery[];
  transformations?: DataTransformerConfig[];
  timeFrom?: string;
  timeShift?: string;
  fieldConfig?: Parameters<typeof unitOf>[0]['fieldConfig'];
}

/** Bounds of what a field may show, by the unit Grafana shows it with (or its name, for the PUE). */
function bounds(unit: string | undefined, name: string): { min?: number; max?: number } {
  if (name === 'PUE') return { min: 1 };
  switch (unit) {
    case 'watth':
    case 'watt':
    case 'litre':
    case 'litreh':
    case 'suffix: kgCO₂e':
      return { min: 0 };
    case 'percent':
      return { min: 0, max: 100 };
    case 'percentunit':
      return { min: 0, max: 1 };
    default:
      return {};
  }
}

/**
 * What is wrong with what a panel shows: nothing at all (or something where nothing may show), NaN or infinite
 * values, values out of their bounds, months without any reading in a monthly table.
 */
function checkShown(where: string, panel: ShownPanel, frames: Frame[], monthsWithData: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  // Monthly tables ("Format time" YYYY-MM): a month shows only if something was measured in it, never as 0.
  if (panel.transformations?.some((t) => t.id === 'formatTime' && (t.options as { outputFormat?: string }).outputFormat === 'YYYY-MM')) {
    const months = frames.flatMap((f) => f.fields.filter((x) => /^(Mois|Month)$/.test(x.name)).flatMap((x) => x.values));
    if (months.length === 0) problems.push(`${where}: no month column`);
    for (const m of months) if (!monthsWithData.has(String(m))) problems.push(`${where}: month ${String(m)} without any reading is shown`);
  }
  let values = 0;
  for (const f of frames) {
    for (const field of f.fields) {
      if (field.name === 'Time') continue;
      const { min, max } = bounds(unitOf(panel, field.name), field.name);
      for (const v of field.values) {
        if (v === null) continue;
        values++;
        if (typeof v !== 'number') continue;
        if (!Number.isFinite(v)) problems.push(`${where} / ${field.name}: ${v}`);
        else if ((min !== undefined && v < min - 1e-9) || (max !== undefined && v > max + 1e-9)) problems.push(`${where} / ${field.name}: ${v} outside [${min ?? '−∞'}, ${max ?? '∞'}]`);
      }
    }
  }
  if (SHOWS_NOTHING_ON_THE_TOWN.has(panel.title ?? '')) {
    if (values > 0) problems.push(`${where}: shows ${values} values where the town has nothing to show`);
  } else if (values === 0) problems.push(`${where}: shows nothing`);
  return [...new Set(problems)].slice(0, 5);
}

/**
 * Panels the town legitimately leaves empty: its only district inflow meter (the syndicate's reservoir) feeds
 * another commune's buildings, and a balance is never computed across communes (tested on frames of its own in
 * transformations.test.ts).
 */
const SHOWS_NOTHING_ON_THE_TOWN = new Set(['Bilan de secteur par site (entrée − compteurs desservis)', 'District balance per site (inflow − metered)']);

let stack: Stack;
let service: ServiceProcess;
let config: FileConfig;

const testDevice = (name: string, devEui: string, profile: string): SimDevice => ({
  devEui, name, profile, lns: 'chirpstack-v4', lnsTenant: 'Commune de Saint-Veilleur', application: 'eau-reseau', decoder: 'none', site: 'reseau',
  intervalS: 3600, initial: {}, behaviour: () => () => undefined,
});

function uplink(d: SimDevice, fCnt: number, fPort: number, bytes: number[], t: Date): SimUplink {
  const m = chirpstackV4Up(d, fCnt, { fPort, bytes: Uint8Array.from(bytes) }, t, { rssi: -95, snr: 3, spreadingFactor: 9, gateways: 1 });
  return { ...m, devEui: d.devEui, fCnt, time: t };
}

/** A town leak sensor's report, wet or dry, at `t`. */
function leakReport(name: string, fCnt: number, leak: boolean, t: Date): SimUplink {
  const d = TOWN.find((x) => x.name === name)!;
  const frame = frameBuilders[d.decoder]!.build({ leak, temperatureC: 17, humidityPct: 50, batteryPct: 88, batteryV: 3.6 }, t);
  return { ...chirpstackV4Up(d, fCnt, frame, t, { rssi: -80, snr: 7, spreadingFactor: 8, gateways: 1 }), devEui: d.devEui, fCnt, time: t };
}

/**
 * Where the simulated data end: now, except in the first two hours of a month, when "this month so far" would
 * hold too few meter readings to difference (in Grafana as here): then two hours into the month, a little in the
 * future (InfluxDB stores future points; the panels are then queried as of that time).
 */
function dataEnd(real: Date): Date {
  return new Date(Math.max(real.getTime(), startOfLocalMonth(real).getTime() + 2 * 3_600_000));
}

beforeAll(async () => {
  stack = await startStack();
  config = townRegistry();
  // No `retention:` yet, so no rollups while the readings arrive (see the restart below).
  service = new ServiceProcess(stack, {}, config);
  await service.start();
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

describe('dashboard panels on real data', () => {
  it('every panel shows the town data within bounds, in both languages, and one commune only its own', async () => {
    const end = dataEnd(new Date());
    const start = new Date(end.getTime() - 3 * 86400e3);
    const town = [...generateUplinks({ start, end, seed: 1 })];
    const queries = DASHBOARDS.flatMap((d) => panelQueries(d.build('fr')));
    // Panels shifted back (same month last year): the town replayed over the last day of each shifted range,
    // with frame counters of its own so that no (DevEUI, fCnt) repeats.
    const shifted = new Map<string, Range>();
    for (const q of queries.filter((x) => x.timeShift)) {
      const r = panelRange(q, end);
      shifted.set(`${r.from.getTime()}-${r.to.getTime()}`, r);
    }
    const earlier = [...shifted.values()].flatMap((r, i) =>
      [...generateUplinks({ start: new Date(Math.max(r.from.getTime(), r.to.getTime() - 86400e3)), end: r.to, seed: 2 + i, firstFCnt: 1_000_000 * (i + 1) })],
    );
    expect(earlier.length).toBeGreaterThan(0);
    // What a town does not do by itself: a device without decoder, a message that is not JSON. No flow meter: the
    // flow panel must work on the index meters communes have.
    const unknown = testDevice('capteur-inconnu', '1122334455660002', 'Unknown profile');
    const extra = Array.from({ length: 3 }, (_, i) => uplink(unknown, i + 1, 3, [1, 2, 3], new Date(end.getTime() - (3 - i) * 3600e3)));
    // Sent after the town, so that no later dry report of the town clears them: the boiler-room sensor stays wet
    // (W7 open), the server-room one dries up (W7 resolved).
    const leaks = [
      leakReport('fuite-salle-serveur', 2_000_000, true, new Date(end.getTime() - 20 * 60_000)),
      leakReport('fuite-salle-serveur', 2_000_001, false, new Date(end.getTime() - 10 * 60_000)),
      leakReport('fuite-chaufferie-mairie', 2_000_000, true, end),
    ];
    await publishUplinks([...earlier, ...town, ...extra, ...leaks], { url: stack.mqtt.url });
    const client = await mqtt.connectAsync(stack.mqtt.url);
    await client.publishAsync(town[0]!.topic, '{"not": json', { qos: 1 });
    await client.endAsync();

    const expected = earlier.length + town.length + extra.length + leaks.length;
    const count = async (q: string) => Number((await queryRows(stack.influx, stack.db, q))[0]?.count ?? 0);
    await waitFor(
      async () =>
        (await count('SELECT count(f_cnt) FROM uplink')) >= expected &&
        (await count('SELECT count(message_bytes) FROM uplink_rejected')) >= 1 &&
        (await count('SELECT count(alert_id) FROM alert_event')) >= 3,
      90_000,
      'uplinks and alert events stored',
    );

    // The rollups: the service restarted with a `retention:` section once every reading is stored. Its first round
    // catches up from the oldest reading (a year back) to the last complete hour and day; started with the readings
    // still arriving, it would checkpoint periods before their readings are in, and never compute them again. Raw
    // data kept forever, so that the readings of a year ago are still there to roll up (with 90 days InfluxDB
    // would refuse them); no lag, so that the last complete hour and day count; the year in one round.
    await service.stop();
    service = new ServiceProcess(stack, {}, { ...config, retention: retentionSchema.parse({ raw: 'inf', rollups: { timeZone: TIME_ZONE, lagMinutes: 0, maxPeriodsPerRound: 10_000 } }) });
    const restarted = Date.now();
    await service.start();
    const influx = createInfluxTarget({ api: 'v1', url: stack.influx.url, db: stack.db, timeoutMs: 10_000 });
    const doneUntil = async (resolution: '1h' | '1d', zone: string) => {
      try {
        return (await readCheckpoint(influx, resolution, zone)) ?? 0;
      } catch {
        return 0; // its retention policy is not created yet
      }
    };
    await waitFor(
      async () => (await doneUntil('1h', 'UTC')) >= firstPeriodAt('1h', 'UTC', restarted).start && (await doneUntil('1d', TIME_ZONE)) >= firstPeriodAt('1d', TIME_ZONE, restarted).start,
      120_000,
      'hourly and daily rollups up to the restart',
    );

    // Grafana's "now" is when the dashboard is read: after everything was stored (the rejected message is stamped
    // with its reception time).
    const now = new Date(Math.max(Date.now(), end.getTime()));
    const rows = async (sql: string) =>
      ((await stack.influx.query(sql, stack.db)).results?.[0]?.series ?? []).flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
    const failures: string[] = [];
    const rowsOf: Record<string, Record<string, unknown>[]> = {};
    const panels = new Set<string>();
    const seriesOf = new Map<string, Series[]>();
    for (const q of queries) {
      panels.add(`${q.dashboard} / ${q.panel}`);
      const sql = substitute(q.query, panelRange(q, now));
      try {
        const res = await stack.influx.query(sql, stack.db);
        const series = res.results?.[0]?.series ?? [];
        seriesOf.set(sql, series);
        const values = series.flatMap((s) => s.values.flatMap((row) => row.slice(1))).filter((v) => v !== null);
        if ((series.length === 0 || values.length === 0) && !FOR_DEVICES_THE_TOWN_LACKS.has(`${q.panel} / ${q.refId}`)) failures.push(`${q.dashboard} / ${q.panel} / ${q.refId}: no data for ${sql}`);
        rowsOf[`${q.panel} / ${q.refId}`] = series.flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
      } catch (e) {
        failures.push(`${q.dashboard} / ${q.panel} / ${q.refId}: ${(e as Error).message}`);
      }
    }

    // What each panel shows, in both languages: its queries' frames through its transformations, within bounds.
    const monthsWithData = new Set([...earlier, ...town].map((u) => localTime(u.time, TIME_ZONE).date.slice(0, 7)));
    let shown = 0;
    for (const d of DASHBOARDS) {
      for (const lang of LANGS) {
        const dash = d.build(lang);
        for (const panel of (dash.panels ?? []) as ShownPanel[]) {
          const frames = (panel.targets ?? []).flatMap((t) => framesOf(t.refId, t.resultFormat, seriesOf.get(substitute(t.query, panelRange({ ...(panel.timeFrom ? { timeFrom: panel.timeFrom } : {}), ...(panel.timeShift ? { timeShift: panel.timeShift } : {}) }, now))) ?? []));
          const where = `${dash.title} / ${panel.title}`;
          let result: Frame[];
          try {
            result = applyTransformations(frames, panel.transformations);
          } catch (e) {
            failures.push(`${where}: ${(e as Error).message}`);
            continue;
          }
          failures.push(...checkShown(where, panel, result, monthsWithData));
          shown++;
        }
      }
    }
    expect(shown).toBeGreaterThanOrEqual(2 * 34);
    const dashboardRange = panelRange({}, now);
    for (const [name, q] of Object.entries(VARIABLE_QUERIES)) {
      const values = (await stack.influx.query(substitute(q, dashboardRange), stack.db)).results?.[0]?.series?.[0]?.values ?? [];
      if (values.length === 0) failures.push(`variable ${name}: no values for ${substitute(q, dashboardRange)}`);
    }

    // One commune's view: with "Collectivité" on one commune, no query returns another commune's devices, sites or
    // buildings, and rejected messages (which belong to no commune) do not show.
    const registry = townRegistry();
    const tenantOf = (d: SimDevice) => registry.tenants.find((t) => t.lnsTenants?.includes(d.lnsTenant))?.id;
    for (const tenant of registry.tenants.map((t) => t.id)) {
      const own = new Set([...TOWN, unknown].filter((d) => tenantOf(d) === tenant).flatMap((d) => [d.name, d.site, d.building ?? d.site]));
      expect(own.size).toBeGreaterThan(2);
      for (const q of queries) {
        const sql = substitute(q.query, panelRange(q, now), { tenant });
        for (const s of (await stack.influx.query(sql, stack.db)).results?.[0]?.series ?? []) {
          const seen = [
            ...Object.entries(s.tags ?? {}),
            ...s.values.flatMap((row) => s.columns.map((c, i) => [c, row[i]] as [string, unknown])),
          ].filter(([k, v]) => ['device', 'site', 'building', 'tenant'].includes(k) && v !== null && v !== '');
          for (const [k, v] of seen) if (k === 'tenant' ? v !== tenant : !own.has(String(v))) failures.push(`${q.panel} / ${q.refId} for ${tenant}: ${k} ${String(v)} of another commune`);
          if (s.name === 'uplink_rejected') failures.push(`${q.panel} / ${q.refId} for ${tenant}: rejected messages, which belong to no commune`);
        }
      }
    }

    const fromRollups = queries.filter((q) => /FROM "rollup_1[hd]"\./.test(q.query)).length;
    console.log(`[dashboards] ${DASHBOARDS.length} dashboards, ${panels.size} panels, ${queries.length} queries (${fromRollups} on rollups) checked on ${expected} uplinks`);
    expect(failures).toEqual([]);
    expect(panels.size).toBeGreaterThanOrEqual(34);
    expect(fromRollups).toBeGreaterThanOrEqual(15);

    // Daily panels on the rollups give, for every day they show, what the raw-data query they replaced gives for
    // that day: same meters (channel-less, role), same local days, same differences (the first one of a day taken
    // from the day before's last reading).
    const sameDays = async (panel: string, column: string, tag: string, raw: SelectQuery) => {
      const rawRows = await rows(substitute(render(raw), dashboardRange));
      const byKey = new Map(rawRows.map((r) => [`${String(r[tag])} ${String(r.time)}`, r[column]]));
      const daily = (rowsOf[panel] ?? []).filter((r) => r[column] !== null);
      for (const r of daily) expect(byKey.get(`${String(r[tag])} ${String(r.time)}`), `${panel}: ${String(r[tag])} ${new Date(Number(r.time)).toISOString()}`).toBeCloseTo(Number(r[column]), 3);
      return new Set(daily.map((r) => r.time)).size;
    };
    const water = QUANTITIES['metering.water.total'];
    const energy = QUANTITIES['metering.electricity.activeEnergy'];
    const ALL = scope('tenant', 'site', 'device');
    // Three days of data: at least the two whole days before today.
    expect(await sameDays('Volume journalier par compteur / A', 'sum', 'device', consumption({ measurement: water.measurement, field: water.field, where: ALL, interval: '1d', groupBy: ['device'] }))).toBeGreaterThanOrEqual(2);
    expect(
      await sameDays(
        'Énergie par jour et par bâtiment / A',
        'energy_wh',
        'building',
        consumption({ measurement: energy.measurement, field: energy.field, where: [...ALL, { tag: 'role', equals: ROLES.buildingMain }], interval: '1d', groupBy: ['building'], as: 'energy_wh' }),
      ),
    ).toBeGreaterThanOrEqual(2);

    // Same month last year (hourly rollups) measures what "This month so far" (raw readings) measures: over last
    // year's range, both give the same energies and emissions (the readings of a year ago end at that range's end).
    const lastYear = queries.filter((q) => q.timeShift);
    expect(lastYear.map((q) => q.refId)).toEqual(['A', 'B', 'C']);
    for (const q of lastYear) {
      const thisMonth = queries.find((x) => x.timeFrom === q.timeFrom && !x.timeShift && x.refId === q.refId)!;
      const range = panelRange(q, now);
      const [fromRaw] = await rows(substitute(thisMonth.query, range));
      const [fromHours] = await rows(substitute(q.query, range));
      const column = Object.keys(fromHours ?? {}).find((c) => c !== 'time')!;
      expect(Number(fromHours?.[column]), `${q.panel} / ${q.refId}`).toBeGreaterThan(0);
      expect(Number(fromHours?.[column]), `${q.panel} / ${q.refId}`).toBeCloseTo(Number(fromRaw?.[column]), 3);
    }

    // The open-alerts table keeps each alert's latest event when it is not a resolution (Grafana "Group by" and
    // "Filter data by values"); the rows it gets must allow that: the boiler room's W7 stays, the server room's
    // resolved one goes. (The service's windowed rules may also have opened W1 for the gymnasium by then.)
    const alertRows = rowsOf['Alertes eau en cours / A'] ?? [];
    const latest = new Map<unknown, Record<string, unknown>>();
    for (const row of alertRows) latest.set(row.alert_id, row);
    const open = [...latest.values()].filter((r) => r.state !== 'resolved').map((r) => `${r.rule} ${r.device}`);
    expect(alertRows.filter((r) => r.rule === 'W7')).toHaveLength(3);
    expect(open).toContain('W7 fuite-chaufferie-mairie');
    expect(open).not.toContain('W7 fuite-salle-serveur');

    // Indoor temperature and CO₂: the rooms and nothing else (no meter, leak sensor, server-room or outdoor probe).
    const rooms = TOWN.filter((d) => d.role === ROLES.room).map((d) => d.name);
    for (const panel of ['Température intérieure / A', 'CO₂ / A']) {
      const devices = [...new Set((rowsOf[panel] ?? []).map((r) => String(r.device)))];
      expect(devices.length, panel).toBeGreaterThan(0);
      for (const d of devices) expect(rooms, `${panel}: ${d}`).toContain(d);
    }
    expect(new Set((rowsOf['Température intérieure / A'] ?? []).map((r) => r.device))).toEqual(new Set(rooms));

    // Degree-days over three days (three or four local days, the first and last partial) of the town's 2–12 °C
    // winter: each day between 18 − 12.5 and 18 − 1.5, for both heated sites and only them.
    const perSite = (await stack.influx.query(substitute(render(degreeDays()), dashboardRange), stack.db)).results?.[0]?.series ?? [];
    expect(perSite.map((s) => s.tags?.site).sort()).toEqual(['ecole-jaures', 'mairie']);
    for (const s of perSite) {
      const days = s.values.map((v) => Number(v[s.columns.indexOf('dju')]));
      expect(days.length, s.tags?.site).toBeGreaterThanOrEqual(3);
      for (const d of days) {
        expect(d, s.tags?.site).toBeGreaterThan(18 - 12.5);
        expect(d, s.tags?.site).toBeLessThan(18 - 1.5);
      }
    }
  }, 180_000);
});
