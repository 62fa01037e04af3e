/**
 * Governance reports, pure parts: consumption per window, the battery model, the parsimony flags, leak losses,
 * degree-days, the décret tertiaire path, the storage estimate and a whole yearly report from hand-made series.
 * Every expected figure is computed by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import { siteCalendarSchema } from '../../services/time/calendar.ts';
import { dailyDegreeDays, degreeDay } from '../../services/time/degree-days.ts';
import type { Alert } from '../../services/alerts/model.ts';
import { calendarPeriod, DATACENTER_ROLES, energyInWindow, type IndexPoint } from '../../services/datacenter/kpi.ts';
import { consumptionPerWindow, coverage, registryRoles, reportNames, tenantTimeZone } from '../../services/reports/common.ts';
import { reportsConfigOf, reportsConfigSchema } from '../../services/reports/config.ts';
import { BATTERY_MODEL, batteryEstimate, buildParsimonyReport, REPORTING_NEEDS, type DeviceUplinks, type UplinkBucket } from '../../services/reports/parsimony.ts';
import {
  buildYearlyReport,
  fieldKind,
  leakRows,
  storageRows,
  tertiairePathKwh,
  tertiaireTrajectory,
  yearBounds,
  type IndexMeter,
  type OutdoorHour,
} from '../../services/reports/yearly.ts';
import { renderYearlyHtml } from '../../services/reports/html.ts';
import { townRegistry } from '../../services/simulator/town.ts';

const H = 3_600_000;
const D = 24 * H;

describe('consumption per window', () => {
  // 100 (baseline) → 150 → 150 → 30 (reset: 30 since) → 80 → 95, across windows [0,10h) [10h,20h) [20h,30h).
  const pts: IndexPoint[] = [
    { t: -1 * H, wh: 100 },
    { t: 2 * H, wh: 150 },
    { t: 9 * H, wh: 150 },
    { t: 12 * H, wh: 30 },
    { t: 19 * H, wh: 80 },
    { t: 25 * H, wh: 95 },
    { t: 31 * H, wh: 500 },
  ];
  const bounds = [0, 10 * H, 20 * H, 30 * H];

  it('gives each window what energyInWindow gives, and the windows add up to the whole', () => {
    const w = consumptionPerWindow(pts, bounds);
    expect(w.map((x) => [x.value, x.resets, x.readings])).toEqual([
      [50, 0, 2],
      [80, 1, 2],
      [15, 0, 1],
    ]);
    for (let i = 0; i < 3; i++) expect(w[i]!.value).toBe(energyInWindow(pts, bounds[i]!, bounds[i + 1]!).wh);
    expect(w.reduce((s, x) => s + x.value, 0)).toBe(energyInWindow(pts, 0, 30 * H).wh);
  });

  it('marks windows before the first reading as unseen, and measures coverage', () => {
    const late: IndexPoint[] = [
      { t: 15 * H, wh: 10 },
      { t: 25 * H, wh: 40 },
    ];
    expect(consumptionPerWindow(late, bounds).map((x) => [x.seen, x.value])).toEqual([
      [false, 0],
      [true, 0],
      [true, 30],
    ]);
    // From 15 h to 25 h of a 30 h period.
    expect(coverage(late, 0, 30 * H)).toBeCloseTo(1 / 3, 6);
    expect(coverage([], 0, 30 * H)).toBe(0);
  });
});

describe('battery model', () => {
  it('gives 20.3 years to a meter sending 96 uplinks a day of 66.816 ms', () => {
    const b = batteryEstimate(96, 66.816);
    // 0.066816 s × 40 mA + 0.06 s × 11 mA = 3.33264 mAs; × 96 / 3600 = 0.088870 mAh/day; + 0.12 mAh/day of sleep
    // = 0.208870 mAh/day × 365.25 = 76.29 mAh + 26 mAh of self-discharge = 102.29 mAh/year; 2,080 / 102.29 = 20.33.
    expect(b.chargePerUplinkMas).toBeCloseTo(3.33264, 5);
    expect(b.mahPerYear).toBeCloseTo(102.29, 2);
    expect(b.years).toBeCloseTo(20.33, 2);
    // 0.066816 s × 40 mA × 3.6 V = 9.6215 mJ.
    expect(b.txEnergyPerUplinkMj).toBeCloseTo(9.6215, 4);
  });

  it('shortens with more uplinks and longer airtime, and is bounded by sleep and self-discharge', () => {
    expect(batteryEstimate(720, 61.696).years).toBeLessThan(batteryEstimate(144, 61.696).years);
    expect(batteryEstimate(96, 1482.752).years).toBeLessThan(batteryEstimate(96, 61.696).years);
    // No uplink at all: 0.12 × 365.25 + 26 = 69.83 mAh/year → 29.8 years.
    expect(batteryEstimate(0, 0).years).toBeCloseTo(2080 / (0.12 * 365.25 + 26), 6);
    expect(BATTERY_MODEL.capacityMah * BATTERY_MODEL.usableFraction).toBe(2080);
  });
});

describe('parsimony report', () => {
  const from = new Date('2026-03-02T00:00:00Z');
  const to = new Date('2026-03-05T00:00:00Z');
  const day = (i: number) => from.getTime() + i * D;
  const bucket = (i: number, over: Partial<UplinkBucket>): UplinkBucket => ({ t: day(i), uplinks: 0, airtimeMs: 0, withAirtime: 0, meanSizeBytes: 16, maxSf: 7, meanBandwidthHz: 125_000, ...over });
  const dev = (devEui: string, device: string, buckets: UplinkBucket[], site = 'mairie'): DeviceUplinks => ({ tenant: 't', site, devEui, device, buckets });
  const roles = new Map([
    ['0000000000000001', 'water-main'],
    ['0000000000000002', 'room'],
    ['0000000000000004', 'leak-sensor'],
    ['0000000000000005', 'it-inlet'],
  ]);
  const devices = [
    // 96 a day with their stored airtime (66.816 ms each).
    dev('0000000000000001', 'compteur', [0, 1, 2].map((i) => bucket(i, { uplinks: 96, withAirtime: 96, airtimeMs: 96 * 66.816 }))),
    // 720 a day, no stored airtime: computed from 11 bytes at SF7 = 61.696 ms → 44.42 s a day.
    dev('0000000000000002', 'bavard', [0, 1, 2].map((i) => bucket(i, { uplinks: 720, meanSizeBytes: 11 }))),
    dev('0000000000000003', 'inconnu', [bucket(0, { uplinks: 10, withAirtime: 10, airtimeMs: 500 })]),
    // One heartbeat in three days: under half of the daily heartbeat the rules can live with.
    dev('0000000000000004', 'fuite', [bucket(1, { uplinks: 1, withAirtime: 1, airtimeMs: 205.824 })]),
    // Moved from one site to another on the third day; 24 of its 48 uplinks have neither airtime nor SF.
    dev('0000000000000005', 'baie', [bucket(0, { uplinks: 144, withAirtime: 144, airtimeMs: 144 * 51.456 })], 'ancien-site'),
    dev('0000000000000005', 'baie', [bucket(2, { uplinks: 24, maxSf: null })], 'mairie'),
  ];
  const r = buildParsimonyReport({ tenant: 't', from, to, devices, roles });
  const get = (name: string) => r.devices.find((d) => d.device === name)!;

  it('computes rates per day of the period and flags what its rules do not need', () => {
    expect(get('compteur')).toMatchObject({ uplinks: 288, uplinksPerDay: 96, maxUplinksPerDay: 96, airtimeSource: 'stored', airtimeMsPerUplink: 66.8, overReportFactor: 1, flags: [] });
    // 96 × 66.816 ms = 6.414 s a day.
    expect(get('compteur').airtimeSPerDay).toBe(6.41);
    expect(get('compteur').battery).toMatchObject({ years: 20.3, yearsAtCoarsest: 26.7, txEnergyPerUplinkMj: 9.62 });
    // 720 a day where A1 needs one every 10 min (144): 5 ×; 720 × 61.696 ms = 44.42 s > 30 s.
    expect(get('bavard')).toMatchObject({ uplinksPerDay: 720, overReportFactor: 5, airtimeSource: 'computed', airtimeMsPerUplink: 61.7, flags: ['over-reporting', 'airtime-over-budget'] });
    expect(get('bavard').airtimeSPerDay).toBe(44.42);
    expect(get('inconnu')).toMatchObject({ role: null, need: null, overReportFactor: null, flags: ['unknown-role'] });
    // 1 uplink / 3 days = 0.33 a day < half of one a day.
    expect(get('fuite')).toMatchObject({ uplinksPerDay: 0.33, flags: ['under-reporting'] });
  });

  it('merges a device seen under two sites, counts unknown airtime at the mean of the others, and warns', () => {
    const b = get('baie');
    expect(b).toMatchObject({ site: 'mairie', uplinks: 168, airtimeSource: 'mixed', airtimeMsPerUplink: 51.5 });
    // 168 / 3 = 56 a day × 51.456 ms = 2.88 s a day.
    expect(b.airtimeSPerDay).toBe(2.88);
    expect(r.warnings).toEqual([
      {
        fr: 'baie : 24 message(s) sans facteur d’étalement ni temps d’antenne enregistré ; comptés au temps d’antenne moyen des autres',
        en: 'baie: 24 uplink(s) without spreading factor nor stored airtime; counted at the mean airtime of the others',
      },
    ]);
    // unknown-role is not a finding: bavard and fuite are.
    expect(r.totals).toMatchObject({ devices: 5, uplinks: 288 + 2160 + 10 + 1 + 168, flagged: 2 });
  });

  it('over a year, rates a device by its own reporting span', () => {
    const year = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2027-01-01T00:00:00Z') };
    // 10 uplinks an hour apart from 1 June 10:00 to 19:00: 9 h × 10/9 = 10 h = 0.4167 days → 24 a day.
    const d: DeviceUplinks = {
      ...dev('0000000000000001', 'compteur', [{ ...bucket(0, { uplinks: 10, withAirtime: 10, airtimeMs: 10 * 66.816 }), t: Date.UTC(2026, 5, 1) }]),
      firstT: Date.UTC(2026, 5, 1, 10),
      lastT: Date.UTC(2026, 5, 1, 19),
    };
    const y = buildParsimonyReport({ tenant: 't', ...year, devices: [d], roles, rateBasis: 'active-span' });
    expect(y.devices[0]).toMatchObject({ uplinksPerDay: 24, days: 0.4167, flags: [] });
    expect(buildParsimonyReport({ tenant: 't', ...year, devices: [d], roles }).devices[0]!.flags).toEqual(['under-reporting']);
  });

  it('has a reason and a consistent range for every role of the table', () => {
    for (const [role, need] of Object.entries(REPORTING_NEEDS)) {
      expect(need.finestMin, role).toBeLessThanOrEqual(need.coarsestMin);
      // A role no rule reads (server-room sub-meters) still says which report needs it.
      if (need.rules.length === 0) expect(need.reason.en, role).toMatch(/^No rule: .+ report/);
      expect(need.reason.fr.length * need.reason.en.length, role).toBeGreaterThan(0);
    }
  });
});

function alert(over: Partial<Alert> & Pick<Alert, 'ruleId' | 'startedAt' | 'measured'>): Alert {
  return {
    id: `id-${over.ruleId}-${over.startedAt.getTime()}`,
    ruleVersion: 1,
    category: 'water',
    title: { fr: '', en: '' },
    severity: 'major',
    subject: { tenant: 't', site: 's', device: 'd', devEui: '0000000000000001' },
    state: 'open',
    lastFiringAt: over.startedAt,
    window: { from: over.startedAt, to: over.startedAt },
    thresholds: {},
    message: { fr: 'm', en: 'm' },
    source: { text: { fr: '', en: '' }, reference: '' },
    action: { fr: '', en: '' },
    ...over,
  };
}

describe('leaks', () => {
  const from = Date.parse('2026-01-01T00:00:00Z');
  const to = Date.parse('2027-01-01T00:00:00Z');
  const at = (iso: string) => new Date(iso);

  it('estimates the loss from the measured excess flow, clips to the year, and says when it cannot', () => {
    const rows = leakRows(
      [
        // Resolved after 10 h at a floor of 12 L/h: 120 L.
        alert({ ruleId: 'W1', startedAt: at('2026-05-01T00:00:00Z'), state: 'resolved', endedAt: at('2026-05-01T10:00:00Z'), measured: { min_l_per_h: 12 } }),
        // Open since 31 Dec 2025 20:00: only the 4 h before the report's "now" of 1 Jan 04:00 count; 40 − 15 = 25 L/h → 100 L.
        alert({ ruleId: 'W2', startedAt: at('2025-12-31T20:00:00Z'), measured: { recent_p20_l_per_h: 40, baseline_p20_l_per_h: 15 } }),
        // District: mean losses (300 + 500) / 2 − 160 = 240 L/day = 10 L/h over 48 h = 480 L.
        alert({ ruleId: 'W8', startedAt: at('2026-07-01T00:00:00Z'), state: 'resolved', endedAt: at('2026-07-03T00:00:00Z'), measured: { losses_l_per_day: '300, 500', baseline_mean_l_per_day: 160 } }),
        alert({ ruleId: 'W3', startedAt: at('2026-08-01T00:00:00Z'), state: 'resolved', endedAt: at('2026-08-01T01:30:00Z'), measured: { 'water.alarm.burst': 'on' } }),
        // Not leaks, or outside the year.
        alert({ ruleId: 'W4', startedAt: at('2026-08-01T00:00:00Z'), measured: {} }),
        alert({ ruleId: 'W1', startedAt: at('2025-06-01T00:00:00Z'), state: 'resolved', endedAt: at('2025-06-02T00:00:00Z'), measured: { min_l_per_h: 12 } }),
      ],
      from,
      to,
      Date.parse('2026-01-01T04:00:00Z'),
    );
    expect(rows.map((r) => [r.rule, r.durationH, r.excessLPerH, r.lossM3, r.ongoing])).toEqual([
      ['W2', 4, 25, 0.1, true],
      ['W1', 10, 12, 0.12, false],
      ['W8', 48, 10, 0.48, false],
      ['W3', 1.5, null, null, false],
    ]);
    expect(rows[3]!.basis.fr).toMatch(/^non estimé \(/);
    expect(rows[3]!.basis.en).toMatch(/^not estimated \(/);
  });
});

describe('degree-days', () => {
  const hours = (devEui: string, date: string, n: number, tmin: number, tmax: number): OutdoorHour[] =>
    Array.from({ length: n }, (_, i) => ({ site: 's', building: 'b', devEui, t: Date.parse(`${date}T00:00:00+01:00`) + i * H, tmin: i === 3 ? tmin : tmin + 1, tmax: i === 14 ? tmax : tmax - 1 }));

  it('is 18 − (Tmin + Tmax)/2 per local day, averaged over sensors, for days with 18 hours or more', () => {
    expect(degreeDay(2, 10)).toBe(12);
    expect(degreeDay(15, 25)).toBe(0);
    const dju = dailyDegreeDays(
      [
        ...hours('a', '2026-01-10', 24, 2, 10), // 18 − 6 = 12
        ...hours('b', '2026-01-10', 24, 4, 12), // 18 − 8 = 10 → mean of the two means (6 + 8)/2 = 7 → 11
        ...hours('a', '2026-01-11', 17, -5, 5), // 17 hours: not counted
        ...hours('a', '2026-01-12', 18, 0, 8), // 18 − 4 = 14
      ],
      'Europe/Paris',
    );
    expect([...dju]).toEqual([
      ['2026-01-10', 11],
      ['2026-01-12', 14],
    ]);
  });
});

describe('décret tertiaire', () => {
  const entry = { site: 's', referenceYear: 2019, referenceKwh: 200_000 };

  it('follows straight lines from the reference year to −40 % in 2030, −50 % in 2040, −60 % in 2050', () => {
    expect(tertiairePathKwh(entry, 2019)).toBe(200_000);
    // 2026: 40 % × 7/11 = 25.45 % below → 149,090.9 kWh.
    expect(tertiairePathKwh(entry, 2026)).toBeCloseTo(149_090.91, 2);
    expect(tertiairePathKwh(entry, 2030)).toBeCloseTo(120_000, 6);
    expect(tertiairePathKwh(entry, 2035)).toBeCloseTo(110_000, 6);
    expect(tertiairePathKwh(entry, 2060)).toBeCloseTo(80_000, 6);
  });

  it('gives a verdict only for a complete year', () => {
    expect(tertiaireTrajectory({ ...entry, floorAreaM2: 1000 }, 2026, 140_000, 0.99)).toMatchObject({ complete: true, onTrack: true, reductionPct: 30, kwhPerM2: 140 });
    expect(tertiaireTrajectory(entry, 2026, 160_000, 0.99)).toMatchObject({ onTrack: false, reductionPct: 20 });
    expect(tertiaireTrajectory(entry, 2026, 1_000, 0.5)).toMatchObject({ complete: false, onTrack: null, reductionPct: null });
  });

  it('is configured under reports: with checked values', () => {
    expect(reportsConfigSchema.safeParse({ tertiaire: [{ ...entry, referenceYear: 2009 }] }).success).toBe(false);
    expect(reportsConfigSchema.safeParse({ tertiaire: [{ ...entry, referenceKwh: -1 }] }).success).toBe(false);
    expect(reportsConfigSchema.safeParse({ tertiaire: [{ ...entry, surface: 1 }] }).success).toBe(false);
    expect(reportsConfigSchema.safeParse({ datacenters: [{ site: 'mairie', category: 4 }] }).success).toBe(false);
    expect(reportsConfigSchema.parse({})).toEqual({ tertiaire: [], datacenters: [] });
    expect(reportsConfigOf(townRegistry())).toEqual({ tertiaire: [], datacenters: [] });
  });
});

describe('data stored', () => {
  it('counts 3 bytes per number, 2 per boolean, 32 per text and a base64 payload at its length', () => {
    expect([fieldKind('uplink', 'f_cnt'), fieldKind('uplink', 'payload_b64'), fieldKind('water', 'leak'), fieldKind('alert_event', 'details'), fieldKind('lns_object', 'x')]).toEqual([
      'numeric',
      'string',
      'boolean',
      'string',
      'numeric',
    ]);
    const rows = storageRows([
      // 100 uplinks: f_cnt and sf (3 B each), payload_b64 of 16 bytes → 24 characters + 3 = 27 B, decoded_by 32 B.
      { measurement: 'uplink', fields: { f_cnt: 100, sf: 100, payload_b64: 100, decoded_by: 100 }, meanPayloadBytes: 16 },
      // 10 leak readings (boolean) and 8 temperatures: 10 points at least.
      { measurement: 'water', fields: { leak: 10, temperature_c: 8 } },
      { measurement: 'heat', fields: {} },
    ]);
    expect(rows).toEqual([
      { measurement: 'uplink', points: 100, values: 400, bytes: 100 * (3 + 3 + 27 + 32) },
      { measurement: 'water', points: 10, values: 18, bytes: 10 * 2 + 8 * 3 },
    ]);
  });
});

describe('yearly report from hand-made series', () => {
  const tz = 'Europe/Paris';
  const { from, to } = yearBounds(2026, tz);
  const meter = (over: Partial<IndexMeter>, points: [string, number][]): IndexMeter => ({
    site: 'ecole',
    building: 'ecole',
    zone: '',
    devEui: '0000000000000001',
    device: 'm',
    role: 'water-main',
    medium: 'water',
    points: points.map(([t, wh]) => ({ t: Date.parse(t), wh })),
    ...over,
  });
  const emptyParsimony = buildParsimonyReport({ tenant: 't', from, to, devices: [], roles: new Map() });

  it('splits water and energy by local month, computes kWh per degree-day, the path, and the server room', () => {
    const r = buildYearlyReport({
      tenant: 't',
      year: 2026,
      timeZone: tz,
      now: to,
      waterMeters: [
        // Baseline of 2025, then 31 Jan 23:30 Paris (still January), 1 Feb 00:30 Paris, 28 Feb: 1,000 L in Jan, 3,500 L in Feb.
        meter({}, [
          ['2025-12-31T22:00:00Z', 10_000],
          ['2026-01-31T22:30:00Z', 11_000],
          ['2026-01-31T23:30:00Z', 11_500],
          ['2026-02-28T12:00:00Z', 14_500],
        ]),
      ],
      energyMeters: [
        // 10 and 11 January (Paris): 200 kWh then 150 kWh.
        meter({ devEui: '0000000000000002', device: 'linky', role: 'building-main', medium: 'electricity' }, [
          ['2026-01-09T22:59:00Z', 1_000_000],
          ['2026-01-10T22:59:00Z', 1_200_000],
          ['2026-01-11T22:59:00Z', 1_350_000],
        ]),
      ],
      outdoor: Array.from({ length: 48 }, (_, i) => ({
        site: 'ecole',
        building: 'ecole',
        devEui: '0000000000000003',
        t: Date.parse('2026-01-09T23:00:00Z') + i * H,
        // 10 Jan: 2–10 °C → 12 DJU; 11 Jan: 6–14 °C → 8 DJU.
        tmin: i < 24 ? 2 : 6,
        tmax: i < 24 ? 10 : 14,
      })),
      alerts: [],
      datacenterMeters: new Map([
        [
          'mairie',
          [
            { devEui: 'f1', device: 'general', role: DATACENTER_ROLES.facilityTotal, points: [{ t: Date.parse('2026-03-01T00:00:00Z'), wh: 0 }, { t: Date.parse('2026-03-02T00:00:00Z'), wh: 81_000 }] },
            { devEui: 'i1', device: 'it', role: DATACENTER_ROLES.itLoad, points: [{ t: Date.parse('2026-03-01T00:00:00Z'), wh: 0 }, { t: Date.parse('2026-03-02T00:00:00Z'), wh: 50_000 }] },
          ],
        ],
      ]),
      parsimony: emptyParsimony,
      storage: [],
      config: reportsConfigSchema.parse({ tertiaire: [{ site: 'ecole', referenceYear: 2020, referenceKwh: 1000 }], datacenters: [{ site: 'mairie', category: 2 }] }),
    });
    expect(r.months).toEqual(['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11', '2026-12']);
    expect(r.water.meters[0]).toMatchObject({ m3: 4.5, readings: 3, resets: 0 });
    expect(r.water.meters[0]!.monthlyM3.slice(0, 3)).toEqual([1, 3.5, null]);
    expect(r.water.sites).toMatchObject([{ site: 'ecole', m3: 4.5, inflowM3: null, monthlyM3: [1, 3.5, ...Array(10).fill(null)] }]);
    // January from its baseline to the 31 Jan 23:30 reading (743.5 h of 744), February to the 28th at 13:00 (661 h of 672), nothing after.
    expect(r.water.sites[0]!.monthlyCoverage.slice(0, 3)).toEqual([0.999328, 0.983631, 0]); // 743.5 / 744, 661 / 672, kept at six digits
    const b = r.energy.buildings[0]!;
    // The baseline of 9 January: the 10th and 11th hold 350 kWh.
    expect(b).toMatchObject({ site: 'ecole', building: 'ecole', kwh: 350, dju: 20, djuDays: 2, kwhOnDjuDays: 350, kwhPerDju: 17.5 });
    expect(b.monthlyKwh[0]).toBe(350);
    // Reference 2020: 1,000 kWh; 2026 path 1,000 × (1 − 0.4 × 6/10) = 760 kWh; a 2-day year is incomplete.
    expect(b.tertiaire).toMatchObject({ referenceYear: 2020, pathKwh: 760, measuredKwh: 350, complete: false, onTrack: null });
    const dc = r.datacenters[0]!;
    expect(dc.report).toMatchObject({ pue: 1.62, pueCategory: 'category 2 (PDU output)', energyKwh: { total: 81, it: 50 } });
    expect(dc.monthly[2]).toEqual({ month: '2026-03', facilityKwh: 81, itKwh: 50, pue: 1.62 });
    expect(r.energy.totalKwh).toBe(350);
    expect(r.assumptions.length).toBeGreaterThan(5);
  });

  it('warns about a configured building without a meter, and spans the local year', () => {
    expect([from.toISOString(), to.toISOString()]).toEqual(['2025-12-31T23:00:00.000Z', '2026-12-31T23:00:00.000Z']);
    expect(() => yearBounds(1999, tz)).toThrow(RangeError);
    const r = buildYearlyReport({
      tenant: 't',
      year: 2026,
      timeZone: tz,
      now: to,
      waterMeters: [],
      energyMeters: [],
      outdoor: [],
      alerts: [],
      datacenterMeters: new Map(),
      parsimony: emptyParsimony,
      storage: [],
      config: reportsConfigSchema.parse({ tertiaire: [{ site: 'piscine', referenceYear: 2019, referenceKwh: 1 }] }),
    });
    expect(r.warnings.map((w) => w.en)).toEqual(["décret tertiaire: no 'building-main' meter found for piscine/piscine; its trajectory is not reported"]);
    expect(r.warnings[0]!.fr).toBe('décret tertiaire : aucun compteur électrique général trouvé pour piscine/piscine ; sa trajectoire n’est pas présentée');
    // No reading at all: every headline says it has no span, nothing is estimated.
    expect(r.headlines.every((h) => h.covered === null && h.coverage === 0 && h.partial && h.estimate === null)).toBe(true);
    expect(r.measured).toEqual({ covered: null, coverage: 0 });
  });
});

describe('registry helpers', () => {
  it('takes roles and the time zone from the configuration', () => {
    const reg = townRegistry();
    expect(registryRoles(reg).get('0018b2200000a001')).toBe('water-main');
    expect(tenantTimeZone(reg, 'saint-veilleur')).toBe('Europe/Paris');
    const withSite = { ...reg, sites: [{ tenant: 'x', site: 'a', calendar: siteCalendarSchema.parse({ timeZone: 'America/Cayenne' }) }] };
    expect(tenantTimeZone(withSite, 'x')).toBe('America/Cayenne');
  });
});

describe('headlines: the period each figure really covers', () => {
  const tz = 'Europe/Paris';
  const { from, to } = yearBounds(2026, tz);
  const emptyParsimony = buildParsimonyReport({ tenant: 't', from, to, devices: [], roles: new Map() });
  const water = (points: [string, number][]): IndexMeter => ({
    site: 'ecole',
    building: 'ecole',
    zone: '',
    devEui: '0000000000000001',
    device: 'm',
    role: 'water-main',
    medium: 'water',
    points: points.map(([t, wh]) => ({ t: Date.parse(t), wh })),
  });
  const report = (points: [string, number][]) =>
    buildYearlyReport({
      tenant: 't',
      year: 2026,
      timeZone: tz,
      now: to,
      waterMeters: [water(points)],
      energyMeters: [],
      outdoor: [],
      alerts: [],
      datacenterMeters: new Map(),
      parsimony: emptyParsimony,
      storage: [],
      config: reportsConfigSchema.parse({}),
    });

  it('gives a two-day year its two days and its coverage, marks it partial, and does not extrapolate it', () => {
    const r = report([
      ['2026-02-03T00:00:00Z', 0],
      ['2026-02-05T00:00:00Z', 4200],
    ]);
    const h = r.headlines.find((x) => x.key === 'water')!;
    expect(h).toMatchObject({ value: 4.2, unit: 'm³', covered: { from: '2026-02-03T00:00:00.000Z', to: '2026-02-05T00:00:00.000Z' }, partial: true, estimate: null });
    // 2 days of 365.
    expect(h.coverage).toBeCloseTo(2 / 365, 4);
    expect(h.noEstimate!.fr).toMatch(/moins de 50 % de l’année mesurée/);
    // A count of leaks is never extrapolated, whatever its coverage.
    expect(r.headlines.find((x) => x.key === 'leaks')).toMatchObject({ value: 0, partial: true, estimate: null });
    expect(r.measured.coverage).toBeCloseTo(2 / 365, 4);
  });

  it('shows the year’s share with one rounding: 30 h of a year is 0,3 % in the banner and in every tile', () => {
    // 5 December 01:45 to 6 December 07:59, Paris: 30.23 h of 8,760, 0.345 %. Kept at four digits (0.0035) and shown
    // at one decimal, it read 0,4 % in the banner beside 0,3 % for the same span.
    const r = report([
      ['2026-12-05T00:45:00Z', 0],
      ['2026-12-06T06:59:00Z', 600],
    ]);
    expect(r.measured.coverage).toBeCloseTo(30.2333 / 8760, 6);
    const html = renderYearlyHtml(r, 'fr');
    const shares = [...html.matchAll(/(\d+,\d)\s%\s(?:de l’année|de l'année)/g)].map((m) => m[1]);
    expect(shares.length).toBeGreaterThan(2);
    expect(new Set(shares)).toEqual(new Set(['0,3']));
  });

  it('estimates the year by a stated rule of three from half a year, and is whole from 80 %', () => {
    const half = report([
      ['2025-12-31T12:00:00Z', 0],
      ['2026-07-31T22:00:00Z', 21_200],
    ]);
    const h = half.headlines.find((x) => x.key === 'water')!;
    // Covered from the year's start (the baseline of 31 December) to 31 July 22:00 UTC: 212 days of 365.
    expect(h.covered).toEqual({ from: '2025-12-31T23:00:00.000Z', to: '2026-07-31T22:00:00.000Z' });
    expect(h.coverage).toBeCloseTo(212 / 365, 3);
    expect(h.partial).toBe(true);
    expect(h.estimate!.value).toBeCloseTo(21.2 / h.coverage, 2);
    expect(h.estimate!.method.fr).toMatch(/^règle de trois/);
    const whole = report([
      ['2025-12-31T12:00:00Z', 0],
      ['2026-11-30T23:00:00Z', 30_000],
    ]);
    expect(whole.headlines.find((x) => x.key === 'water')).toMatchObject({ partial: false, estimate: null, noEstimate: null });
  });
});

describe('calendar periods of the datacenter report', () => {
  it('gives months, quarters and years at local midnights, and the month under way up to now', () => {
    const tz = 'Europe/Paris';
    const later = new Date('2027-06-01T00:00:00Z');
    expect(calendarPeriod('month', '2026-11', tz, later)).toMatchObject({ from: new Date('2026-10-31T23:00:00Z'), to: new Date('2026-11-30T23:00:00Z'), ongoing: false });
    // A period under way ends now: Q4 2026 seen on 6 December.
    expect(calendarPeriod('quarter', '2026-Q4', tz, new Date('2026-12-06T06:00:00Z'))).toMatchObject({ to: new Date('2026-12-06T06:00:00Z'), ongoing: true });
    // The October DST change: the quarter starts at +02:00 and ends at +01:00.
    expect(calendarPeriod('quarter', '2026-Q4', tz, later)).toMatchObject({ from: new Date('2026-09-30T22:00:00Z'), to: new Date('2026-12-31T23:00:00Z') });
    expect(calendarPeriod('quarter', '2026-Q1', tz, later)).toMatchObject({ from: new Date('2025-12-31T23:00:00Z'), to: new Date('2026-03-31T22:00:00Z') });
    expect(calendarPeriod('year', '2026', tz, later)).toMatchObject({ from: new Date('2025-12-31T23:00:00Z'), to: new Date('2026-12-31T23:00:00Z') });
    // 30 November 23:30 UTC is already 1 December in Paris: "this month" is December, so far.
    const now = new Date('2026-11-30T23:30:00Z');
    expect(calendarPeriod('month', undefined, tz, now)).toEqual({ kind: 'month', label: '2026-12', from: new Date('2026-11-30T23:00:00Z'), to: now, ongoing: true });
    expect(calendarPeriod('quarter', undefined, tz, now).label).toBe('2026-Q4');
    expect(calendarPeriod('month', undefined, 'America/Cayenne', now).label).toBe('2026-11');
    expect(() => calendarPeriod('month', '2026-13', tz)).toThrow(/expected a month such as 2026-11, got '2026-13'/);
    expect(() => calendarPeriod('quarter', '1999-Q1', tz)).toThrow(/from 2000 to 2099/);
  });
});

describe('display names', () => {
  it('names the tenant and its sites from the configuration, and lists the sites without a name', () => {
    const names = reportNames(townRegistry(), 'saint-veilleur', ['mairie', 'ecole-jaures', 'local-technique']);
    expect(names).toEqual({
      tenant: 'Commune de Saint-Veilleur',
      tenantNamed: true,
      sites: { mairie: 'Mairie', 'ecole-jaures': 'École Jean-Jaurès', 'local-technique': 'local-technique' },
      unnamedSites: ['local-technique'],
    });
    expect(reportNames(undefined, 't', ['a'])).toEqual({ tenant: 't', tenantNamed: false, sites: {}, unnamedSites: ['a'] });
  });
});
