/**
 * The one degree-day computation (services/time/degree-days.ts): rule E5 and the yearly review, fed the same
 * outdoor hours, count the same days and find the same degree-days.
 */
import { describe, expect, it } from 'vitest';
import { degreeDayDriftRule } from '../../services/alerts/rules/energy.ts';
import type { InfluxSeries } from '../../services/storage/influx.ts';
import { reportsConfigSchema } from '../../services/reports/config.ts';
import { buildParsimonyReport } from '../../services/reports/parsimony.ts';
import { buildYearlyReport, type IndexMeter, type OutdoorHour } from '../../services/reports/yearly.ts';
import { localDayBounds } from '../../services/time/calendar.ts';
import { DEFAULT_CALENDAR } from '../../services/time/sites.ts';
import { dailyDegreeDays, degreeDaysOver, DJU_MIN_HOURS } from '../../services/time/degree-days.ts';

const H = 3_600_000;
const TZ = 'Europe/Paris';
const place = { site: 'ecole', building: 'ecole', devEui: '00000000000000e1' };

/** Hourly extremes of February of `year` (Paris days): day d is coldest at 05:00 (d % 5 − 3 °C), warmest at 15:00 (+9 °C). */
function february(year: number, skip: (date: string, hour: number) => boolean = () => false): OutdoorHour[] {
  const out: OutdoorHour[] = [];
  for (let d = 1; d <= 28; d++) {
    const date = `${year}-02-${String(d).padStart(2, '0')}`;
    const { start, end } = localDayBounds(date, TZ);
    const lo = (d % 5) - 3;
    const hi = lo + 9 + (d % 3);
    for (let t = start.getTime(), h = 0; t < end.getTime(); t += H, h++) {
      if (skip(date, h)) continue;
      const c = (lo + hi) / 2;
      out.push({ ...place, t, tmin: h === 5 ? lo : c, tmax: h === 15 ? hi : c });
    }
  }
  return out;
}

/** A building-main meter drawing 1 kW from 25 January to 5 March of `year`, read every hour. */
function meterPoints(year: number): { t: number; wh: number }[] {
  const from = Date.parse(`${year}-01-25T00:00:00Z`);
  return Array.from({ length: 40 * 24 }, (_, i) => ({ t: from + i * H, wh: 1e6 + i * 1000 }));
}

/** Rule E5 on these hours, through a query function answering as InfluxDB would (outdoor extremes, the meter). */
async function e5(outdoor: OutdoorHour[]) {
  // The meter's rows of both years answer both months' queries: the rule cuts each month at its local bounds.
  const meter: InfluxSeries = {
    name: 'electricity',
    tags: { tenant: 't1', site: place.site, building: place.building, dev_eui: 'lky', device: 'linky' },
    columns: ['time', 'v'],
    values: [...meterPoints(2025), ...meterPoints(2026)].map((p) => [p.t, p.wh]),
  };
  const air: InfluxSeries = { name: 'air', tags: { tenant: 't1', site: place.site }, columns: ['time', 'tmin', 'tmax'], values: outdoor.map((h) => [h.t, h.tmin, h.tmax]) };
  const findings = await degreeDayDriftRule().evaluate({
    now: new Date('2026-03-05T00:00:00Z'),
    query: async (q) => (q.includes('tmin') ? [air] : q.includes('electricity') ? [meter] : []),
    calendarFor: () => DEFAULT_CALENDAR,
  });
  expect(findings).toHaveLength(1);
  return findings[0]!.measured as { dju: number; outdoor_days: string; dju_last_year: number };
}

/** The yearly review of 2026 on the same hours (February only) and the same meter. */
function report(outdoor: OutdoorHour[]) {
  const from = new Date('2025-12-31T23:00:00Z');
  const to = new Date('2026-12-31T23:00:00Z');
  const meter: IndexMeter = { ...place, zone: '', device: 'linky', role: 'building-main', medium: 'electricity', points: meterPoints(2026) };
  const r = buildYearlyReport({
    tenant: 't1',
    year: 2026,
    timeZone: TZ,
    now: to,
    waterMeters: [],
    energyMeters: [meter],
    outdoor: outdoor.filter((h) => h.t >= from.getTime()),
    alerts: [],
    datacenterMeters: new Map(),
    parsimony: buildParsimonyReport({ tenant: 't1', from, to, devices: [], roles: new Map() }),
    storage: [],
    config: reportsConfigSchema.parse({}),
  });
  return r.energy.buildings[0]!;
}

describe('degree-days: one function for rule E5 and the yearly review', () => {
  it('gives E5 and the yearly review the same degree-days for the same month', async () => {
    const hours = [...february(2025), ...february(2026)];
    const byDay = dailyDegreeDays(hours.filter((h) => h.t >= Date.parse('2026-01-01')), TZ);
    const expected = [...byDay.values()].reduce((a, b) => a + b, 0);
    expect(byDay.size).toBe(28);
    const measured = await e5(hours);
    const building = report(hours);
    expect(measured.outdoor_days).toBe('28/28');
    expect(building.djuDays).toBe(28);
    expect(measured.dju).toBe(Math.round(expected * 10) / 10);
    expect(building.dju).toBe(measured.dju);
  });

  it('leaves out the same short day in both (fewer than 18 hours), E5 then scaling its sum to the month', async () => {
    // 10 February 2026 seen from 09:00 only: 15 hours, which E5 counted before (12 were enough) and the review did not.
    const hours = [...february(2025), ...february(2026, (date, h) => date === '2026-02-10' && h < 9)];
    const measured = await e5(hours);
    const building = report(hours);
    expect(measured.outdoor_days).toBe('27/28');
    expect(building.djuDays).toBe(27);
    expect(measured.dju).toBe(Math.round(((building.dju! * 28) / 27) * 10) / 10);
  });
});

describe('dailyDegreeDays', () => {
  it(`counts a sensor's day from ${DJU_MIN_HOURS} hours, in local days, and averages several sensors`, () => {
    const day = (devEui: string, date: string, n: number, lo: number, hi: number): OutdoorHour[] => {
      const start = localDayBounds(date, TZ).start.getTime();
      return Array.from({ length: n }, (_, i) => ({ ...place, devEui, t: start + i * H, tmin: i === 0 ? lo : hi, tmax: hi }));
    };
    const daily = dailyDegreeDays([...day('a', '2026-03-29', 23, 2, 10), ...day('b', '2026-03-29', 18, 4, 12), ...day('a', '2026-03-30', 17, 0, 8)], TZ);
    // 29 March (23 h, clocks forward): (6 + 8) / 2 = 7 → 11; 30 March: 17 hours, left out.
    expect([...daily]).toEqual([['2026-03-29', 11]]);
    expect(degreeDaysOver(daily, ['2026-03-29', '2026-03-30'])).toEqual({ dju: 11, days: 1, ofDays: 2 });
    expect(dailyDegreeDays(day('a', '2026-07-01', 24, 15, 25), TZ).get('2026-07-01')).toBe(0);
    expect(dailyDegreeDays(day('a', '2026-01-05', 24, 2, 10), TZ, 16).get('2026-01-05')).toBe(10);
  });
});
