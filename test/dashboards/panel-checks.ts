/**
 * The body of the dashboard panel suites, shared by the one that runs here (panels.test.ts: InfluxDB 1.x, queries
 * sent as Grafana's datasource sends them) and the one that runs wherever a Docker engine exists
 * (test/containers/grafana-influx.test.ts: InfluxDB 2.7 and 3 Core, queries sent through Grafana 12's own query
 * API): the same simulated town published to the real service, the same rollups, every panel's queries run with
 * the same expectations; only the way a query reaches the database differs (`RunQuery`).
 */
import type { DataTransformerConfig } from '@grafana/grafana-foundation-sdk/dashboard';
import mqtt from 'mqtt';
import { expect } from 'vitest';
import { DASHBOARDS } from '../../dashboards/index.ts';
import { LANGS } from '../../dashboards/i18n.ts';
import { TIME_ZONE, type InfluxQLDataquery } from '../../dashboards/influxql.ts';
import { localTime } from '../../services/time/calendar.ts';
import { retentionSchema } from '../../services/retention/config.ts';
import { firstPeriodAt, readCheckpoint } from '../../services/rollups/rollup.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import { generateUplinks, type SimUplink } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, type SimDevice } from '../../services/simulator/town.ts';
import type { InfluxTarget } from '../../services/storage/influx.ts';
import { waitFor } from '../integration/support.ts';
import { applyTransformations, framesOf, unitOf, type Frame } from './grafana.ts';
import { panelQueries, panelRange, startOfLocalMonth, substitute, type PanelQuery, type Range } from './support.ts';

export type Series = { name?: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] };

/** Queries of devices a town may not have: the panel shows the other queries' series meanwhile. */
export const FOR_DEVICES_THE_TOWN_LACKS = new Set(['Débit / A']);

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

export interface PublishedTown {
  end: Date;
  /** Every panel query of every dashboard (French: the same statements as in English). */
  queries: PanelQuery[];
  earlier: SimUplink[];
  town: SimUplink[];
  /** The device no decoder knows. */
  unknown: SimDevice;
  /** Uplinks published in all (the malformed message aside). */
  expected: number;
}

/**
 * Publishes three days of the town, a day of it one year earlier for the panels shifted by a year, uplinks no
 * decoder knows, a malformed message and leak reports, then waits until the service has stored them all (`count`:
 * the first row's `count` of an InfluxQL statement on the service's database).
 */
export async function publishTown(mqttUrl: string, count: (q: string) => Promise<number>): Promise<PublishedTown> {
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
  await publishUplinks([...earlier, ...town, ...extra, ...leaks], { url: mqttUrl });
  const client = await mqtt.connectAsync(mqttUrl);
  await client.publishAsync(town[0]!.topic, '{"not": json', { qos: 1 });
  await client.endAsync();

  const expected = earlier.length + town.length + extra.length + leaks.length;
  await waitFor(
    async () =>
      (await count('SELECT count(f_cnt) FROM uplink')) >= expected &&
      (await count('SELECT count(message_bytes) FROM uplink_rejected')) >= 1 &&
      (await count('SELECT count(alert_id) FROM alert_event')) >= 3,
    90_000,
    'uplinks and alert events stored',
  );
  return { end, queries, earlier, town, unknown, expected };
}

/**
 * The `retention:` section the service is restarted with once every reading is stored. Its first round catches up
 * from the oldest reading (a year back) to the last complete hour and day; started with the readings still
 * arriving, it would checkpoint periods before their readings are in, and never compute them again. Raw data kept
 * forever, so that the readings of a year ago are still there to roll up (with 90 days InfluxDB would refuse
 * them); no lag, so that the last complete hour and day count; the year in one round.
 */
export const rollupsRetention = () => retentionSchema.parse({ raw: 'inf', rollups: { timeZone: TIME_ZONE, lagMinutes: 0, maxPeriodsPerRound: 10_000 } });

/** Waits until the restarted service has rolled up every complete hour and day before its restart. */
export async function waitForRollups(influx: InfluxTarget, restarted: number): Promise<void> {
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
}

/**
 * How one panel query reaches the database: `sql` is the statement with Grafana's substitutions made (time filter,
 * interval, every variable on "All"); `q` and `range` are what Grafana itself takes, to make them on its side.
 */
export type RunQuery = (sql: string, q: PanelQuery, range: Range) => Promise<Series[]>;

export interface PanelAnswers {
  failures: string[];
  /** `dashboard / panel` of every panel queried. */
  panels: Set<string>;
  /** The series of each substituted statement. */
  seriesOf: Map<string, Series[]>;
  /** The rows of each query, by `panel / refId`. */
  rowsOf: Record<string, Record<string, unknown>[]>;
}

/** Runs every panel query over the range Grafana gives it as of `now`: each must return a non-null value. */
export async function queryEveryPanel(queries: readonly PanelQuery[], now: Date, run: RunQuery): Promise<PanelAnswers> {
  const failures: string[] = [];
  const rowsOf: Record<string, Record<string, unknown>[]> = {};
  const panels = new Set<string>();
  const seriesOf = new Map<string, Series[]>();
  for (const q of queries) {
    panels.add(`${q.dashboard} / ${q.panel}`);
    const range = panelRange(q, now);
    const sql = substitute(q.query, range);
    try {
      const series = await run(sql, q, range);
      seriesOf.set(sql, series);
      const values = series.flatMap((s) => s.values.flatMap((row) => row.slice(1))).filter((v) => v !== null);
      if ((series.length === 0 || values.length === 0) && !FOR_DEVICES_THE_TOWN_LACKS.has(`${q.panel} / ${q.refId}`)) failures.push(`${q.dashboard} / ${q.panel} / ${q.refId}: no data for ${sql}`);
      rowsOf[`${q.panel} / ${q.refId}`] = series.flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
    } catch (e) {
      failures.push(`${q.dashboard} / ${q.panel} / ${q.refId}: ${(e as Error).message}`);
    }
  }
  return { failures, panels, seriesOf, rowsOf };
}

/**
 * What each panel shows, in both languages: its queries' series (from `queryEveryPanel`) through its
 * transformations as Grafana applies them, within bounds. Returns the problems and the number of panels checked.
 */
export function checkEveryPanel(seriesOf: ReadonlyMap<string, Series[]>, now: Date, published: Pick<PublishedTown, 'earlier' | 'town'>): { failures: string[]; shown: number } {
  const failures: string[] = [];
  const monthsWithData = new Set([...published.earlier, ...published.town].map((u) => localTime(u.time, TIME_ZONE).date.slice(0, 7)));
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
  return { failures, shown };
}
