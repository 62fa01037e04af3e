/**
 * Bytes stored per device and year once rollups and retention are applied, measured on a real InfluxDB 1.x:
 * - points per device and day of each class, from the simulated town (its real device payloads through the real
 *   ingestion pipeline, then the real rollups);
 * - bytes per point of each class, from the on-disk size of its retention policy's TSM files once InfluxDB has
 *   flushed its write-ahead log and compacted (a private influxd whose cold-write delays are 1 s instead of 10 min
 *   and 4 h), divided by the points written there.
 * At a few weeks of data, bytes per point of the small classes (daily rollups) include per-series overhead that a
 * year of data spreads thinner: their figure is an upper bound. Alert events (per incident, not per device) and
 * the audit log (per decision) are left out.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { freePort, InfluxServer } from '../../services/dev/servers.ts';
import { createMetrics } from '../../services/metrics.ts';
import { builtInDecoders } from '../../services/pipeline/decode.ts';
import { Ingestor } from '../../services/pipeline/ingest.ts';
import { Registry } from '../../services/registry/registry.ts';
import { ROLLUP_RP, type Resolution } from '../../services/rollups/names.ts';
import { computeRollups, RollupRunner, type Period } from '../../services/rollups/rollup.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { applyRetention } from '../../services/retention/apply.ts';
import { durationMs } from '../../services/retention/classes.ts';
import { retentionSchema, type RetentionConfig } from '../../services/retention/config.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const YEAR_DAYS = 365;
/** Shifted copies of the daily rollups, to measure a year of them. */
const DAILY_COPIES = 12;

export interface ClassFootprint {
  dataClass: 'raw' | 'hourly' | 'daily';
  points: number;
  diskBytes: number;
  bytesPerPoint: number;
  pointsPerDevicePerDay: number;
  retentionDays: number;
  /** Held for one device after a year of operation (retention applied). */
  bytesPerDeviceFirstYear: number;
  /** Held for one device once every class has reached its retention (infinite retention: per year instead). */
  bytesPerDeviceSteadyState: number;
}

export interface Footprint {
  devices: number;
  days: number;
  classes: ClassFootprint[];
  /** Bytes stored per device after a year, rollups and retention applied. */
  bytesPerDeviceYear: number;
  /** Bytes per device once all classes are at their retention (the most a device ever costs). */
  bytesPerDeviceSteadyState: number;
  /** For comparison: raw data kept a year, no rollups, no retention. */
  bytesPerDeviceYearRawOnly: number;
}

function filesUnder(dir: string, keep: (name: string) => boolean): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return { bytes, files };
  }
  for (const e of entries) {
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) {
      const sub = filesUnder(p, keep);
      bytes += sub.bytes;
      files += sub.files;
    } else if (keep(e)) {
      bytes += st.size;
      files++;
    }
  }
  return { bytes, files };
}

/**
 * Measures the footprint of `devices` (default: the simulated town) over `days` of simulated operation, with the
 * retention of `retention` (default: Veilleur's defaults). Starts and stops its own influxd (about a minute).
 */
export async function measureFootprint(opts: { days?: number; devices?: readonly SimDevice[]; retention?: RetentionConfig; log?: (msg: string) => void } = {}): Promise<Footprint> {
  const days = opts.days ?? 28;
  const devices = opts.devices ?? TOWN;
  const retention = opts.retention ?? retentionSchema.parse({});
  const say = opts.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'veilleur-footprint-'));
  const server = new InfluxServer(await freePort(), await freePort(), join(dir, 'influxdb'));
  // Flush the WAL to TSM files and compact them as soon as writes stop, so the files measured are the lasting ones.
  const conf = join(dir, 'influxdb', 'influxdb.conf');
  writeFileSync(conf, readFileSync(conf, 'utf8').replace('[data]\n', '[data]\n  cache-snapshot-write-cold-duration = "1s"\n  compact-full-write-cold-duration = "1s"\n'));
  const db = 'footprint';
  try {
    await server.start();
    await server.createDatabase(db);
    const influxConfig = { api: 'v1' as const, url: server.url, db, timeoutMs: 30_000 };
    const influx = createInfluxTarget(influxConfig);
    await applyRetention({ influx, influxConfig, retention });

    // Raw: the town's uplinks through the real pipeline, ending an hour ago (inside every retention).
    const end = Math.floor((Date.now() - HOUR) / HOUR) * HOUR;
    const start = end - days * DAY;
    const ingestor = new Ingestor(new Registry(townRegistry(devices), 'default'), [builtInDecoders], createMetrics(), pino({ level: 'silent' }));
    let rawPoints = 0;
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length) await influx.write(Buffer.from(`${batch.join('\n')}\n`));
      batch = [];
    };
    for (const u of generateUplinks({ start: new Date(start), end: new Date(end), devices, seed: 7 })) {
      const lines = await ingestor.handle(u.topic, Buffer.from(u.payload), u.time);
      rawPoints += lines.length;
      batch.push(...lines);
      if (batch.length >= 5000) await flush();
    }
    await flush();
    say(`footprint: ${rawPoints} raw points for ${devices.length} devices over ${days} days`);

    // Rollups of the same period, by the service's own code.
    const points: Record<Resolution, number> = { '1h': 0, '1d': 0 };
    const periods: Record<Resolution, number> = { '1h': 0, '1d': 0 };
    const runner = new RollupRunner({
      influx,
      resolutions: ['1h', '1d'],
      timeZoneOf: () => retention.rollups.timeZone,
      zones: [retention.rollups.timeZone],
      lagMs: 0,
      maxPeriodsPerRound: days * 24 + 48,
      retentionMs: { '1h': durationMs(retention.hourly)!, '1d': durationMs(retention.daily)! },
      initialStart: async () => start,
    });
    const dailyPeriods: Period[] = [];
    for (const s of (await runner.runOnce(new Date(end))).steps) {
      points[s.resolution] += s.lines;
      periods[s.resolution] += s.periods;
      if (s.resolution === '1d') dailyPeriods.push({ start: s.from, end: s.to });
    }
    // Daily points are few: a few weeks of them would be measured mostly as per-series overhead. The same points,
    // shifted back by whole multiples of the period, fill a year the way a year of operation would.
    const daily = await computeRollups(influx, '1d', dailyPeriods);
    for (let k = 1; k <= DAILY_COPIES; k++) {
      const shift = k * days * DAY;
      const copies = daily.map((l) => `${l.slice(0, l.lastIndexOf(' '))} ${Number(l.slice(l.lastIndexOf(' ') + 1)) - shift}`);
      for (let i = 0; i < copies.length; i += 5000) await influx.write(Buffer.from(`${copies.slice(i, i + 5000).join('\n')}\n`), ROLLUP_RP['1d']);
      points['1d'] += copies.length;
      periods['1d'] += dailyPeriods.length;
    }

    // Wait (bounded) for the WAL to be flushed and the TSM files to stop changing.
    const wal = () => filesUnder(join(dir, 'influxdb', 'wal', db), () => true).bytes;
    const tsm = (rp: string) => filesUnder(join(dir, 'influxdb', 'data', db, rp), (n) => n.endsWith('.tsm'));
    const rawRp = 'autogen';
    let last = '';
    let stable = 0;
    for (let i = 0; i < 240 && stable < 4; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const now = JSON.stringify([wal(), tsm(rawRp), tsm(ROLLUP_RP['1h']), tsm(ROLLUP_RP['1d'])]);
      stable = now === last && wal() === 0 ? stable + 1 : 0;
      last = now;
    }
    const measured: { dataClass: ClassFootprint['dataClass']; points: number; bytes: number; perDay: number; retention: string }[] = [
      { dataClass: 'raw', points: rawPoints, bytes: tsm(rawRp).bytes, perDay: rawPoints / days, retention: retention.raw },
      { dataClass: 'hourly', points: points['1h'], bytes: tsm(ROLLUP_RP['1h']).bytes, perDay: points['1h'] / (periods['1h'] / 24), retention: retention.hourly },
      { dataClass: 'daily', points: points['1d'], bytes: tsm(ROLLUP_RP['1d']).bytes, perDay: points['1d'] / periods['1d'], retention: retention.daily },
    ];
    const classes = measured.map((m): ClassFootprint => {
      const bytesPerPoint = m.points > 0 ? m.bytes / m.points : 0;
      const pointsPerDevicePerDay = m.perDay / devices.length;
      const retentionDays = durationMs(m.retention)! / DAY;
      const perDay = pointsPerDevicePerDay * bytesPerPoint;
      return {
        dataClass: m.dataClass,
        points: m.points,
        diskBytes: m.bytes,
        bytesPerPoint: Math.round(bytesPerPoint * 100) / 100,
        pointsPerDevicePerDay: Math.round(pointsPerDevicePerDay * 100) / 100,
        retentionDays,
        bytesPerDeviceFirstYear: Math.round(perDay * Math.min(retentionDays, YEAR_DAYS)),
        bytesPerDeviceSteadyState: Math.round(perDay * (Number.isFinite(retentionDays) ? retentionDays : YEAR_DAYS)),
      };
    });
    const raw = classes[0]!;
    return {
      devices: devices.length,
      days,
      classes,
      bytesPerDeviceYear: classes.reduce((n, c) => n + c.bytesPerDeviceFirstYear, 0),
      bytesPerDeviceSteadyState: classes.reduce((n, c) => n + c.bytesPerDeviceSteadyState, 0),
      bytesPerDeviceYearRawOnly: Math.round(raw.pointsPerDevicePerDay * raw.bytesPerPoint * YEAR_DAYS),
    };
  } finally {
    await server.stop();
    if (!process.env.KEEP_TEST_DATA) rmSync(dir, { recursive: true, force: true });
  }
}

/** One line for people: kB per device-year and per class. */
export function formatFootprint(f: Footprint): string {
  const kb = (b: number) => `${(b / 1024).toFixed(1)} kB`;
  const parts = f.classes.map((c) => `${c.dataClass} ${c.pointsPerDevicePerDay} pts/day × ${c.bytesPerPoint} B kept ${c.retentionDays} d`);
  return `${kb(f.bytesPerDeviceYear)} per device-year (raw only, no retention: ${kb(f.bytesPerDeviceYearRawOnly)}); at steady state ${kb(f.bytesPerDeviceSteadyState)} per device [${parts.join('; ')}]`;
}
