/**
 * Datacenter KPIs, pure parts: energy from index series (with a counter reset), PUE / DCiE / shares / carbon,
 * missing meters (null, never NaN), local months across DST, the EU export's unmeasured fields, CSV.
 * Every expected figure is computed by hand in the comments.
 */
import { describe, expect, it, vi } from 'vitest';
import { reportCommand } from '../../services/cli/report.ts';
import { DEFAULT_EMISSION_FACTOR_ID, EMISSION_FACTORS, resolveEmissionFactor } from '../../services/datacenter/emission-factors.ts';
import {
  buildDatacenterReport,
  CSV_COLUMNS,
  DATACENTER_ROLES,
  datacenterReportCsv,
  eedFromReport,
  energyFromIndex,
  energyInWindow,
  isInterimPeriod,
  localMonths,
  monthlyFromSeries,
  type MeterSeries,
} from '../../services/datacenter/kpi.ts';

const H = 3_600_000;
const from = new Date('2026-03-01T00:00:00Z');
const to = new Date('2026-03-02T00:00:00Z');
const at = (ms: number) => from.getTime() + ms;

// Facility meter: 1,000,000 → 1,088,800 Wh = 88.8 kWh over the day (3,700 W).
const facility: MeterSeries = {
  devEui: '0018b2400000b003',
  device: 'general',
  role: DATACENTER_ROLES.facilityTotal,
  points: [
    { t: at(-5 * 60_000), wh: 1_000_000 }, // baseline, before the period
    { t: at(6 * H), wh: 1_022_200 },
    { t: at(12 * H), wh: 1_044_400 },
    { t: at(23 * H + 55 * 60_000), wh: 1_088_800 },
    { t: at(24 * H + 5 * 60_000), wh: 1_090_000 }, // after the period: ignored
  ],
};
// IT meter with a reset: 12,600 Wh, then the counter restarts (2,000 since the reset), then +25,400 = 40,000 Wh.
const itMeter: MeterSeries = {
  devEui: '24e124136d490002',
  device: 'it',
  role: DATACENTER_ROLES.itLoad,
  points: [
    { t: at(-5 * 60_000), wh: 500_000 },
    { t: at(6 * H), wh: 512_600 },
    { t: at(12 * H), wh: 2_000 },
    { t: at(23 * H + 55 * 60_000), wh: 27_400 },
  ],
};

describe('energy from index readings', () => {
  it('sums the increases and counts a decrease as a reset to zero', () => {
    // 100→150: 50; 150→150: 0; 150→30: reset, 30 since; 30→80: 50. Total 130.
    expect(energyFromIndex([100, 150, 150, 30, 80])).toEqual({ wh: 130, resets: 1 });
    expect(energyFromIndex([42])).toEqual({ wh: 0, resets: 0 });
    expect(energyFromIndex([10, Number.NaN, 25])).toEqual({ wh: 15, resets: 0 });
  });

  it('takes the last reading before the start as the baseline and stops at the end', () => {
    const e = energyInWindow(facility.points, from.getTime(), to.getTime());
    expect(e).toMatchObject({ wh: 88_800, resets: 0, readings: 3 });
    // Consecutive windows add up to the whole (boundary = last reading before it).
    const mid = at(9 * H);
    const a = energyInWindow(itMeter.points, from.getTime(), mid).wh;
    const b = energyInWindow(itMeter.points, mid, to.getTime()).wh;
    expect(a).toBe(12_600);
    expect(a + b).toBe(40_000);
  });
});

describe('datacenter report', () => {
  it('computes PUE, DCiE, shares and carbon from total and IT energy over the same period', () => {
    const r = buildDatacenterReport({ tenant: 't', site: 's', from, to, meters: [facility, itMeter], category: 3 });
    expect(r.energyKwh).toEqual({ total: 88.8, it: 40 });
    expect(r.pue).toBe(2.22); // 88.8 / 40
    expect(r.dcie).toBe(45.05); // 100 / 2.22 = 45.045…
    expect(r.itShare).toBe(0.4505); // 40 / 88.8
    expect(r.kgCo2e.total).toBeCloseTo(88.8 * 0.0519, 3); // 4.609
    expect(r.kgCo2e.it).toBeCloseTo(40 * 0.0519, 3); // 2.076
    expect(r.emissionFactor).toEqual({ id: 'ademe-mix-moyen-2024', kgCo2ePerKwh: 0.0519, vintage: '2024' });
    expect(r.pueCategory).toBe('category 3 (IT equipment input)');
    expect(r.interimPue).toBe(true);
    expect(r.meters.find((m) => m.role === 'it-load')).toMatchObject({ kwh: 40, readings: 3, resets: 1 });
    expect(r.warnings).toHaveLength(1); // the reset
    expect(r.warnings[0]).toMatch(/reset/);
  });

  it('gives null KPIs and a clear warning when the IT meter is missing, never NaN', () => {
    const r = buildDatacenterReport({ tenant: 't', site: 's', from, to, meters: [facility] });
    expect(r.energyKwh).toEqual({ total: 88.8, it: null });
    expect(r).toMatchObject({ pue: null, dcie: null, itShare: null, kgCo2e: { it: null }, pueCategory: 'unknown' });
    expect(r.warnings.join('\n')).toMatch(/no 'it-load' meter/);
    expect(r.warnings.join('\n')).toMatch(/category not configured/);
    expect(JSON.stringify(r)).not.toMatch(/NaN|Infinity/);
    const none = buildDatacenterReport({ tenant: 't', site: 's', from, to, meters: [] });
    expect(none).toMatchObject({ pue: null, energyKwh: { total: null, it: null } });
    expect(none.warnings.join('\n')).toMatch(/no 'facility-total' meter/);
  });

  it('reports cooling as a share, and warns about short coverage and PUE < 1', () => {
    const cooling: MeterSeries = { devEui: 'c', device: 'clim', role: DATACENTER_ROLES.cooling, points: [{ t: at(-1000), wh: 0 }, { t: at(23 * H + 59 * 60_000), wh: 30_000 }] };
    const r = buildDatacenterReport({ tenant: 't', site: 's', from, to, meters: [facility, itMeter, cooling], category: 1 });
    expect(r.energyKwh.cooling).toBe(30);
    expect(r.coolingShare).toBe(0.3378); // 30 / 88.8
    const late: MeterSeries = { ...facility, points: [{ t: at(12 * H), wh: 0 }, { t: at(23 * H), wh: 10_000 }] };
    const bad = buildDatacenterReport({ tenant: 't', site: 's', from, to, meters: [late, itMeter], category: 1 });
    expect(bad.pue).toBe(0.25); // 10 / 40
    expect(bad.warnings.join('\n')).toMatch(/cover 46 %/); // 11 h of 24
    expect(bad.warnings.join('\n')).toMatch(/PUE 0.25 < 1/);
  });

  it('says the PUE holds when every meter covers the same short span, and is distorted when they do not', () => {
    // Both meters read from 06:00 to 12:00 only: 6 h of 24, the same dates; 22.2 kWh against 11.1 kWh.
    const part = (m: MeterSeries, whPerH: number): MeterSeries => ({ ...m, points: [{ t: at(6 * H), wh: 0 }, { t: at(12 * H), wh: 6 * whPerH }] });
    const both = [part(facility, 3700), part(itMeter, 1850)];
    const fr = buildDatacenterReport({ tenant: 't', site: 's', from, to, meters: both, category: 1, lang: 'fr' });
    expect(fr.pue).toBe(2);
    expect(fr.warnings).toEqual([
      'les relevés couvrent 25 % de la période, les mêmes dates pour tous les compteurs : le PUE, le DCiE et les parts sont justes sur ces dates ; seuls les kWh et les kgCO₂e sont partiels',
    ]);
    const en = buildDatacenterReport({ tenant: 't', site: 's', from, to, meters: both, category: 1 });
    expect(en.warnings).toEqual(['readings cover 25 % of the period, the same dates for every meter: the PUE, DCiE and shares are right over those dates; only the kWh and kgCO₂e are partial']);
    // The IT meter reads two hours later: the ratio mixes unlike spans.
    const shifted: MeterSeries = { ...itMeter, points: [{ t: at(8 * H), wh: 0 }, { t: at(14 * H), wh: 11_100 }] };
    const off = buildDatacenterReport({ tenant: 't', site: 's', from, to, meters: [both[0]!, shifted], category: 1, lang: 'fr' });
    expect(off.warnings.filter((w) => /couvrent/.test(w))).toEqual([
      'general (Compteur général de la salle serveurs) : les relevés couvrent 25 % de la période, sur d’autres dates que les autres compteurs ; son énergie est sous-estimée et le PUE, le DCiE et les parts en sont faussés',
      `${itMeter.device} (Compteur des équipements informatiques) : les relevés couvrent 25 % de la période, sur d’autres dates que les autres compteurs ; son énergie est sous-estimée et le PUE, le DCiE et les parts en sont faussés`,
    ]);
    // A site with one meter: no ratio to distort.
    const alone = buildDatacenterReport({ tenant: 't', site: 's', from, to, meters: [both[0]!], category: 1, lang: 'fr' });
    expect(alone.warnings.filter((w) => /couvrent/.test(w))).toEqual(['general (Compteur général de la salle serveurs) : les relevés couvrent 25 % de la période ; ses kWh et ses kgCO₂e sont partiels']);
  });

  it('calls a PUE over less than 12 months interim', () => {
    expect(isInterimPeriod(new Date('2026-01-01T00:00:00+01:00'), new Date('2027-01-01T00:00:00+01:00'))).toBe(false);
    expect(isInterimPeriod(new Date('2026-01-01T00:00:00+01:00'), new Date('2026-12-31T00:00:00+01:00'))).toBe(true);
  });
});

describe('emission factors', () => {
  it('has a default, versioned factors, and takes a caller override', () => {
    expect(resolveEmissionFactor()).toBe(EMISSION_FACTORS[DEFAULT_EMISSION_FACTOR_ID]);
    expect(resolveEmissionFactor('ademe-mix-moyen-2022').source).toMatch(/checked against Base Empreinte/);
    const own = { id: 'supplier-2025', kgCo2ePerKwh: 0.03, vintage: '2025', source: 'contract' };
    const r = buildDatacenterReport({ tenant: 't', site: 's', from, to, meters: [facility, itMeter], factor: own });
    expect(r.kgCo2e.total).toBe(2.664); // 88.8 × 0.03
    expect(() => resolveEmissionFactor('nope')).toThrow(/unknown emission factor/);
    expect(() => resolveEmissionFactor({ ...own, kgCo2ePerKwh: Number.NaN })).toThrow(RangeError);
  });
});

describe('local months', () => {
  it('starts months at local midnight, +02:00 before the October DST change and +01:00 after', () => {
    const months = localMonths(new Date('2026-09-01T00:00:00+02:00'), new Date('2026-12-01T00:00:00+01:00'), 'Europe/Paris');
    expect(months.map((m) => [m.month, m.start.toISOString(), m.end.toISOString()])).toEqual([
      ['2026-09', '2026-08-31T22:00:00.000Z', '2026-09-30T22:00:00.000Z'],
      ['2026-10', '2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z'], // 31 days + 1 h (25 Oct is 25 h long)
      ['2026-11', '2026-10-31T23:00:00.000Z', '2026-11-30T23:00:00.000Z'],
    ]);
    // A reading at 2026-09-30T22:30Z is 1 October 00:30 in Paris: October's, not September's.
    const meter: MeterSeries = {
      devEui: 'x',
      device: 'x',
      role: 'it-load',
      points: [
        { t: Date.parse('2026-09-30T21:30:00Z'), wh: 1_000 },
        { t: Date.parse('2026-09-30T22:30:00Z'), wh: 1_500 },
        { t: Date.parse('2026-10-31T22:30:00Z'), wh: 9_000 },
        { t: Date.parse('2026-10-31T23:30:00Z'), wh: 9_700 },
      ],
    };
    expect(monthlyFromSeries([meter], months).map((m) => m.kwh)).toEqual([0, 8, 0.7]); // Sep: one reading; Oct 1000→9000; Nov 9000→9700
  });
});

describe('exports', () => {
  const report = buildDatacenterReport({ tenant: 'saint-veilleur', site: 'mairie', zone: 'salle, "serveur"', from, to, meters: [facility, itMeter], category: 2 });

  it('EU 2024/1364 export: measured fields filled, the others null with a note', () => {
    const eed = eedFromReport(report, 2026, 'Europe/Paris');
    expect(eed.kpis.totalEnergyConsumptionKwh).toMatchObject({ value: 88.8, unit: 'kWh', source: 'measured' });
    expect(eed.kpis.itEnergyConsumptionKwh).toMatchObject({ value: 40, source: 'measured' });
    expect(eed.indicators.pue).toMatchObject({ value: 2.22, source: 'computed' });
    for (const k of ['totalWaterInputM3', 'wasteHeatReusedKwh', 'totalRenewableEnergyKwh', 'installedItPowerDemandKw']) {
      expect(eed.kpis[k]).toMatchObject({ value: null, source: 'not-measured' });
      expect(eed.kpis[k]?.note).toMatch(/not measured by Veilleur/);
    }
    expect(eed.indicators.wue?.value).toBeNull();
  });

  it('CSV: one metric per row, RFC 4180 quoting', () => {
    const csv = datacenterReportCsv(report);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    const period = '2026-03-01T00:00:00.000Z,2026-03-02T00:00:00.000Z';
    const zone = '"salle, ""serveur"""';
    expect(lines).toContain(`saint-veilleur,mairie,${zone},${period},pue,,,,2.22,`);
    expect(lines).toContain(`saint-veilleur,mairie,${zone},${period},energy_total_kwh,,,,88.8,kWh`);
    expect(lines).toContain(`saint-veilleur,mairie,${zone},${period},dcie,,,,45.05,%`);
    expect(lines).toContain(`saint-veilleur,mairie,${zone},${period},meter_kwh,it,24e124136d490002,it-load,40,kWh`);
    expect(lines).toContain(`saint-veilleur,mairie,${zone},${period},pue_category,,,,category 2 (PDU output),`);
    expect(lines.filter((l) => l.includes(',warning,'))).toHaveLength(1);
  });
});

describe('veilleur report', () => {
  it('rejects bad arguments with exit code 2 and a message naming the option', async () => {
    const err: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err.push(String(chunk));
      return true;
    });
    const ok = ['--site', 'mairie', '--from', '2026-03-01T00:00:00Z', '--to', '2026-03-02T00:00:00Z'];
    const cases: [string[], RegExp][] = [
      [['energy', ...ok], /unknown report 'energy'/],
      [['datacenter', '--from', '2026-03-01T00:00:00Z', '--to', '2026-03-02T00:00:00Z'], /--site: required/],
      [['datacenter', ...ok, '--format', 'xml'], /--format: expected json or csv/],
      [['datacenter', ...ok, '--category', '4'], /--category: expected 1, 2 or 3/],
      [['datacenter', ...ok, '--factor', 'rte-2024'], /--factor: unknown emission factor/],
      [['datacenter', '--site', 'mairie', '--from', '2026-03-01', '--to', '2026-03-02T00:00:00Z'], /--from: expected an RFC 3339 time/],
      [['datacenter', '--site', 'mairie', '--from', '2026-03-02T00:00:00Z', '--to', '2026-03-01T00:00:00Z'], /--to: must be after --from/],
      [['datacenter', '--site', 'mairie', '--eed', '26'], /--eed: expected a year/],
      [['datacenter', ...ok, '--bogus'], /Unknown option '--bogus'/],
    ];
    try {
      for (const [args, message] of cases) {
        err.length = 0;
        expect(await reportCommand(args)).toBe(2);
        expect(err.join('')).toMatch(message);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
