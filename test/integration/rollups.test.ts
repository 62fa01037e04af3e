/**
 * Rollups on a real InfluxDB 1.x: raw readings written as line protocol around the last spring and autumn DST
 * changes of Europe/Paris (a 23-hour and a 25-hour local day), rolled up by the service's own code, and compared
 * with aggregates computed by hand from the same readings; then recomputation (identical points) and a rollup run
 * interrupted mid-way (a crash between a write and its checkpoint, an abort between steps) that resumes without
 * gaps or duplicates.
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEASUREMENTS, type Measurement } from '../../decoders/model/quantities.ts';
import { localDayBounds, localTime, siteCalendarSchema } from '../../services/time/calendar.ts';
import { applyRetention } from '../../services/retention/apply.ts';
import { retentionSchema } from '../../services/retention/config.ts';
import { AUDIT_LOG } from '../../services/retention/audit.ts';
import { ROLLUP_CHECKPOINT, ROLLUP_MEASUREMENTS, ROLLUP_RP, rollupFields, rollupMeasurement, type Resolution } from '../../services/rollups/names.ts';
import { computeRollups, readCheckpoint, RollupRunner, type Period } from '../../services/rollups/rollup.ts';
import { createRollupScheduler } from '../../services/rollups/scheduler.ts';
import { createInfluxTarget, type InfluxTarget } from '../../services/storage/influx.ts';
import { READING_TAGS } from '../../services/storage/schema.ts';
import { queryRows, startStack, type Stack } from './support.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const PARIS = 'Europe/Paris';
const REUNION = 'Indian/Reunion';
const LAG = 15 * MIN;
const silent = pino({ level: 'silent' });

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** A fresh database with Veilleur's retention policies (raw kept forever, so fixtures can be anywhere in time). */
async function database(db: string): Promise<InfluxTarget> {
  await stack.influx.createDatabase(db);
  const influxConfig = { api: 'v1' as const, url: stack.influx.url, db, timeoutMs: 10_000 };
  const influx = createInfluxTarget(influxConfig);
  await applyRetention({ influx, influxConfig, retention: retentionSchema.parse({ raw: 'inf' }) });
  return influx;
}

/** The most recent local day of `hours` hours in Paris (a DST change) that ended at least 3 days ago. */
function dstDay(hours: 23 | 25): Period {
  let t = Date.now() - 3 * DAY;
  for (let i = 0; i < 400; i++, t -= DAY) {
    const b = localDayBounds(localTime(new Date(t), PARIS).date, PARIS);
    if (b.end.getTime() - b.start.getTime() === hours * HOUR) return { start: b.start.getTime(), end: b.end.getTime() };
  }
  throw new Error(`no ${hours}-hour day in Paris in the last 400 days`);
}

interface RawPoint {
  m: Measurement;
  tags: Record<string, string>;
  t: number;
  fields: Record<string, number | boolean>;
}

const ROOM = { tenant: 'sv', site: 'mairie', building: 'mairie', zone: 'accueil', dev_eui: 'a000000000000001', device: 'accueil', role: 'room' };
const METER = { tenant: 'sv', site: 'mairie', building: 'mairie', dev_eui: 'b000000000000001', device: 'compteur-eau', role: 'water-main' };
const LEAK = { tenant: 'sv', site: 'mairie', building: 'mairie', zone: 'chaufferie', dev_eui: 'b000000000000002', device: 'fuite', role: 'leak-sensor' };
const PULSE = { tenant: 'sv', site: 'gymnase', dev_eui: 'b000000000000003', device: 'impulsions', channel: 'A' };
const REUNION_METER = { tenant: 'reunion', site: 'st-denis', dev_eui: 'c000000000000001', device: 'linky-st-denis', role: 'building-main' };

/**
 * Readings from `from` (a whole hour) to `to`: a room sensor every 10 min, a water meter +10 L every 15 min that is
 * replaced 30 h in (index back to 5) and silent from 40 h to 43 h, a leak sensor every hour, a pulse input on
 * channel A, and a meter in La Réunion (UTC+4, no DST) +250 Wh every 15 min.
 */
function fixture(from: number, to: number): RawPoint[] {
  const pts: RawPoint[] = [];
  for (let t = from, k = 0; t < to; t += 10 * MIN, k++) {
    pts.push({ m: 'air', tags: ROOM, t, fields: { temperature_c: 18 + ((k * 7) % 40) / 10, humidity_pct: 40 + (k % 13), co2_ppm: 400 + ((k * 37) % 500) } });
  }
  let index = 1000;
  let pulses = 0;
  let wh = 5_000_000;
  for (let t = from; t < to; t += 15 * MIN) {
    const h = (t - from) / HOUR;
    index = h === 30 ? 5 : index + 10;
    if (!(h >= 40 && h < 43)) pts.push({ m: 'water', tags: METER, t, fields: { volume_index_l: index } });
    pts.push({ m: 'pulse', tags: PULSE, t, fields: { count_index: (pulses += 3) } });
    pts.push({ m: 'electricity', tags: REUNION_METER, t, fields: { active_energy_index_wh: (wh += 250), active_power_w: 1000 + (h % 7) * 10 } });
    if (t % HOUR === 0) pts.push({ m: 'water', tags: LEAK, t, fields: { leak: h % 5 === 0 } });
  }
  return pts;
}

async function writeRaw(db: string, pts: RawPoint[]): Promise<void> {
  const lines = pts.map((p) => {
    const tags = Object.entries(p.tags).map(([k, v]) => `,${k}=${v}`).join('');
    const fields = Object.entries(p.fields).map(([k, v]) => `${k}=${v}`).join(',');
    return `${p.m}${tags} ${fields} ${p.t}`;
  });
  for (let i = 0; i < lines.length; i += 5000) {
    const r = await fetch(`${stack.influx.url}/write?db=${db}&precision=ms`, { method: 'POST', body: lines.slice(i, i + 5000).join('\n') });
    expect(r.status).toBe(204);
  }
}

const timeZoneOf = (tenant: string) => (tenant === 'reunion' ? REUNION : PARIS);
const seriesKey = (tags: Record<string, unknown>) => READING_TAGS.map((t) => `${t}=${typeof tags[t] === 'string' ? tags[t] : ''}`).join(',');

/** Complete hours and local days (of each zone) between `from` and `now`, as the rollups should cover them. */
function expectedPeriods(from: number, now: number): { '1h': Period[]; '1d': Record<string, Period[]> } {
  const hours: Period[] = [];
  for (let t = from; t + HOUR + LAG <= now; t += HOUR) hours.push({ start: t, end: t + HOUR });
  const days: Record<string, Period[]> = {};
  for (const zone of [PARIS, REUNION]) {
    days[zone] = [];
    let date = localTime(new Date(from), zone).date;
    for (let i = 0; i < 30; i++) {
      const b = localDayBounds(date, zone);
      if (b.end.getTime() + LAG > now) break;
      days[zone].push({ start: b.start.getTime(), end: b.end.getTime() });
      date = localTime(b.end, zone).date;
    }
  }
  return { '1h': hours, '1d': days };
}

type Expected = Map<string, Record<string, number | boolean>>;

/** The rollups computed by hand: per series and period, min/mean/max/last, and index increases (a decrease counts 0). */
function byHand(pts: RawPoint[], resolution: Resolution, periods: Period[], keep: (tags: Record<string, string>) => boolean = () => true): Expected {
  const out: Expected = new Map();
  const series = new Map<string, RawPoint[]>();
  for (const p of pts) {
    if (!keep(p.tags)) continue;
    const k = `${p.m}|${seriesKey(p.tags)}`;
    series.set(k, [...(series.get(k) ?? []), p]);
  }
  for (const [k, list] of series) {
    const m = list[0]!.m;
    list.sort((a, b) => a.t - b.t);
    for (const period of periods) {
      const inside = list.filter((p) => p.t >= period.start && p.t < period.end);
      const fields: Record<string, number | boolean> = {};
      for (const spec of rollupFields(m)) {
        const values = inside.map((p) => p.fields[spec.source]).filter((v) => v !== undefined);
        if (values.length === 0) continue;
        if (spec.kind === 'flag') fields[`${spec.source}_last`] = values[values.length - 1]!;
        else if (spec.kind === 'gauge') {
          const xs = values as number[];
          Object.assign(fields, {
            [`${spec.source}_min`]: Math.min(...xs),
            [`${spec.source}_mean`]: xs.reduce((a, b) => a + b, 0) / xs.length,
            [`${spec.source}_max`]: Math.max(...xs),
            [`${spec.source}_last`]: xs[xs.length - 1]!,
          });
        } else {
          const before = list.filter((p) => p.t < period.start && p.fields[spec.source] !== undefined).at(-1);
          let prev = before?.fields[spec.source] as number | undefined;
          let diff = 0;
          for (const v of values as number[]) {
            if (prev !== undefined && v > prev) diff += v - prev;
            prev = v;
          }
          fields[`${spec.source}_diff`] = diff;
          fields[`${spec.source}_last`] = values[values.length - 1]!;
        }
      }
      if (Object.keys(fields).length) out.set(`${rollupMeasurement(m, resolution)}|${k.slice(k.indexOf('|') + 1)}|${period.start}`, fields);
    }
  }
  return out;
}

/** Every stored rollup point of a resolution, keyed like byHand's. */
async function stored(db: string, resolution: Resolution): Promise<Expected> {
  const out: Expected = new Map();
  for (const m of MEASUREMENTS) {
    for (const row of await queryRows(stack.influx, db, `SELECT * FROM "${ROLLUP_RP[resolution]}"."${rollupMeasurement(m, resolution)}"`)) {
      const fields = Object.fromEntries(Object.entries(row).filter(([c, v]) => c !== 'time' && !(READING_TAGS as readonly string[]).includes(c) && v !== null)) as Record<string, number | boolean>;
      out.set(`${rollupMeasurement(m, resolution)}|${seriesKey(row)}|${Number(row.time)}`, fields);
    }
  }
  return out;
}

function expectSame(actual: Expected, expected: Expected): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [k, want] of expected) {
    const got = actual.get(k)!;
    expect(Object.keys(got).sort(), k).toEqual(Object.keys(want).sort());
    for (const [f, v] of Object.entries(want)) {
      if (typeof v === 'number') expect(got[f], `${k} ${f}`).toBeCloseTo(v, 9);
      else expect(got[f], `${k} ${f}`).toBe(v);
    }
  }
}

async function expectMatchesHand(db: string, pts: RawPoint[], from: number, now: number): Promise<void> {
  const periods = expectedPeriods(from, now);
  expectSame(await stored(db, '1h'), byHand(pts, '1h', periods['1h']));
  const daily: Expected = new Map();
  for (const zone of [PARIS, REUNION]) {
    for (const [k, v] of byHand(pts, '1d', periods['1d'][zone]!, (tags) => timeZoneOf(tags.tenant ?? '') === zone)) daily.set(k, v);
  }
  expectSame(await stored(db, '1d'), daily);
}

const SITES = [{ tenant: 'reunion', site: 'st-denis', calendar: siteCalendarSchema.parse({ timeZone: REUNION }) }];

describe('rollups computed by the service', () => {
  it('are documented in docs/schema.md: every rollup measurement, the checkpoint and the audit log with their fields', () => {
    const doc = readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8');
    for (const m of ROLLUP_MEASUREMENTS) expect(doc).toContain(`\`${m}\``);
    for (const m of [ROLLUP_CHECKPOINT, AUDIT_LOG]) {
      expect(doc).toContain(`### \`${m.measurement}\``);
      for (const f of Object.keys(m.fields)) expect(doc, `${m.measurement}.${f}`).toContain(`\`${f}\``);
    }
    for (const f of ['f_min', 'f_mean', 'f_max', 'f_last', 'f_diff', 'rollup_1h', 'rollup_1d']) expect(doc).toContain(`\`${f}\``);
  });

  it('match aggregates computed by hand across the autumn DST change (a 25-hour local day)', async () => {
    const db = 'autumn';
    const influx = await database(db);
    const day = dstDay(25);
    const from = day.start - 2 * HOUR;
    const to = day.end + 2 * DAY;
    const pts = fixture(from, to);
    await writeRaw(db, pts);
    const now = to + 30 * MIN;
    const scheduler = createRollupScheduler({ influx, retention: retentionSchema.parse({ raw: 'inf', rollups: { maxPeriodsPerRound: 500 } }), sites: SITES, log: silent });
    const report = await scheduler.runOnce(new Date(now));
    expect(report.behind).toBe(false);
    await expectMatchesHand(db, pts, from, now);

    // The 25-hour day, stamped at local midnight (22:00 UTC the day before): 100 quarter-hours of 10 L.
    const daily = await queryRows(stack.influx, db, `SELECT volume_index_l_diff FROM "rollup_1d"."water_1d" WHERE dev_eui = '${METER.dev_eui}' AND time = ${day.start}ms`);
    expect(daily).toEqual([{ time: day.start, volume_index_l_diff: 1000 }]);
    expect(new Date(day.start).getUTCHours()).toBe(22);
    const hours = await queryRows(stack.influx, db, `SELECT count(volume_index_l_diff) AS n, sum(volume_index_l_diff) AS litres FROM "rollup_1h"."water_1h" WHERE dev_eui = '${METER.dev_eui}' AND time >= ${day.start}ms AND time < ${day.end}ms`);
    expect(hours[0]).toMatchObject({ n: 25, litres: 1000 });
    // La Réunion's days run from 20:00 UTC: a full one holds 96 quarter-hours of 250 Wh.
    const reunion = await queryRows(stack.influx, db, `SELECT active_energy_index_wh_diff AS wh FROM "rollup_1d"."electricity_1d" WHERE site = 'st-denis'`);
    expect(reunion.length).toBeGreaterThanOrEqual(2);
    for (const r of reunion) expect(new Date(Number(r.time)).getUTCHours()).toBe(20);
    expect(reunion.filter((r) => Number(r.time) >= from + DAY).every((r) => r.wh === 24_000)).toBe(true);
    // The meter replacement (index back to 5) and the 3 silent hours: the day after counts 96 quarter-hours of 10 L
    // but the one lost at the reset; the silent hours' 130 L land in the hour of the next reading (+ 3 × 10 L).
    const after = await queryRows(stack.influx, db, `SELECT volume_index_l_diff FROM "rollup_1d"."water_1d" WHERE dev_eui = '${METER.dev_eui}' AND time = ${day.end}ms`);
    expect(after[0]?.volume_index_l_diff).toBe(950);
    const gap = await queryRows(stack.influx, db, `SELECT volume_index_l_diff, volume_index_l_last FROM "rollup_1h"."water_1h" WHERE dev_eui = '${METER.dev_eui}' AND time >= ${from + 40 * HOUR}ms AND time < ${from + 44 * HOUR}ms`);
    expect(gap).toEqual([{ time: from + 43 * HOUR, volume_index_l_diff: 160, volume_index_l_last: expect.any(Number) }]);
  });

  it('match aggregates computed by hand across the spring DST change (a 23-hour local day)', async () => {
    const db = 'spring';
    const influx = await database(db);
    const day = dstDay(23);
    const from = day.start - 2 * HOUR;
    const to = day.end + 2 * DAY;
    const pts = fixture(from, to);
    await writeRaw(db, pts);
    const now = to + 30 * MIN;
    const scheduler = createRollupScheduler({ influx, retention: retentionSchema.parse({ raw: 'inf', rollups: { maxPeriodsPerRound: 500 } }), sites: SITES, log: silent });
    expect((await scheduler.runOnce(new Date(now))).behind).toBe(false);
    await expectMatchesHand(db, pts, from, now);
    const daily = await queryRows(stack.influx, db, `SELECT volume_index_l_diff FROM "rollup_1d"."water_1d" WHERE dev_eui = '${METER.dev_eui}' AND time = ${day.start}ms`);
    expect(daily).toEqual([{ time: day.start, volume_index_l_diff: 920 }]);
    const temp = await queryRows(stack.influx, db, `SELECT count(temperature_c_mean) AS n FROM "rollup_1h"."air_1h" WHERE time >= ${day.start}ms AND time < ${day.end}ms`);
    expect(temp[0]?.n).toBe(23);
  });

  it('re-running a period rewrites identical points (same measurement, tags, timestamp and values)', async () => {
    const db = 'again';
    const influx = await database(db);
    const day = dstDay(25);
    const from = day.start - 2 * HOUR;
    const pts = fixture(from, day.end);
    await writeRaw(db, pts);
    const scheduler = createRollupScheduler({ influx, retention: retentionSchema.parse({ raw: 'inf', rollups: { maxPeriodsPerRound: 500 } }), sites: SITES, log: silent });
    await scheduler.runOnce(new Date(day.end + HOUR));
    const before = { h: await stored(db, '1h'), d: await stored(db, '1d') };
    expect(before.h.size).toBeGreaterThan(50);

    const hours: Period[] = [];
    for (let t = from; t < day.end; t += HOUR) hours.push({ start: t, end: t + HOUR });
    const first = await computeRollups(influx, '1h', hours);
    const second = await computeRollups(influx, '1h', hours);
    expect(second).toEqual(first);
    await influx.write(Buffer.from(`${first.join('\n')}\n`), ROLLUP_RP['1h']);
    const paris = (tags: Record<string, string>) => timeZoneOf(tags.tenant ?? '') === PARIS;
    await influx.write(Buffer.from(`${(await computeRollups(influx, '1d', [day], { keep: paris })).join('\n')}\n`), ROLLUP_RP['1d']);

    expect(await stored(db, '1h')).toEqual(before.h);
    expect(await stored(db, '1d')).toEqual(before.d);
  });

  it('resume after a crash between a write and its checkpoint, and after an abort between steps: no gap, no duplicate', async () => {
    const db = 'resume';
    const influx = await database(db);
    const day = dstDay(25);
    const from = day.start - 2 * HOUR;
    const to = day.end + 2 * DAY;
    const pts = fixture(from, to);
    await writeRaw(db, pts);
    const now = new Date(to + 30 * MIN);
    const runner = (extra: Partial<ConstructorParameters<typeof RollupRunner>[0]> = {}) =>
      new RollupRunner({
        influx,
        resolutions: ['1h', '1d'],
        timeZoneOf: (tenant) => timeZoneOf(tenant),
        zones: [PARIS, REUNION],
        lagMs: LAG,
        maxPeriodsPerRound: 30,
        retentionMs: { '1h': 730 * DAY, '1d': 1900 * DAY },
        periodsPerStep: { '1h': 6 },
        ...extra,
      });

    // 1. The process dies after writing the third step's points, before its checkpoint.
    let steps = 0;
    const crash = runner({
      afterWrite: () => {
        if (++steps === 3) throw new Error('killed');
      },
    });
    await expect(crash.runOnce(now)).rejects.toThrow('killed');
    expect(await readCheckpoint(influx, '1h', 'UTC')).toBe(from + 12 * HOUR);

    // 2. A new process resumes there and is stopped between two steps.
    const stop = new AbortController();
    steps = 0;
    const stopped = runner({
      afterWrite: () => {
        if (++steps === 2) stop.abort();
      },
    });
    const partial = await stopped.runOnce(now, stop.signal);
    expect(partial.behind).toBe(true);
    expect(partial.steps.map((s) => [s.from, s.to])).toEqual([
      [from + 12 * HOUR, from + 18 * HOUR],
      [from + 18 * HOUR, from + 24 * HOUR],
    ]);
    expect(await readCheckpoint(influx, '1h', 'UTC')).toBe(from + 24 * HOUR);

    // 3. Later processes catch up, at most 30 periods per resolution and zone in a round.
    let rounds = 0;
    for (let behind = true; behind && rounds < 20; rounds++) {
      const r = await runner().runOnce(now);
      for (const target of ['1h|UTC', `1d|${PARIS}`, `1d|${REUNION}`]) {
        expect(r.steps.filter((s) => `${s.resolution}|${s.zone}` === target).reduce((n, s) => n + s.periods, 0)).toBeLessThanOrEqual(30);
      }
      behind = r.behind;
    }
    expect(rounds).toBeGreaterThan(1);
    expect(rounds).toBeLessThan(20);
    await expectMatchesHand(db, pts, from, now.getTime());
    const hours = expectedPeriods(from, now.getTime())['1h'];
    expect(await readCheckpoint(influx, '1h', 'UTC')).toBe(hours[hours.length - 1]!.end);
  });
});
