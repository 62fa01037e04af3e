/**
 * Governance reports end to end: three days of the simulated town (plus one sensor set to talk every 2 minutes)
 * go through MQTT, the service and a real InfluxDB; leak alerts are written as alert_event fixtures. The parsimony
 * and yearly reports are checked against figures computed by hand from what was sent and stored, through the
 * functions, the CLI and the HTTP route; then the HTML report is rendered by a real headless Chromium and the
 * screenshot is decoded to prove that each chart is on it, in its colours, in the order of the document.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../services/alerts/model.ts';
import { alertEventLine } from '../../services/alerts/store.ts';
import { registerApi } from '../../services/api/app.ts';
import { generateKey, KeyRing } from '../../services/api/keys.ts';
import { reportCommand } from '../../services/cli/report.ts';
import { loraAirtimeMs } from '../../services/radio/airtime.ts';
import { PARSIMONY_CSV_COLUMNS, YEARLY_CSV_COLUMNS } from '../../services/reports/csv.ts';
import { renderYearlyHtml } from '../../services/reports/html.ts';
import { parsimonyReport, yearlyReport } from '../../services/reports/read.ts';
import { reportsConfigSchema } from '../../services/reports/config.ts';
import { CHART_COLORS } from '../../services/reports/svg.ts';
import type { ParsimonyReport } from '../../services/reports/parsimony.ts';
import type { YearlyReport } from '../../services/reports/yearly.ts';
import { generateUplinks, type SimUplink } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { createInfluxTarget, type InfluxTarget } from '../../services/storage/influx.ts';
import { countPoints, queryRows, ServiceProcess, startStack, waitFor, type Stack } from './support.ts';
import { FIXED_IDENTIFIERS, leaks, officialText } from '../unit/reports-text.ts';

const SV = 'saint-veilleur';
const AGGLO = 'agglo-sud';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Tuesday 3 February 2026 00:00 Paris to Friday 00:00: three whole local days, 2 whole UTC days inside.
const start = new Date('2026-02-02T23:00:00Z');
const end = new Date(start.getTime() + 3 * DAY);

// A room sensor of the town hall set to report every 2 minutes: 720 uplinks a day where its rules need 144.
const urbanisme = TOWN.find((d) => d.name === 'bureau-urbanisme')!;
const chatty: SimDevice = { ...urbanisme, devEui: 'a81758fffe05b0b0', name: 'capteur-bavard', label: 'Sonde – couloir de la mairie', zone: 'couloir', intervalS: 120 };
const DEVICES: SimDevice[] = [...TOWN, chatty];
const svDevices = DEVICES.filter((d) => d.lnsTenant === TOWN[0]!.lnsTenant);
const byName = (name: string) => DEVICES.find((d) => d.name === name)!;
/** The name a device is stored and shown under: the registry's, in words (the network server's name finds it). */
const shown = (name: string) => byName(name).label!;

let stack: Stack;
let service: ServiceProcess;
let influx: InfluxTarget;
let sent: SimUplink[];
const registry = townRegistry(DEVICES);
const config = reportsConfigSchema.parse({ tertiaire: [{ site: 'ecole-jaures', referenceYear: 2019, referenceKwh: 200_000, floorAreaM2: 1450 }], datacenters: [{ site: 'mairie', category: 1 }] });

/** Time on air of each sent uplink, from its envelope (payload length and spreading factor), by DevEUI. */
function sentAirtimeMs(): Map<string, number> {
  const out = new Map<string, number>();
  for (const u of sent) {
    const m = JSON.parse(u.payload.toString()) as {
      data?: string;
      txInfo?: { modulation: { lora: { spreadingFactor: number; bandwidth: number } } };
      uplink_message?: { frm_payload: string; settings: { data_rate: { lora: { spreading_factor: number; bandwidth: number } } } };
    };
    const bytes = Buffer.from(m.data ?? m.uplink_message!.frm_payload, 'base64').length;
    const lora = m.txInfo?.modulation.lora ?? { spreadingFactor: m.uplink_message!.settings.data_rate.lora.spreading_factor, bandwidth: m.uplink_message!.settings.data_rate.lora.bandwidth };
    out.set(u.devEui, (out.get(u.devEui) ?? 0) + loraAirtimeMs(bytes, lora.spreadingFactor, lora.bandwidth));
  }
  return out;
}

function alert(over: Partial<Alert> & Pick<Alert, 'id' | 'ruleId' | 'category' | 'subject' | 'startedAt' | 'measured'>): Alert {
  return {
    ruleVersion: 1,
    title: { fr: over.ruleId, en: over.ruleId },
    severity: 'major',
    state: 'open',
    lastFiringAt: over.startedAt,
    window: { from: over.startedAt, to: over.startedAt },
    thresholds: {},
    message: { fr: `alerte ${over.ruleId}`, en: `alert ${over.ruleId}` },
    source: { text: { fr: '', en: '' }, reference: '' },
    action: { fr: '', en: '' },
    ...over,
  };
}

/** Opened, then (when `endsAt`) resolved: the events the service would have stored. */
function alertLines(a: Alert, endsAt?: Date): string[] {
  const lines = [alertEventLine({ type: 'opened', at: a.startedAt, alert: a })];
  if (endsAt) lines.push(alertEventLine({ type: 'resolved', at: endsAt, alert: { ...a, state: 'resolved', endedAt: endsAt, resolved: { by: 'rule', at: endsAt, comment: '' } } }));
  return lines;
}

const gymnase = byName('compteur-eau-gymnase');
const mairieWater = byName('compteur-eau-mairie');
const leakSensor = byName('fuite-salle-serveur');
const reservoir = byName('compteur-reservoir-nord');
const subject = (d: SimDevice, tenant = SV) => ({ tenant, site: d.site, devEui: d.devEui, device: d.label ?? d.name });
const FIXTURES = [
  // W1 for 36 h at a floor of 18 L/h: 648 L lost.
  { a: alert({ id: '00000000-0000-4000-8000-000000000001', ruleId: 'W1', category: 'water', subject: subject(gymnase), startedAt: new Date(start.getTime() + 24 * HOUR), measured: { min_l_per_h: 18, zero_hours: 0 } }), end: new Date(start.getTime() + 60 * HOUR) },
  // W7 for 1 h: water seen, no flow: not estimated.
  { a: alert({ id: '00000000-0000-4000-8000-000000000002', ruleId: 'W7', category: 'water', subject: subject(leakSensor), startedAt: new Date(start.getTime() + 30 * HOUR), measured: { water_leak: 'wet' } }), end: new Date(start.getTime() + 31 * HOUR) },
  // W2 still open at the end: 22 h at (30 − 12) L/h = 396 L.
  { a: alert({ id: '00000000-0000-4000-8000-000000000003', ruleId: 'W2', category: 'water', subject: subject(mairieWater), startedAt: new Date(start.getTime() + 50 * HOUR), measured: { recent_p20_l_per_h: 30, baseline_p20_l_per_h: 12 } }) },
  // A silent leak sensor is a water alert but not a leak.
  { a: alert({ id: '00000000-0000-4000-8000-000000000004', ruleId: 'W7S', category: 'water', subject: subject(byName('fuite-chaufferie-mairie')), startedAt: new Date(start.getTime() + 40 * HOUR), measured: { silent_h: 3 } }), end: new Date(start.getTime() + 43 * HOUR) },
  // Another tenant's leak: never in Saint-Veilleur's report.
  { a: alert({ id: '00000000-0000-4000-8000-000000000005', ruleId: 'W1', category: 'water', subject: subject(reservoir, AGGLO), startedAt: new Date(start.getTime() + 10 * HOUR), measured: { min_l_per_h: 2500 } }), end: new Date(start.getTime() + 20 * HOUR) },
];

beforeAll(async () => {
  stack = await startStack();
  influx = createInfluxTarget({ api: 'v1', url: stack.influx.url, db: stack.db, timeoutMs: 30_000 });
  service = new ServiceProcess(stack, { ALERT_EVAL_MINUTES: '1440' }, registry);
  await service.start();
  sent = [...generateUplinks({ start, end, seed: 1, devices: DEVICES })];
  await publishUplinks(sent, { url: stack.mqtt.url });
  await waitFor(async () => (await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink')) >= sent.length, 60_000, 'the town stored');
  const lines = FIXTURES.flatMap((f) => alertLines(f.a, f.end));
  const res = await fetch(`${stack.influx.url}/write?db=${stack.db}&precision=ms`, { method: 'POST', body: lines.join('\n') });
  expect(res.status).toBe(204);
});

afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

describe('parsimony report on the simulated town', () => {
  let r: ParsimonyReport;
  beforeAll(async () => {
    r = await parsimonyReport({ influx, registry, tenant: SV, from: start, to: end });
  });

  it('counts uplinks per day from the devices’ intervals, and their time on air from what was sent', () => {
    const air = sentAirtimeMs();
    expect(r.devices.map((d) => d.device).sort()).toEqual(svDevices.map((d) => d.label ?? d.name).sort());
    for (const sim of svDevices) {
      const d = r.devices.find((x) => x.devEui === sim.devEui)!;
      // Every interval divides the 3 days: 900 s → 288 uplinks, 96 a day; 600 s → 144; 3,600 s → 24; 120 s → 720.
      expect({ name: sim.name, uplinks: d.uplinks, perDay: d.uplinksPerDay }).toEqual({ name: sim.name, uplinks: (3 * 86_400) / sim.intervalS, perDay: 86_400 / sim.intervalS });
      // The two whole UTC days inside the period (3 and 4 February) hold one full day of reports each.
      expect(d.maxUplinksPerDay).toBe(86_400 / sim.intervalS);
      expect(d.airtimeSource).toBe('stored');
      expect(d.airtimeSPerDay!).toBeCloseTo(air.get(sim.devEui)! / 3 / 1000, 2);
    }
  });

  it('flags only the sensor talking every 2 minutes: 5 × what A1 needs, and 44 s a day on air', () => {
    const flagged = r.devices.filter((d) => d.flags.length > 0);
    expect(flagged.map((d) => [d.device, d.flags])).toEqual([['Sonde – couloir de la mairie', ['over-reporting', 'airtime-over-budget']]]);
    const c = flagged[0]!;
    // Elsys ERS CO2 frame of 11 bytes at SF7: 61.696 ms; 720 a day = 44.42 s > 30 s.
    expect(c).toMatchObject({ role: 'room', uplinksPerDay: 720, overReportFactor: 5, spreadingFactor: 7, meanSizeBytes: 11, airtimeMsPerUplink: 61.7 });
    expect(c.airtimeSPerDay).toBeCloseTo(44.42, 2);
    expect(c.need).toMatchObject({ finestMin: 10, coarsestMin: 15, neededUplinksPerDay: 144 });
    expect(r.totals).toMatchObject({ devices: svDevices.length, flagged: 1, uplinks: sent.filter((u) => svDevices.some((d) => d.devEui === u.devEui)).length });
  });

  it('estimates the battery of the town-hall water meter by the stated model', () => {
    const d = r.devices.find((x) => x.device === shown('compteur-eau-mairie'))!;
    // 16 bytes at SF7: (12.25 + 8 + 9 × 5) symbols × 1.024 ms = 66.816 ms on air.
    expect(d.airtimeMsPerUplink).toBeCloseTo(66.8, 1);
    // 0.066816 s × 40 mA + 0.06 s × 11 mA = 3.3326 mAs an uplink; × 96 / 3,600 + 0.005 mA × 24 h = 0.20887 mAh a day;
    // × 365.25 + 1 % of 2,600 mAh = 102.29 mAh a year; 80 % of 2,600 mAh / 102.29 = 20.3 years.
    expect(d.battery).toMatchObject({ years: 20.3, mahPerYear: 102.3 });
    // At the widest workable interval (1 h): 24 a day → 0.14222 mAh a day → 77.95 mAh a year → 26.7 years.
    expect(d.battery!.yearsAtCoarsest).toBe(26.7);
    // 66.816 ms × 40 mA × 3.6 V = 9.62 mJ a transmission.
    expect(d.battery!.txEnergyPerUplinkMj).toBe(9.62);
  });
});

describe('yearly report on the simulated town', () => {
  let r: YearlyReport;
  beforeAll(async () => {
    r = await yearlyReport({ influx, registry, tenant: SV, year: 2026, config, now: end });
  });

  /** First and last stored value of a field of one device, from the raw points. */
  async function firstLast(measurement: string, field: string, devEui: string): Promise<[number, number]> {
    const rows = await queryRows(stack.influx, stack.db, `SELECT "${field}" FROM "${measurement}" WHERE "dev_eui" = '${devEui}' AND "channel" = '' ORDER BY time ASC`);
    return [Number(rows[0]![field]), Number(rows[rows.length - 1]![field])];
  }

  it('gives each water meter its volume (last − first index) in February, and the leaks with their losses', async () => {
    expect(r.months).toHaveLength(12);
    for (const name of ['compteur-eau-mairie', 'compteur-eau-gymnase', 'compteur-eau-ecole-jaures']) {
      const d = byName(name);
      const [first, last] = await firstLast('water', 'volume_index_l', d.devEui);
      const m = r.water.meters.find((x) => x.devEui === d.devEui)!;
      expect(m.m3).toBeCloseTo((last - first) / 1000, 3);
      expect(m.monthlyM3.map((v, i) => (i === 1 ? 'feb' : v))).toEqual([null, 'feb', ...Array(10).fill(null)]);
      expect(m.monthlyM3[1]).toBeCloseTo(m.m3, 3);
    }
    // The gymnasium's leak alone is 18 L/h for 72 h minus one 15-min interval before the first reading: ≥ 1.29 m³.
    expect(r.water.meters.find((m) => m.device === shown('compteur-eau-gymnase'))!.m3).toBeGreaterThan(1.29);
    expect(r.water.totalM3).toBeCloseTo(r.water.meters.reduce((s, m) => s + m.m3, 0), 3);

    expect(r.water.leaks.map((l) => [l.rule, l.device, l.durationH, l.excessLPerH, l.lossM3, l.ongoing])).toEqual([
      ['W1', 'Compteur d’eau du gymnase', 36, 18, 0.648, false],
      ['W7', 'Détecteur de fuite – salle serveur', 1, null, null, false],
      ['W2', 'Compteur d’eau de la mairie', 22, 18, 0.396, true],
    ]);
    expect(r.water.leaks[1]!.basis.fr).toMatch(/^non estimé/);
    expect(r.water.leakLossM3).toBeCloseTo(1.044, 3);
    expect(r.water.otherWaterAlerts).toEqual([{ rule: 'W7S', name: { fr: 'Détecteur de fuite muet', en: 'Silent leak sensor' }, count: 1 }]);
  });

  it('gives each building its kWh, degree-days from its outdoor sensor, and the décret tertiaire path', async () => {
    expect(r.energy.buildings.map((b) => b.building)).toEqual(['ecole-jaures', 'mairie']);
    for (const b of r.energy.buildings) {
      const meter = svDevices.find((d) => d.role === 'building-main' && d.site === b.site)!;
      const [first, last] = await firstLast('electricity', 'active_energy_index_wh', meter.devEui);
      expect(b.kwh).toBeCloseTo((last - first) / 1000, 3);

      // DJU by hand: per local day, 18 − (min + max) / 2 of the outdoor sensor's raw readings.
      const outdoor = svDevices.find((d) => d.role === 'outdoor' && d.site === b.site)!;
      const rows = await queryRows(stack.influx, stack.db, `SELECT "temperature_c" FROM "air" WHERE "dev_eui" = '${outdoor.devEui}'`);
      let dju = 0;
      for (let day = 0; day < 3; day++) {
        const temps = rows.filter((x) => Number(x.time) >= start.getTime() + day * DAY && Number(x.time) < start.getTime() + (day + 1) * DAY).map((x) => Number(x.temperature_c));
        dju += Math.max(0, 18 - (Math.min(...temps) + Math.max(...temps)) / 2);
      }
      expect(b.djuDays).toBe(3);
      expect(b.dju!).toBeCloseTo(dju, 1);
      // All readings fall on the three days: the kWh of the DJU days are the building's kWh.
      expect(b.kwhOnDjuDays!).toBeCloseTo(b.kwh, 3);
      expect(b.kwhPerDju!).toBeCloseTo(b.kwh / dju, 1);
    }
    // Jaurès: 2019 reference of 200,000 kWh; the path in 2026 is 200,000 × (1 − 0.4 × 7/11) = 149,090.9 kWh.
    const jaures = r.energy.buildings.find((b) => b.site === 'ecole-jaures')!;
    expect(jaures.tertiaire).toMatchObject({ referenceYear: 2019, pathKwh: 149_090.9, complete: false, onTrack: null, reductionPct: null });
    expect(jaures.tertiaire!.targets.map((t) => t.kwh)).toEqual([120_000, 100_000, 80_000]);
    expect(r.energy.buildings.find((b) => b.site === 'mairie')!.tertiaire).toBeNull();
  });

  it('gives the server room its PUE (3,700 W / 2,100 W ≈ 1.76), kWh and kgCO2e through the datacenter KPIs', () => {
    expect(r.datacenters.map((d) => d.site)).toEqual(['mairie']);
    const dc = r.datacenters[0]!;
    expect(Math.abs(dc.report.pue! / (3700 / 2100) - 1)).toBeLessThan(0.03);
    // Three days at 3,700 W: 266.4 kWh less the first 15-min interval (before the first reading).
    expect(dc.report.energyKwh.total!).toBeGreaterThan(255);
    expect(dc.report.energyKwh.total!).toBeLessThan(275);
    expect(dc.report.kgCo2e.total!).toBeCloseTo(dc.report.energyKwh.total! * 0.0519, 2);
    expect(dc.report).toMatchObject({ pueCategory: 'category 1 (UPS output)', interimPue: false });
    expect(dc.monthly[1]!.pue).toBeCloseTo(dc.report.pue!, 2);
    expect(dc.monthly.filter((m) => m.facilityKwh !== null && m.facilityKwh > 0).map((m) => m.month)).toEqual(['2026-02']);
  });

  it('counts the fleet and the points it stored over the year', async () => {
    const svSent = sent.filter((u) => svDevices.some((d) => d.devEui === u.devEui)).length;
    expect(r.fleet).toMatchObject({ devices: svDevices.length, uplinks: svSent, flagged: 1 });
    const uplink = r.storage.measurements.find((m) => m.measurement === 'uplink')!;
    expect(uplink.points).toBe(svSent);
    const air = await countPoints(stack.influx, stack.db, `SELECT count("temperature_c") FROM "air" WHERE "tenant" = '${SV}'`);
    expect(r.storage.measurements.find((m) => m.measurement === 'air')!.points).toBeGreaterThanOrEqual(air);
    const alerts = r.storage.measurements.find((m) => m.measurement === 'alert_event')!;
    // Our fixtures for Saint-Veilleur: 4 alerts, 3 resolved: 7 events (the service's own alerts may add some).
    expect(alerts.points).toBeGreaterThanOrEqual(7);
    expect(r.storage.bytes).toBe(r.storage.measurements.reduce((s, m) => s + m.bytes, 0));
    expect(r.storage.bytes).toBeGreaterThan(3 * r.storage.values);
  });

  it('keeps another tenant out: the water syndicate has its own leak and none of the town', async () => {
    const agglo = await yearlyReport({ influx, registry, tenant: AGGLO, year: 2026, config, now: end });
    expect(agglo.water.leaks.map((l) => [l.rule, l.device, l.lossM3])).toEqual([['W1', 'Compteur d’entrée – réservoir nord', 25]]);
    expect(agglo.fleet.parsimony.map((d) => d.device).sort()).toEqual(['Compteur d’entrée – réservoir nord', 'Sonde – local de pompage']);
    expect(agglo.energy.buildings).toEqual([]);
    expect(agglo.datacenters).toEqual([]);
    expect(r.water.leaks.some((l) => l.device === shown('compteur-reservoir-nord'))).toBe(false);
  });

  it('states in every headline the three days it covers, 1 % of the year, and offers no estimate', () => {
    expect(r.headlines.map((h) => h.key)).toEqual(['water', 'leaks', 'leakLoss', 'energy', 'pue', 'devices', 'uplinks', 'stored']);
    for (const h of r.headlines) {
      // From the first reading of 3 February (Paris) to the last one before 6 February: within the three days.
      expect(Date.parse(h.covered!.from), h.key).toBeGreaterThanOrEqual(start.getTime());
      expect(Date.parse(h.covered!.from), h.key).toBeLessThan(start.getTime() + HOUR);
      expect(Date.parse(h.covered!.to), h.key).toBeLessThan(end.getTime());
      expect(Date.parse(h.covered!.to), h.key).toBeGreaterThan(end.getTime() - HOUR);
      expect(h.coverage, h.key).toBeGreaterThan(2.9 / 365);
      expect(h.coverage, h.key).toBeLessThan(3 / 365);
      expect([h.partial, h.estimate], h.key).toEqual([true, null]);
    }
    expect(r.headlines.find((h) => h.key === 'water')!.value).toBe(r.water.totalM3);
    const html = renderYearlyHtml(r, 'fr');
    expect(html).toContain('Mesures partielles : les capteurs n’ont mesuré que du 3 au 5 février 2026, soit 0,8 % de l’année 2026.');
    expect(html.match(/Mesuré du 3 au 5 février 2026 · 0,8 % de l’année<\/div><div class="w">Chiffre partiel : ce n’est pas celui de l’année entière.<\/div>/g)).toHaveLength(8);
  });

  it('names the commune, its sites and its devices as people do: no configuration identifier nor English role in the official’s text', () => {
    const html = renderYearlyHtml(r, 'fr');
    const texts = officialText(html);
    const identifiers = [
      ...registry.tenants.map((x) => x.id),
      ...DEVICES.flatMap((d) => [d.site, d.building ?? '', d.zone ?? '', d.name, d.devEui]),
      ...FIXED_IDENTIFIERS,
    ].filter((id) => id && !/^(accueil|urbanisme|couloir|chaufferie)$/.test(id)); // zones that are plain French words
    expect(leaks(texts, identifiers)).toEqual([]);
    expect(texts).toContain('Commune de Saint-Veilleur');
    for (const site of ['Mairie', 'Gymnase municipal', 'École Jean-Jaurès']) expect(texts, site).toContain(site);
    expect(texts).toContain('Compteur d\'eau du bâtiment – Gymnase municipal');
    expect(texts).toContain('Écoulement continu (fuite probable)');
    expect(texts).toContain('catégorie 1 : sortie des onduleurs');
    // The identifiers are where the technical team looks for them.
    const appendix = html.slice(html.indexOf('<section id="annexe"'));
    for (const id of ['saint-veilleur', 'ecole-jaures', gymnase.devEui]) expect(appendix).toContain(id);
  });

  it('is rendered by headless Chromium with every chart visible, in its colours and in the document’s order', () => {
    const html = renderYearlyHtml(r, 'fr');
    // Self-contained: no script, no external style sheet, nothing fetched.
    expect(html).not.toMatch(/<script|<link|@import|url\(/i);
    expect(html.match(/(?:src|href)\s*=/gi) ?? []).toEqual([]);
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    const file = join(stack.dir, 'rapport-2026.html');
    writeFileSync(file, html);
    const png = screenshot(file, join(stack.dir, 'rapport-2026.png'));

    const boxes = colourBoxes(png, {
      water0: CHART_COLORS.water[0],
      water1: CHART_COLORS.water[1],
      water2: CHART_COLORS.water[2],
      energy0: CHART_COLORS.energy[0],
      energy1: CHART_COLORS.energy[1],
      trajectory: CHART_COLORS.trajectory,
      measured: CHART_COLORS.measured,
      facility: CHART_COLORS.facility,
      it: CHART_COLORS.it,
      airtime: CHART_COLORS.airtime,
      budget: CHART_COLORS.budget,
    });
    console.log('[screenshot colours]', JSON.stringify(boxes));
    // A stacked bar segment is ≈ 37 px wide and tens of px high; a grouped bar ≈ 21 px wide; the path a 3 px line.
    for (const k of ['water0', 'water1', 'water2', 'energy0', 'energy1', 'facility', 'it', 'airtime'] as const) expect(boxes[k].pixels, k).toBeGreaterThan(400);
    expect(boxes.trajectory.pixels).toBeGreaterThan(300);
    // Three days are not a year: no measured point next to the yearly targets.
    expect(boxes.measured.pixels).toBe(0);
    // The over-budget sensor's bar and the 30 s/day line.
    expect(boxes.budget.pixels).toBeGreaterThan(200);
    // Water chart, then energy, then the Jaurès path, then the server room, then the fleet's airtime.
    expect(boxes.water0.maxY).toBeLessThan(boxes.energy0.minY);
    expect(boxes.energy0.maxY).toBeLessThan(boxes.trajectory.minY);
    expect(boxes.trajectory.maxY).toBeLessThan(boxes.facility.minY);
    expect(boxes.facility.maxY).toBeLessThan(boxes.airtime.minY);
    // The documentation's example (README, docs/reports.md): VEILLEUR_DOCS_SCREENSHOT=docs/revue-reen-exemple.png.
    const docs = process.env.VEILLEUR_DOCS_SCREENSHOT;
    if (docs) writeFileSync(docs, readFileSync(join(stack.dir, 'rapport-2026.png')));
  });

  it('a tenant without buildings nor server room has no energy, path or server-room chart on screen', async () => {
    const agglo = await yearlyReport({ influx, registry, tenant: AGGLO, year: 2026, config, now: end });
    const file = join(stack.dir, 'agglo-2026.html');
    writeFileSync(file, renderYearlyHtml(agglo, 'en'));
    const boxes = colourBoxes(screenshot(file, join(stack.dir, 'agglo-2026.png')), {
      water0: CHART_COLORS.water[0],
      energy0: CHART_COLORS.energy[0],
      facility: CHART_COLORS.facility,
      trajectory: CHART_COLORS.trajectory,
      airtime: CHART_COLORS.airtime,
    });
    expect(boxes.water0.pixels).toBeGreaterThan(400);
    expect(boxes.airtime.pixels).toBeGreaterThan(400);
    expect([boxes.energy0.pixels, boxes.facility.pixels, boxes.trajectory.pixels]).toEqual([0, 0, 0]);
  });
});

describe('the reports through the CLI and the HTTP API', () => {
  it('veilleur report parsimony (CSV) and yearly (HTML to a file, CSV) read the service’s configuration', async () => {
    const vars = { INFLUX_URL: stack.influx.url, INFLUX_DB: stack.db, VEILLEUR_CONFIG: join(stack.dir, 'veilleur.yaml'), INFLUX_TOKEN: '', INFLUX_ORG: '', INFLUX_BUCKET: '' };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const run = async (args: string[]) => {
      out.length = 0;
      return { code: await reportCommand(args), text: out.join('') };
    };
    const htmlFile = join(stack.dir, 'cli-yearly.html');
    let parsimony: { code: number; text: string };
    let yearlyHtml: { code: number; text: string };
    let yearlyCsvOut: { code: number; text: string };
    try {
      parsimony = await run(['parsimony', '--tenant', SV, '--from', start.toISOString(), '--to', end.toISOString(), '--format', 'csv']);
      yearlyHtml = await run(['yearly', '--tenant', SV, '--year', '2026', '--lang', 'en', '--out', htmlFile]);
      yearlyCsvOut = await run(['yearly', '--tenant', SV, '--year', '2026', '--format', 'csv']);
    } finally {
      spy.mockRestore();
      errSpy.mockRestore();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(parsimony.code).toBe(0);
    const lines = parsimony.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(PARSIMONY_CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(1 + svDevices.length);
    const col = (name: string) => PARSIMONY_CSV_COLUMNS.indexOf(name as (typeof PARSIMONY_CSV_COLUMNS)[number]);
    const chattyRow = lines.map((l) => l.split(',')).find((c) => c[col('device')] === chatty.label)!;
    expect([chattyRow[col('uplinks_per_day')], chattyRow[col('needed_uplinks_per_day')], chattyRow[col('flags')]]).toEqual(['720', '144', 'over-reporting;airtime-over-budget']);

    expect(yearlyHtml).toEqual({ code: 0, text: '' });
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).toContain('<html lang="en">');
    for (const chart of ['water', 'energy', 'datacenter-mairie', 'airtime']) expect(html).toContain(`data-chart="${chart}"`);

    expect(yearlyCsvOut.code).toBe(0);
    const rows = yearlyCsvOut.text.trimEnd().split('\r\n');
    expect(rows[0]).toBe(YEARLY_CSV_COLUMNS.join(','));
    expect(rows.some((l) => l.startsWith(`${SV},2026,leak,gymnase,,${gymnase.label},${gymnase.devEui},,,leak_loss_m3,`) && l.includes(',0.648,m3,'))).toBe(true);
  });

  it('GET /api/v1/reports/yearly and /parsimony serve a key its own tenant only', async () => {
    const a = generateKey('reportsa01');
    const app: FastifyInstance = Fastify();
    try {
      const deps = {
        keys: new KeyRing([{ id: a.id, name: 'a', role: 'viewer' as const, tenants: [SV], hash: a.hash }]),
        influx,
        registry,
        defaultTenant: 'default',
        options: { docsPublic: false, metricsPublic: false, rateLimitPerMinute: 1000, corsOrigins: [] },
      };
      await registerApi(app, deps);
      const headers = { authorization: `Bearer ${a.key}` };
      const yearly = await app.inject({ url: '/api/v1/reports/yearly?year=2026', headers });
      expect(yearly.statusCode).toBe(200);
      expect(yearly.headers['content-type']).toMatch(/^text\/html/);
      expect(yearly.body).toContain('data-chart="water"');
      expect(yearly.body).toContain('Compteur d’eau du gymnase');
      const p = await app.inject({ url: `/api/v1/reports/parsimony?from=${start.toISOString()}&to=${end.toISOString()}`, headers });
      expect(p.statusCode).toBe(200);
      expect((p.json() as ParsimonyReport).devices.find((d) => d.device === chatty.label)!.flags).toEqual(['over-reporting', 'airtime-over-budget']);
      const other = await app.inject({ url: `/api/v1/reports/yearly?year=2026&tenant=${AGGLO}`, headers });
      expect(other.statusCode).toBe(403);
    } finally {
      await app.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Headless Chromium and PNG decoding

function chromiumBinary(): string {
  for (const bin of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) if (existsSync(bin)) return bin;
  throw new Error("headless Chromium is needed for this test: install Debian's 'chromium' package (apt-get install -y chromium)");
}

/** A full-width screenshot of the page, tall enough for the whole report. */
function screenshot(htmlFile: string, pngFile: string): Png {
  execFileSync(
    chromiumBinary(),
    ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', '--disable-extensions', `--user-data-dir=${join(stack.dir, 'chromium')}`, '--window-size=1100,9000', `--screenshot=${pngFile}`, `file://${htmlFile}`],
    { stdio: 'ignore', timeout: 60_000 },
  );
  return decodePng(readFileSync(pngFile));
}

interface Png {
  width: number;
  height: number;
  /** RGBA, row after row. */
  rgba: Buffer;
}

/** A minimal PNG decoder (8-bit RGB or RGBA, not interlaced: what Chromium writes), with node's zlib. */
function decodePng(buf: Buffer): Png {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  for (let off = 8; off < buf.length; ) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      colorType = data[9]!;
      expect({ depth: data[8], interlace: data[12] }).toEqual({ depth: 8, interlace: 0 });
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  expect(bpp).toBeGreaterThan(0);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = Buffer.alloc(width * height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      let p = 0;
      if (filter === 1) p = a;
      else if (filter === 2) p = b;
      else if (filter === 3) p = (a + b) >> 1;
      else if (filter === 4) {
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[i] = (line[i]! + p) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      out[(y * width + x) * 4] = line[x * bpp]!;
      out[(y * width + x) * 4 + 1] = line[x * bpp + 1]!;
      out[(y * width + x) * 4 + 2] = line[x * bpp + 2]!;
      out[(y * width + x) * 4 + 3] = bpp === 4 ? line[x * bpp + 3]! : 255;
    }
    prev = line;
  }
  return { width, height, rgba: out };
}

interface Box {
  pixels: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/** For each named colour ('#rrggbb'), how many pixels have it (±2 per channel) and where they are. */
function colourBoxes<K extends string>(png: Png, colours: Record<K, string>): Record<K, Box> {
  const targets = Object.entries(colours).map(([k, hex]) => ({ k: k as K, r: parseInt((hex as string).slice(1, 3), 16), g: parseInt((hex as string).slice(3, 5), 16), b: parseInt((hex as string).slice(5, 7), 16) }));
  const boxes = Object.fromEntries(targets.map((t) => [t.k, { pixels: 0, minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity }])) as Record<K, Box>;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const o = (y * png.width + x) * 4;
      const r = png.rgba[o]!;
      const g = png.rgba[o + 1]!;
      const b = png.rgba[o + 2]!;
      for (const t of targets) {
        if (Math.abs(r - t.r) <= 2 && Math.abs(g - t.g) <= 2 && Math.abs(b - t.b) <= 2) {
          const box = boxes[t.k];
          box.pixels++;
          box.minX = Math.min(box.minX, x);
          box.maxX = Math.max(box.maxX, x);
          box.minY = Math.min(box.minY, y);
          box.maxY = Math.max(box.maxY, y);
        }
      }
    }
  }
  return boxes;
}
