/** Sites and Appareil pages: the tile figures, their periods, and the device page's period and radio reading. */
import { describe, expect, it } from 'vitest';
import { localDayBounds } from '../../services/time/calendar.ts';
import { decoderLabel, defaultAggregation, parseDevicePeriod, periodQuery, radioQuality, rawConsumption } from '../../services/console/pages/device.ts';
import {
  mergeDays,
  meterConsumption,
  metersFor,
  nightMinimum,
  pueOf,
  roomsSummary,
  siteConsumption,
  tilePeriods,
  tileQueries,
  type DayBucket,
  type MeterDays,
} from '../../services/console/pages/sites.ts';

const H = 3_600_000;
const D = 86_400_000;
const TZ = 'Europe/Paris';
const day = (date: string) => localDayBounds(date, TZ).start.getTime();
const b = (date: string, first: number | null, last: number | null): DayBucket => ({ t: day(date), first, last });
const meter = (role: string, days: DayBucket[]): MeterDays => ({ tenant: 't', site: 's', devEui: role, role, days });

describe('tile periods', () => {
  it('are local days in the site time zone, the week ending today, last night the one that is over', () => {
    // 2026-12-06 07:30 in Paris (UTC+1).
    const p = tilePeriods(new Date('2026-12-06T06:30:00Z'), TZ);
    expect(p.today).toBe('2026-12-06');
    expect(new Date(p.todayStart).toISOString()).toBe('2026-12-05T23:00:00.000Z');
    expect(p.todayStart - p.yesterdayStart).toBe(D);
    expect(new Date(p.weekStart).toISOString()).toBe('2026-11-29T23:00:00.000Z');
    expect(p.weekStart - p.queryFrom).toBe(D);
    expect(p.night.date).toBe('2026-12-06');
    expect(p.night.hourStarts).toHaveLength(6);
    expect(new Date(p.night.hourStarts[0]!).toISOString()).toBe('2026-12-05T23:00:00.000Z');
    // At 05:00 local the night is still under way: the previous one is shown.
    expect(tilePeriods(new Date('2026-12-06T04:00:00Z'), TZ).night.date).toBe('2026-12-05');
  });

  it('follow summer time and the spring change (a 5-hour night)', () => {
    const p = tilePeriods(new Date('2026-03-29T10:00:00Z'), TZ);
    expect(p.night.hourStarts).toHaveLength(5);
    expect(p.todayStart).toBe(Date.parse('2026-03-28T23:00:00Z'));
    expect(tilePeriods(new Date('2026-07-01T10:00:00Z'), TZ).todayStart).toBe(Date.parse('2026-06-30T22:00:00Z'));
  });

  it('are confined to the tenants and the site in every query', () => {
    const p = tilePeriods(new Date('2026-12-06T06:30:00Z'), TZ);
    const qs = tileQueries(p, [{ tag: 'tenant', in: ['a'] }, { tag: 'site', equals: 'mairie' }]);
    for (const q of Object.values(qs)) {
      expect(q).toContain(`("tenant" = 'a') AND "site" = 'mairie'`);
      expect(q).toMatch(/GROUP BY (time\(1[hd]\), )?"tenant", "site"/);
    }
    expect(qs.water).toContain(`tz('Europe/Paris')`);
    expect(qs.rooms).toContain(`"role" = 'room'`);
  });
});

describe('consumption from daily first/last index readings', () => {
  const start = day('2026-12-05');
  const end = day('2026-12-06');

  it('counts from the last reading before the period to the last one in it', () => {
    const days = [b('2026-12-04', 900, 1000), b('2026-12-05', 1010, 1200), b('2026-12-06', 1210, 1300)];
    expect(meterConsumption(days, start, end)).toEqual({ value: 200 });
    expect(meterConsumption(days, start, end + D)).toEqual({ value: 300 });
  });

  it('says the figure is partial when the meter has no reading before the period', () => {
    const days = [b('2026-12-05', 1010, 1200)];
    expect(meterConsumption(days, start, end)).toEqual({ value: 190, partialSince: start });
  });

  it('counts a counter reset as a restart from zero, and has no figure without readings', () => {
    const days = [b('2026-12-04', 0, 5000), b('2026-12-05', 5100, 40)];
    expect(meterConsumption(days, start, end)?.value).toBe(140);
    expect(meterConsumption([b('2026-12-04', 0, 5000)], start, end)).toBeUndefined();
  });

  it('takes complete days from the daily rollup and fills today from the readings', () => {
    const rolled = (date: string, diff: number, last: number): DayBucket => ({ t: day(date), first: null, last, diff });
    const raw = [b('2026-12-04', 980, 1000), b('2026-12-05', 1010, 1200), b('2026-12-06', 1210, 1260)];
    const days = mergeDays([rolled('2026-12-04', 70, 1000), rolled('2026-12-05', 200, 1200)], raw);
    expect(days.map((d) => d.diff ?? 'raw')).toEqual([70, 200, 'raw']);
    // The week: 70 + 200 from the rollup, today 1200 → 1260 from the readings; nothing partial.
    expect(meterConsumption(days, day('2026-12-04'), day('2026-12-07'))).toEqual({ value: 330 });
    expect(meterConsumption(days, day('2026-12-06'), day('2026-12-07'))).toEqual({ value: 60 });
    // A day the rollup has not reached: the readings count it, from the rollup's last index of the day before.
    const late = mergeDays([rolled('2026-12-04', 70, 1000)], raw);
    expect(meterConsumption(late, day('2026-12-05'), day('2026-12-06'))).toEqual({ value: 200 });
  });

  it('adds up a site’s meters and says how many had readings', () => {
    const m1 = meter('water-main', [b('2026-12-04', 0, 100), b('2026-12-05', 100, 150)]);
    const m2 = meter('water-main', [b('2026-12-05', 10, 30)]);
    const m3 = meter('water-main', []);
    expect(siteConsumption([m1, m2, m3], start, end)).toEqual({ value: 70, meters: 3, metersWithData: 2, partialSince: start });
    expect(siteConsumption([m3], start, end)).toBeUndefined();
  });

  it('takes the building meters, the district meters only when a site has no building meter', () => {
    const main = meter('water-main', []);
    const district = meter('district-inflow', []);
    const roles = { primary: ['water-main'], fallback: ['district-inflow'] };
    expect(metersFor([main, district], roles)).toEqual([main]);
    expect(metersFor([district], roles)).toEqual([district]);
    expect(metersFor([meter('room', [])], roles)).toEqual([]);
  });

  it('gives a PUE only with both meters and some IT energy', () => {
    const f = (value: number) => ({ value, meters: 1, metersWithData: 1 });
    expect(pueOf(f(176), f(100))).toBeCloseTo(1.76);
    expect(pueOf(f(176), f(0))).toBeUndefined();
    expect(pueOf(undefined, f(100))).toBeUndefined();
  });
});

describe('minimum night flow', () => {
  const h0 = Date.parse('2026-12-05T23:00:00Z');
  const hours = Array.from({ length: 6 }, (_, i) => h0 + i * H);
  const series = (values: (number | null)[]) => ({ role: 'water-main', hours: values.map((last, i) => ({ t: h0 + (i - 1) * H, last })) });

  it('is the smallest hourly volume of the site, each hour from the index at the end of the hour before', () => {
    // Index at 23:00 (the hour before the night), then 00:00 … 05:00.
    const m = series([100, 120, 130, 135, 150, 170, 200]);
    expect(nightMinimum([m], hours)).toEqual({ value: 5, at: h0 + 2 * H, hours: 6, of: 6 });
  });

  it('sums the site’s meters hour by hour and leaves out the hours one of them cannot tell', () => {
    const a = series([0, 10, 20, 30, 40, 50, 60]);
    const c = series([0, 1, null, 3, 4, 5, 6]);
    // Hours 01:00 and 02:00 need the missing reading: 4 hours left, each 11 L.
    expect(nightMinimum([a, c], hours)).toEqual({ value: 11, at: h0, hours: 4, of: 6 });
  });

  it('leaves out an hour whose index went down (a reset) and has no figure without meters or readings', () => {
    expect(nightMinimum([series([100, 50, 60, 70, 80, 90, 100])], hours)?.at).toBe(h0 + H);
    expect(nightMinimum([], hours)).toBeUndefined();
    expect(nightMinimum([series([null, null, null, null, null, null, null])], hours)).toBeUndefined();
  });
});

describe('rooms against 19 °C', () => {
  it('gives the mean, the warmest room, how many are above and the oldest reading used', () => {
    const r = (device: string, value: number, t: number) => ({ devEui: device, device, value, t });
    const s = roomsSummary([r('accueil', 21.5, 3000), r('bureau', 18.5, 1000), r('salle', 19, 2000)]);
    expect(s).toMatchObject({ rooms: 3, above: 1, oldest: 1000 });
    expect(s?.mean).toBeCloseTo(19.667, 2);
    expect(s?.warmest.device).toBe('accueil');
    expect(roomsSummary([])).toBeUndefined();
  });
});

describe('device page period', () => {
  const now = new Date('2026-12-06T06:30:00Z');

  it('is the last 7 days, hourly, by default; 24 h raw; 30 days daily', () => {
    const p = parseDevicePeriod({}, now, TZ);
    expect(p).toMatchObject({ preset: '7j', aggregation: 'horaires' });
    expect(p.to.getTime() - p.from.getTime()).toBe(7 * D);
    expect(parseDevicePeriod({ periode: '24h' }, now, TZ).aggregation).toBe('brutes');
    expect(parseDevicePeriod({ periode: '30j' }, now, TZ).aggregation).toBe('journalieres');
    expect(parseDevicePeriod({ periode: '30j', agregation: 'horaires' }, now, TZ).aggregation).toBe('horaires');
    expect(defaultAggregation(2 * D)).toBe('brutes');
  });

  it('takes dates as whole local days, both included', () => {
    const p = parseDevicePeriod({ du: '2026-12-01', au: '2026-12-02', periode: '30j' }, now, TZ);
    expect(p.from.toISOString()).toBe('2026-11-30T23:00:00.000Z');
    expect(p.to.toISOString()).toBe('2026-12-02T23:00:00.000Z');
    expect(p).toMatchObject({ preset: undefined, du: '2026-12-01', au: '2026-12-02', aggregation: 'brutes' });
    expect(p.problem).toBeUndefined();
    expect(periodQuery(p)).toBe('du=2026-12-01&au=2026-12-02&agregation=brutes');
    // Only a start: up to now.
    expect(parseDevicePeriod({ du: '2026-12-05' }, now, TZ).to).toEqual(now);
  });

  it('falls back to a servable period and names what could not be given', () => {
    expect(parseDevicePeriod({ du: '2026-12-05', au: '2026-12-01' }, now, TZ)).toMatchObject({ problem: 'order', preset: '7j', du: undefined });
    expect(parseDevicePeriod({ du: '2024-01-01', au: '2026-01-01' }, now, TZ).problem).toBe('too-long');
    expect(parseDevicePeriod({ du: '2026-02-30' }, now, TZ).problem).toBe('bad-date');
    expect(parseDevicePeriod({ du: "1' OR 1=1" }, now, TZ).problem).toBe('bad-date');
    const raw = parseDevicePeriod({ du: '2026-09-01', au: '2026-11-30', agregation: 'brutes' }, now, TZ);
    expect(raw).toMatchObject({ problem: 'raw-too-long', aggregation: 'journalieres' });
    expect(parseDevicePeriod({ periode: '1an', agregation: 'minute' }, now, TZ)).toMatchObject({ preset: '7j', aggregation: 'horaires' });
  });
});

describe('device page readings', () => {
  it('shows an index as the consumption between consecutive readings, a reset as a restart from zero', () => {
    expect(
      rawConsumption([
        [1, 100],
        [2, 130],
        [3, null],
        [4, 135],
        [5, 10],
      ]),
    ).toEqual([
      [2, 30],
      [4, 5],
      [5, 10],
    ]);
  });

  it('reads the radio link in words', () => {
    expect(radioQuality(-90, 8)).toBe('good');
    expect(radioQuality(-108, -3)).toBe('fair');
    expect(radioQuality(-118, 2)).toBe('poor');
    expect(radioQuality(-95, -12)).toBe('poor');
    expect(radioQuality(null, 3)).toBeUndefined();
  });

  it('names the decoder as the vendor does', () => {
    expect(decoderLabel('milesight/em300-zld')).toBe('Milesight EM300-ZLD');
    expect(decoderLabel('adeunis/tic cbe/linky mono')).toBe('Adeunis TIC CBE LINKY MONO');
    expect(decoderLabel('codec:acme-water')).toBe('acme-water');
    expect(decoderLabel(undefined)).toBeUndefined();
  });
});
