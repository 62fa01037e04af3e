/**
 * Datacenter KPIs on a real InfluxDB 1.x: a fixed data set written as line protocol (PUE and monthly totals
 * computed by hand, across the October 2026 DST change), then the simulated town's server room end to end
 * (MQTT → service → InfluxDB → report, JSON and CSV through `veilleur report datacenter`).
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerApi } from '../../services/api/app.ts';
import { generateKey, KeyRing } from '../../services/api/keys.ts';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { reportCommand } from '../../services/cli/report.ts';
import { loadConfig } from '../../services/config/load.ts';
import { DATACENTER_ROLES, datacenterReport, monthlyTotals, type DatacenterReport, type EedExport } from '../../services/datacenter/kpi.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry } from '../../services/simulator/town.ts';
import { createInfluxTarget, type InfluxTarget } from '../../services/storage/influx.ts';
import { queryRows, ServiceProcess, startStack, waitFor, writeLines, type Stack } from './support.ts';

const ENERGY = QUANTITIES['metering.electricity.activeEnergy'];

let stack: Stack;
let influx: InfluxTarget;
beforeAll(async () => {
  stack = await startStack();
  influx = createInfluxTarget(loadConfig({ INFLUX_URL: stack.influx.url, INFLUX_DB: stack.db }).influx);
});
afterAll(async () => {
  await stack?.close();
});

/** One line-protocol point of the channel-less (or `channel`) energy index. */
function point(tags: Record<string, string>, wh: number, time: string): string {
  const t = Object.entries(tags).map(([k, v]) => `,${k}=${v}`).join('');
  return `${ENERGY.measurement}${t} ${ENERGY.field}=${wh} ${Date.parse(time)}`;
}

const write = (lines: string[]) => writeLines(stack, lines);

describe('datacenter KPIs on a fixed data set', () => {
  it('computes the PUE of the hand-made meters, ignoring tariff channels and other sites', async () => {
    const facility = { tenant: 'dc-test', site: 'dc-a', dev_eui: 'f000000000000001', device: 'general', role: DATACENTER_ROLES.facilityTotal };
    const it = { tenant: 'dc-test', site: 'dc-a', dev_eui: 'e000000000000001', device: 'baies', role: DATACENTER_ROLES.itLoad };
    await write([
      // Facility: 5,000,000 → 5,081,000 Wh = 81 kWh. IT: 2,000,000 → 2,050,000 Wh = 50 kWh. PUE = 81 / 50 = 1.62.
      point(facility, 5_000_000, '2026-05-31T23:50:00Z'),
      point(facility, 5_040_000, '2026-06-01T12:00:00Z'),
      point(facility, 5_081_000, '2026-06-01T23:50:00Z'),
      point(it, 2_000_000, '2026-05-31T23:50:00Z'),
      point(it, 2_024_000, '2026-06-01T12:00:00Z'),
      point(it, 2_050_000, '2026-06-01T23:50:00Z'),
      // Not to be counted: a tariff register of the facility meter, a later reading, another site.
      point({ ...facility, channel: 'HCHC' }, 9_000_000, '2026-06-01T00:10:00Z'),
      point({ ...facility, channel: 'HCHC' }, 9_900_000, '2026-06-01T23:00:00Z'),
      point(facility, 5_090_000, '2026-06-02T00:10:00Z'),
      point({ ...it, site: 'dc-z' }, 1_000, '2026-06-01T06:00:00Z'),
      point({ ...it, site: 'dc-z' }, 900_000, '2026-06-01T18:00:00Z'),
    ]);
    const r = await datacenterReport({ influx, tenant: 'dc-test', site: 'dc-a', from: new Date('2026-06-01T00:00:00Z'), to: new Date('2026-06-02T00:00:00Z'), category: 1 });
    expect(r.energyKwh).toEqual({ total: 81, it: 50 });
    expect(Math.abs(r.pue! / 1.62 - 1)).toBeLessThan(0.001);
    expect(r.dcie).toBeCloseTo(61.73, 2); // 100 / 1.62
    expect(r.kgCo2e.total).toBeCloseTo(81 * 0.0519, 3);
    expect(r).toMatchObject({ pueCategory: 'category 1 (UPS output)', interimPue: true, zone: null });
    expect(r.meters.map((m) => [m.device, m.role, m.kwh, m.readings])).toEqual([
      ['general', 'facility-total', 81, 2],
      ['baies', 'it-load', 50, 2],
    ]);
    expect(r.warnings).toEqual([]);
  });

  it('splits energy by local calendar month across the October 2026 DST change', async () => {
    const meter = { tenant: 'dc-test', site: 'dc-b', dev_eui: 'f000000000000002', device: 'general-b', role: DATACENTER_ROLES.facilityTotal };
    await write([
      point(meter, 1_000, '2026-09-30T21:30:00Z'), // 30 Sep 23:30 Paris (UTC+2)
      point(meter, 1_500, '2026-09-30T22:30:00Z'), // 1 Oct 00:30 Paris
      point(meter, 5_000, '2026-10-15T12:00:00Z'),
      point(meter, 9_000, '2026-10-31T22:30:00Z'), // 31 Oct 23:30 Paris (UTC+1 since 25 Oct)
      point(meter, 9_700, '2026-10-31T23:30:00Z'), // 1 Nov 00:30 Paris
      point(meter, 12_000, '2026-11-15T12:00:00Z'),
      point(meter, 14_000, '2026-11-30T22:30:00Z'), // 30 Nov 23:30 Paris
      point(meter, 14_500, '2026-11-30T23:30:00Z'), // 1 Dec 00:30 Paris: after the range
    ]);
    const months = await monthlyTotals({
      influx,
      tenant: 'dc-test',
      site: 'dc-b',
      role: DATACENTER_ROLES.facilityTotal,
      from: new Date('2026-09-01T00:00:00+02:00'),
      to: new Date('2026-12-01T00:00:00+01:00'),
    });
    // Boundary index = last reading before local midnight. Sep: one reading, 0. Oct: 1,000 → 9,000 Wh.
    // Nov: 9,000 → 14,000 Wh. (UTC months would give 8.2 and 4.8; a fixed +02:00 offset 3.5 and 9.5.)
    expect(months.map((m) => [m.month, m.from, m.kwh])).toEqual([
      ['2026-09', '2026-08-31T22:00:00.000Z', 0],
      ['2026-10', '2026-09-30T22:00:00.000Z', 8],
      ['2026-11', '2026-10-31T23:00:00.000Z', 5],
    ]);
  });

  it('serves calendar months and quarters of the site’s time zone through the API, with French warnings', async () => {
    const key = generateKey('dccal00001');
    const app = Fastify();
    try {
      await registerApi(app, {
        keys: new KeyRing([{ id: key.id, name: 'dc', role: 'viewer', tenants: ['dc-test'], hash: key.hash }]),
        influx,
        registry: townRegistry(),
        defaultTenant: 'default',
        options: { docsPublic: false, metricsPublic: false, rateLimitPerMinute: 1000, corsOrigins: [] },
      });
      const get = async (qs: string) => {
        const r = await app.inject({ url: `/api/v1/reports/datacenter?site=dc-b&${qs}`, headers: { authorization: `Bearer ${key.key}` } });
        expect(r.statusCode, qs).toBe(200);
        return r.json() as DatacenterReport;
      };
      // October in Paris: 1 Oct 00:00 +02:00 to 1 Nov 00:00 +01:00, 1,000 → 9,000 Wh, as monthlyTotals gives it.
      const october = await get('month=2026-10');
      expect([october.period, october.energyKwh.total]).toEqual([{ from: '2026-09-30T22:00:00.000Z', to: '2026-10-31T23:00:00.000Z' }, 8]);
      expect(october.warnings).toContain('aucun « Compteur des équipements informatiques » sur ce site : PUE, DCiE et parts ne peuvent pas être calculés');
      expect(october.warnings.join('\n')).toMatch(/catégorie de mesure du PUE non renseignée/);
      // The fourth quarter: 1,000 (30 Sep 23:30) → 14,500 Wh (1 Dec 00:30).
      const q4 = await get('quarter=2026-Q4&lang=en');
      // A quarter under way ends now (these tests may run before 2027), a past one at its last local midnight.
      const end = Date.parse('2026-12-31T23:00:00Z');
      if (Date.now() < end) expect(Date.now() - Date.parse(q4.period.to)).toBeLessThan(60_000);
      else expect(q4.period.to).toBe('2026-12-31T23:00:00.000Z');
      expect([q4.period.from, q4.energyKwh.total]).toEqual(['2026-09-30T22:00:00.000Z', 13.5]);
      expect(q4.warnings).toContain("no 'it-load' meter (IT equipment energy) for this site: PUE, DCiE and shares cannot be computed");
      // The meter's readings stop on 1 December 00:30 Paris: the warning gives their share of the quarter, in French.
      const q4fr = await get('period=quarter&quarter=2026-Q4');
      const from = Date.parse(q4fr.period.from);
      const share = Math.round(((Date.parse('2026-11-30T23:30:00Z') - from) / (Date.parse(q4fr.period.to) - from)) * 100);
      // The site's only meter: its energy is partial, there is no ratio it could distort.
      expect(q4fr.warnings).toContain(`general-b (Compteur général de la salle serveurs) : les relevés couvrent ${share} % de la période ; ses kWh et ses kgCO₂e sont partiels`);
      expect(q4fr.warnings.join('\n')).not.toMatch(/faussés/);
    } finally {
      await app.close();
    }
  });
});

describe("the simulated town's server room", () => {
  let service: ServiceProcess;
  afterAll(async () => {
    await service?.stop();
  });

  it('gives a PUE near 3,700 W / 2,100 W ≈ 1.76, in JSON and CSV', async () => {
    service = new ServiceProcess(stack, {}, townRegistry());
    await service.start();
    const start = new Date('2026-03-02T00:00:00Z');
    const end = new Date('2026-03-04T00:00:00Z');
    const sent = [...generateUplinks({ start, end, seed: 5 })];
    const sentBy = (role: string) => sent.filter((u) => u.devEui === TOWN.find((d) => d.role === role && d.zone === 'salle-serveur')!.devEui).length;
    await publishUplinks(sent, { url: stack.mqtt.url });
    const stored = async (role: string) =>
      Number(
        (await queryRows(stack.influx, stack.db, `SELECT count(${ENERGY.field}) FROM ${ENERGY.measurement} WHERE role = '${role}' AND "channel" = '' AND time >= '2026-03-02T00:00:00Z'`))[0]
          ?.count ?? 0,
      );
    await waitFor(
      async () => (await stored(DATACENTER_ROLES.itLoad)) >= sentBy(DATACENTER_ROLES.itLoad) && (await stored(DATACENTER_ROLES.facilityTotal)) >= sentBy(DATACENTER_ROLES.facilityTotal),
      60_000,
      'server-room meters',
    );

    // The command reads its configuration from the environment, as in production (empty = unset).
    const vars = { INFLUX_URL: stack.influx.url, INFLUX_DB: stack.db, VEILLEUR_CONFIG: '', INFLUX_TOKEN: '', INFLUX_ORG: '', INFLUX_BUCKET: '' };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const run = async (...extra: string[]) => {
      out.length = 0;
      const code = await reportCommand(['datacenter', '--tenant', 'saint-veilleur', '--site', 'mairie', '--zone', 'salle-serveur', '--category', '1', ...extra]);
      return { code, text: out.join('') };
    };
    const period = ['--from', start.toISOString(), '--to', end.toISOString()];
    let json: { code: number; text: string };
    let csv: { code: number; text: string };
    let eed: { code: number; text: string };
    try {
      json = await run(...period);
      csv = await run(...period, '--format', 'csv');
      eed = await run('--eed', '2026');
    } finally {
      spy.mockRestore();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }

    expect(json.code).toBe(0);
    const r = JSON.parse(json.text) as DatacenterReport;
    // 2 days at 3,700 W ≈ 177.6 kWh; at 2,100 W ≈ 100.8 kWh (less one reporting interval: the first reading is the baseline).
    expect(r.energyKwh.total!).toBeGreaterThan(170);
    expect(r.energyKwh.total!).toBeLessThan(185);
    expect(r.energyKwh.it!).toBeGreaterThan(96);
    expect(r.energyKwh.it!).toBeLessThan(105);
    expect(Math.abs(r.pue! / (3700 / 2100) - 1)).toBeLessThan(0.03);
    expect(r.dcie!).toBeCloseTo(100 / r.pue!, 1);
    expect(r).toMatchObject({ tenant: 'saint-veilleur', site: 'mairie', zone: 'salle-serveur', pueCategory: 'category 1 (UPS output)', interimPue: true });
    expect(r.meters.map((m) => m.device).sort()).toEqual(['Compteur général – salle serveur', 'Compteur informatique – salle serveur']);
    expect(r.warnings).toEqual([]);

    expect(csv.code).toBe(0);
    const rows = csv.text.trimEnd().split('\r\n').map((l) => l.split(','));
    const pueRow = rows.find((c) => c[5] === 'pue')!;
    expect(Number(pueRow[9])).toBe(r.pue);
    expect(rows.filter((c) => c[5] === 'meter_kwh')).toHaveLength(2);

    // The yearly EU export of 2026 (Paris calendar year) holds the same two days: same energies, annual PUE.
    expect(eed.code).toBe(0);
    const e = JSON.parse(eed.text) as EedExport;
    expect(e.period).toEqual({ from: '2025-12-31T23:00:00.000Z', to: '2026-12-31T23:00:00.000Z', timeZone: 'Europe/Paris' });
    expect(e.kpis.totalEnergyConsumptionKwh?.value).toBe(r.energyKwh.total);
    expect(e.kpis.itEnergyConsumptionKwh?.value).toBe(r.energyKwh.it);
    expect(e.indicators.pue?.value).toBe(r.pue);
    expect(e.kpis.totalWaterInputM3).toMatchObject({ value: null, source: 'not-measured' });
    // Two days of readings in a year, the same two days on both meters: the energies are not the year's, but the PUE
    // compares like with like and is not called distorted.
    expect(e.warnings.filter((w) => /cover/.test(w))).toEqual([
      'readings cover 1 % of the period, the same dates for every meter: the PUE, DCiE and shares are right over those dates; only the kWh and kgCO₂e are partial',
    ]);
    expect(e.warnings.join('\n')).not.toMatch(/distorted|biased/);
  }, 120_000);
});
