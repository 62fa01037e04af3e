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
 * The town, the rollups and the per-panel checks are shared with the suite on InfluxDB 2.7 and 3 Core through
 * Grafana 12 (test/dashboards/panel-checks.ts, test/containers/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { degreeDays } from '../../dashboards/building-energy.ts';
import { VARIABLE_QUERIES } from '../../dashboards/common.ts';
import { DASHBOARDS } from '../../dashboards/index.ts';
import { consumption, render, scope, type SelectQuery } from '../../dashboards/influxql.ts';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { ROLES } from '../../decoders/model/roles.ts';
import type { FileConfig } from '../../services/config/schema.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { queryRows, ServiceProcess, startStack, type Stack } from '../integration/support.ts';
import { checkEveryPanel, publishTown, queryEveryPanel, rollupsRetention, waitForRollups } from './panel-checks.ts';
import { panelRange, substitute } from './support.ts';

let stack: Stack;
let service: ServiceProcess;
let config: FileConfig;

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
    const published = await publishTown(stack.mqtt.url, async (q) => Number((await queryRows(stack.influx, stack.db, q))[0]?.count ?? 0));
    const { end, queries, unknown, expected } = published;

    // The rollups: the service restarted with a `retention:` section once every reading is stored (see
    // rollupsRetention for why only then).
    await service.stop();
    service = new ServiceProcess(stack, {}, { ...config, retention: rollupsRetention() });
    const restarted = Date.now();
    await service.start();
    await waitForRollups(createInfluxTarget({ api: 'v1', url: stack.influx.url, db: stack.db, timeoutMs: 10_000 }), restarted);

    // Grafana's "now" is when the dashboard is read: after everything was stored (the rejected message is stamped
    // with its reception time).
    const now = new Date(Math.max(Date.now(), end.getTime()));
    const rows = async (sql: string) =>
      ((await stack.influx.query(sql, stack.db)).results?.[0]?.series ?? []).flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
    // Every query as Grafana's datasource sends it to InfluxDB 1.x, then what each panel shows, in both languages:
    // its queries' frames through its transformations, within bounds.
    const { failures, panels, rowsOf, seriesOf } = await queryEveryPanel(queries, now, async (sql) => (await stack.influx.query(sql, stack.db)).results?.[0]?.series ?? []);
    const shown = checkEveryPanel(seriesOf, now, published);
    failures.push(...shown.failures);
    expect(shown.shown).toBeGreaterThanOrEqual(2 * 34);
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
      const own = new Set([...TOWN, unknown].filter((d) => tenantOf(d) === tenant).flatMap((d) => [d.label ?? d.name, d.site, d.building ?? d.site]));
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
    expect(open).toContain('W7 Détecteur de fuite – chaufferie');
    expect(open).not.toContain('W7 Détecteur de fuite – salle serveur');

    // Indoor temperature and CO₂: the rooms and nothing else (no meter, leak sensor, server-room or outdoor probe).
    const rooms = TOWN.filter((d) => d.role === ROLES.room).map((d) => d.label ?? d.name);
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
