/**
 * Every panel query of every dashboard, run against a real InfluxDB filled by the real service with three days of
 * the simulated town, over the range Grafana would give it (the panel's own relative time and time shift
 * included). Plus what the town does not produce by itself: a flow meter decoded by an operator's codec, an
 * uplink no decoder knows, a malformed MQTT message, a day of the town one year earlier (for the panels shifted
 * by a year), and leak sensors that report water (the service opens W7 alerts, one of them resolved). Then the
 * service is restarted with a `retention:` section and computes its hourly and daily rollups over all of it, which
 * the long-range panels read. Each query must return at least one non-null value, and the rollup panels must give
 * the same figures as the raw-data queries they stand for.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { degreeDays } from '../../dashboards/building-energy.ts';
import { VARIABLE_QUERIES } from '../../dashboards/common.ts';
import { DASHBOARDS } from '../../dashboards/index.ts';
import { consumption, render, scope, TIME_ZONE, type SelectQuery } from '../../dashboards/influxql.ts';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { ROLES } from '../../decoders/model/roles.ts';
import type { FileConfig } from '../../services/config/schema.ts';
import { retentionSchema } from '../../services/retention/config.ts';
import { firstPeriodAt, readCheckpoint } from '../../services/rollups/rollup.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import { generateUplinks, type SimUplink } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { queryRows, ServiceProcess, startStack, waitFor, type Stack } from '../integration/support.ts';
import { panelQueries, panelRange, startOfLocalMonth, substitute, type Range } from './support.ts';

let stack: Stack;
let service: ServiceProcess;
let config: FileConfig;

const FLOW_CODEC = `function decodeUplink(input) {
  var b = input.bytes;
  if (input.fPort !== 8 || b.length !== 2) return { errors: ['expected fPort 8 and 2 bytes'] };
  return { data: { flow_l_h: b[0] | (b[1] << 8) }, warnings: [] };
}
`;

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
  const codec = join(stack.dir, 'flow-ts013.js');
  writeFileSync(codec, FLOW_CODEC);
  config = {
    ...townRegistry(),
    codecs: [{ name: 'flow', file: codec, profiles: ['Flow meter v1'], timeoutMs: 200, memoryMb: 32, readings: [{ field: 'flow_l_h', quantity: 'water.flow', scale: 1 }] }],
  };
  // No `retention:` yet, so no rollups while the readings arrive (see the restart below).
  service = new ServiceProcess(stack, {}, config);
  await service.start();
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

describe('dashboard panels on real data', () => {
  it('every panel query returns data from InfluxDB', async () => {
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
    // What the town lacks: a flow meter (operator's codec), a device without decoder, a message that is not JSON.
    const flow = testDevice('debitmetre-reseau', '1122334455660001', 'Flow meter v1');
    const unknown = testDevice('capteur-inconnu', '1122334455660002', 'Unknown profile');
    const extra = [
      ...Array.from({ length: 12 }, (_, i) => uplink(flow, i + 1, 8, [(200 + i * 10) & 0xff, 0], new Date(end.getTime() - (12 - i) * 3600e3))),
      ...Array.from({ length: 3 }, (_, i) => uplink(unknown, i + 1, 3, [1, 2, 3], new Date(end.getTime() - (3 - i) * 3600e3))),
    ];
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
    for (const q of queries) {
      panels.add(`${q.dashboard} / ${q.panel}`);
      const sql = substitute(q.query, panelRange(q, now));
      try {
        const res = await stack.influx.query(sql, stack.db);
        const series = res.results?.[0]?.series ?? [];
        const values = series.flatMap((s) => s.values.flatMap((row) => row.slice(1))).filter((v) => v !== null);
        if (series.length === 0 || values.length === 0) failures.push(`${q.dashboard} / ${q.panel} / ${q.refId}: no data for ${sql}`);
        rowsOf[`${q.panel} / ${q.refId}`] = series.flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
      } catch (e) {
        failures.push(`${q.dashboard} / ${q.panel} / ${q.refId}: ${(e as Error).message}`);
      }
    }
    const dashboardRange = panelRange({}, now);
    for (const [name, q] of Object.entries(VARIABLE_QUERIES)) {
      const values = (await stack.influx.query(substitute(q, dashboardRange), stack.db)).results?.[0]?.series?.[0]?.values ?? [];
      if (values.length === 0) failures.push(`variable ${name}: no values for ${substitute(q, dashboardRange)}`);
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
