/**
 * Rollups computed by the service, not by the database (InfluxDB 1.x continuous queries, 2.x tasks and 3.x plugins
 * have nothing in common; InfluxQL over /query and line protocol work on all three):
 * - hourly (UTC hours) and daily (local days of each site's time zone: 23, 24 or 25 hours) aggregates of every
 *   reading measurement, per series (device, channel and the other reading tags);
 * - gauges: min, mean, max, last by InfluxQL aggregates over absolute time bounds; flags: last;
 * - indexes (cumulative quantities): the consumption of the period, computed here from the raw readings as the sum
 *   of the non-negative differences between consecutive readings, starting from the last reading before the period.
 *   A decrease (meter replaced, counter wrapped) counts 0, like InfluxQL's non_negative_difference, and counting
 *   resumes from the new value. Consecutive periods therefore add up exactly to the consumption over their union.
 *
 * Idempotent: a period's points have fixed measurement, tags and timestamp (the period's start), and the same raw
 * data gives the same values, so recomputing it rewrites identical points. Resumable: after each step the end of
 * the last complete period is recorded in InfluxDB (`rollup_checkpoint`, policy `audit`); a restart resumes there,
 * and catches up on missed periods at most `maxPeriodsPerRound` per round.
 */
import type { Logger } from 'pino';
import { MEASUREMENTS, QUANTITIES, type Measurement } from '../../decoders/model/quantities.ts';
import { localDayBounds, localTime } from '../time/calendar.ts';
import type { InfluxSeries, InfluxTarget } from '../storage/influx.ts';
import { during, fields, select, type Projection, type Select } from '../storage/influxql.ts';
import { int, lineWithTags, tagString, type FieldValue } from '../storage/line-protocol.ts';
import { READING_TAGS } from '../storage/schema.ts';
import { ROLLUP_CHECKPOINT, ROLLUP_RP, rollupFields, rollupMeasurement, type Resolution } from './names.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface Period {
  start: number;
  end: number;
}

type Influx = Pick<InfluxTarget, 'query' | 'write'>;
type Tags = Record<string, string>;

const GROUP_BY: readonly string[] = READING_TAGS;
const seriesKey = (tags: Tags) => READING_TAGS.map((t) => tags[t] ?? '').join('\u0000');

interface SeriesAcc {
  tags: Tags;
  /** period start → rollup fields */
  points: Map<number, Record<string, FieldValue>>;
}

export interface ComputeOptions {
  /** Keeps only the series this returns true for (daily rollups: the sites of one time zone). */
  keep?: (tags: Tags) => boolean;
  /** How far back the last index reading before a period is looked for (default 31 days). */
  baselineLookbackMs?: number;
  /** Measurements to roll up (default: every reading measurement). */
  measurements?: readonly Measurement[];
}

function rowsOf(s: InfluxSeries): Record<string, unknown>[] {
  return s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]])));
}

/** Index of the period containing `t` (periods contiguous and sorted), or -1. */
function periodIndex(periods: readonly Period[], t: number): number {
  let lo = 0;
  let hi = periods.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const p = periods[mid]!;
    if (t < p.start) hi = mid - 1;
    else if (t >= p.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * The rollup lines of contiguous `periods` (sorted; hourly ones one hour long) of `resolution`. Queries only
 * InfluxDB's raw readings; writes nothing.
 */
export async function computeRollups(influx: Pick<InfluxTarget, 'query'>, resolution: Resolution, periods: readonly Period[], opts: ComputeOptions = {}): Promise<string[]> {
  if (periods.length === 0) return [];
  const from = periods[0]!.start;
  const to = periods[periods.length - 1]!.end;
  const keep = opts.keep ?? (() => true);
  const lines: string[] = [];
  for (const m of opts.measurements ?? MEASUREMENTS) {
    const acc = new Map<string, SeriesAcc>();
    const accFor = (tags: Tags): SeriesAcc | undefined => {
      if (!keep(tags)) return undefined;
      const key = seriesKey(tags);
      let a = acc.get(key);
      if (!a) acc.set(key, (a = { tags, points: new Map() }));
      return a;
    };
    const put = (a: SeriesAcc, start: number, field: string, value: FieldValue) => {
      let p = a.points.get(start);
      if (!p) a.points.set(start, (p = {}));
      p[field] = value;
    };
    const specs = rollupFields(m);

    // Gauges and flags: InfluxQL aggregates.
    const selects = specs.flatMap((s): Projection[] =>
      s.kind === 'gauge'
        ? (['min', 'mean', 'max', 'last'] as const).map((fn) => ({ fn, field: s.source, as: `${s.source}_${fn}` }))
        : s.kind === 'flag'
          ? [{ fn: 'last', field: s.source, as: `${s.source}_last` }]
          : [],
    );
    if (selects.length > 0) {
      const base: Select = { select: selects, from: m, groupBy: GROUP_BY };
      const windows: { q: string; start?: number }[] =
        resolution === '1h'
          ? [{ q: select({ ...base, where: during(from, to), interval: '1h', fill: 'none' }) }]
          : periods.map((p) => ({ q: select({ ...base, where: during(p.start, p.end) }), start: p.start }));
      for (const w of windows) {
        for (const s of await influx.query(w.q)) {
          const a = accFor(s.tags ?? {});
          if (!a) continue;
          for (const row of rowsOf(s)) {
            const start = w.start ?? Number(row.time);
            if (periodIndex(periods, start) < 0) continue;
            for (const [col, v] of Object.entries(row)) {
              if (col !== 'time' && (typeof v === 'number' || typeof v === 'boolean')) put(a, start, col, v);
            }
          }
        }
      }
    }

    // Indexes: differences between consecutive raw readings, from the last reading before the first period.
    const indexes = specs.filter((s) => s.kind === 'index').map((s) => s.source);
    if (indexes.length > 0) {
      const lookback = opts.baselineLookbackMs ?? 31 * DAY;
      const baseline = new Map<string, Record<string, unknown>>();
      const base = await influx.query(
        select({ select: indexes.map((f) => ({ fn: 'last', field: f, as: f })), from: m, where: during(from - lookback, from), groupBy: GROUP_BY }),
      );
      for (const s of base) baseline.set(seriesKey(s.tags ?? {}), rowsOf(s)[0] ?? {});
      const raw = await influx.query(select({ select: fields(...indexes), from: m, where: during(from, to), groupBy: GROUP_BY }));
      for (const s of raw) {
        const a = accFor(s.tags ?? {});
        if (!a) continue;
        const rows = rowsOf(s);
        const before = baseline.get(seriesKey(s.tags ?? {}));
        for (const f of indexes) {
          let prev = typeof before?.[f] === 'number' ? (before[f] as number) : undefined;
          const diff = new Map<number, number>();
          const last = new Map<number, number>();
          for (const row of rows) {
            const v = row[f];
            if (typeof v !== 'number' || !Number.isFinite(v)) continue;
            const i = periodIndex(periods, Number(row.time));
            if (i < 0) continue;
            const start = periods[i]!.start;
            // A decrease is a reset: it counts nothing, and counting resumes from the new value.
            diff.set(start, (diff.get(start) ?? 0) + (prev !== undefined && v > prev ? v - prev : 0));
            last.set(start, v);
            prev = v;
          }
          for (const [start, d] of diff) {
            put(a, start, `${f}_diff`, d);
            put(a, start, `${f}_last`, last.get(start)!);
          }
        }
      }
    }

    const measurement = rollupMeasurement(m, resolution);
    for (const a of acc.values()) {
      const tags = tagString(Object.fromEntries(Object.keys(a.tags).sort().map((k) => [k, a.tags[k]])));
      for (const start of [...a.points.keys()].sort((x, y) => x - y)) {
        const line = lineWithTags(measurement, tags, a.points.get(start)!, start);
        if (line) lines.push(line);
      }
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------------
// Periods and checkpoints

/** `count` successive periods of `resolution` from `start` (a period start) that have ended `lagMs` before `now`. */
export function completePeriods(resolution: Resolution, zone: string, start: number, now: number, lagMs: number, count: number): Period[] {
  const out: Period[] = [];
  let p = firstPeriodAt(resolution, zone, start);
  while (out.length < count && p.end + lagMs <= now) {
    out.push(p);
    p = firstPeriodAt(resolution, zone, p.end);
  }
  return out;
}

/** The period that contains `t` (hour in UTC; local day in `zone`). */
export function firstPeriodAt(resolution: Resolution, zone: string, t: number): Period {
  if (resolution === '1h') {
    const start = Math.floor(t / HOUR) * HOUR;
    return { start, end: start + HOUR };
  }
  const b = localDayBounds(localTime(new Date(t), zone).date, zone);
  return { start: b.start.getTime(), end: b.end.getTime() };
}

export async function readCheckpoint(influx: Pick<InfluxTarget, 'query'>, resolution: Resolution, zone: string): Promise<number | undefined> {
  const series = await influx.query(
    select({
      select: [{ fn: 'last', field: 'done_until_ms' }],
      from: { measurement: ROLLUP_CHECKPOINT.measurement, rp: ROLLUP_CHECKPOINT.rp },
      where: [
        { tag: 'resolution', equals: resolution },
        { tag: 'zone', equals: zone },
      ],
    }),
  );
  const v = series[0]?.values?.[0]?.[1];
  return typeof v === 'number' ? v : undefined;
}

export function checkpointLine(resolution: Resolution, zone: string, doneUntil: number, periods: number): string {
  return lineWithTags(ROLLUP_CHECKPOINT.measurement, tagString({ resolution, zone }), { done_until_ms: int(doneUntil), periods: int(periods) }, doneUntil)!;
}

/** Time of the oldest raw reading, or undefined when there is none (one query per reading field: first start only). */
export async function oldestReading(influx: Pick<InfluxTarget, 'query'>): Promise<number | undefined> {
  let oldest: number | undefined;
  for (const q of Object.values(QUANTITIES)) {
    // One field per query: with several selectors InfluxQL reports the start of the range, not the point's time.
    const series = await influx.query(select({ select: [{ fn: 'first', field: q.field }], from: q.measurement }));
    const t = series[0]?.values?.[0]?.[0];
    if (typeof t === 'number' && (oldest === undefined || t < oldest)) oldest = t;
  }
  return oldest;
}

/** Writes lines in bodies of at most `maxBytes`; all must succeed before a checkpoint moves. */
async function writeLines(influx: Influx, rp: string, lines: readonly string[], maxBytes = 1 << 20): Promise<void> {
  let batch: string[] = [];
  let size = 0;
  for (const l of lines) {
    if (size + l.length + 1 > maxBytes && batch.length > 0) {
      await influx.write(Buffer.from(`${batch.join('\n')}\n`), rp);
      batch = [];
      size = 0;
    }
    batch.push(l);
    size += l.length + 1;
  }
  if (batch.length > 0) await influx.write(Buffer.from(`${batch.join('\n')}\n`), rp);
}

// ---------------------------------------------------------------------------------------------------------
// Runner

export interface RollupRunnerOptions {
  influx: Influx;
  resolutions: readonly Resolution[];
  /** Time zone of a site's local days. */
  timeZoneOf(tenant: string, site: string): string;
  /** Every time zone in use (the default one and those of configured sites). */
  zones: readonly string[];
  lagMs: number;
  maxPeriodsPerRound: number;
  /** Retention of each resolution's policy: older periods would be refused by InfluxDB, they are skipped. */
  retentionMs: Record<Resolution, number>;
  /** Periods per step (one write, then one checkpoint); default 24 hours, 1 day. */
  periodsPerStep?: Partial<Record<Resolution, number>>;
  /** Where to start when there is no checkpoint yet (default: the oldest raw reading). */
  initialStart?: (resolution: Resolution, zone: string) => Promise<number | undefined>;
  log?: Logger;
  /** Called after a step's rollups are written and before its checkpoint moves (tests simulate a crash there). */
  afterWrite?: (step: { resolution: Resolution; zone: string; periods: Period[] }) => void | Promise<void>;
  baselineLookbackMs?: number;
}

export interface StepReport {
  resolution: Resolution;
  zone: string;
  from: number;
  to: number;
  periods: number;
  lines: number;
}

export interface RoundReport {
  steps: StepReport[];
  /** True when periods are left to catch up (the scheduler runs again soon). */
  behind: boolean;
}

export class RollupRunner {
  constructor(private readonly opts: RollupRunnerOptions) {}

  private targets(): { resolution: Resolution; zone: string }[] {
    return this.opts.resolutions.flatMap((resolution): { resolution: Resolution; zone: string }[] =>
      resolution === '1h' ? [{ resolution, zone: 'UTC' }] : this.opts.zones.map((zone) => ({ resolution, zone })),
    );
  }

  private async startOf(resolution: Resolution, zone: string, now: number): Promise<number | undefined> {
    const done = await readCheckpoint(this.opts.influx, resolution, zone);
    const from = done ?? (this.opts.initialStart ? await this.opts.initialStart(resolution, zone) : await oldestReading(this.opts.influx));
    if (from === undefined) return undefined;
    // Periods older than the rollup policy's retention would be refused by InfluxDB (after a very long downtime,
    // or on a first start over old data): start after them.
    const keep = this.opts.retentionMs[resolution];
    const earliest = Number.isFinite(keep) ? firstPeriodAt(resolution, zone, now - keep).end : -Infinity;
    if (from >= earliest) return done ?? firstPeriodAt(resolution, zone, from).start;
    if (done !== undefined) this.opts.log?.warn({ resolution, zone, checkpoint: new Date(done).toISOString() }, 'rollups behind their retention: the oldest periods are skipped');
    return earliest;
  }

  /**
   * One round: for each resolution (and time zone), the complete periods after the checkpoint, at most
   * `maxPeriodsPerRound`, step by step (compute, write, checkpoint). `signal` stops it between steps.
   */
  async runOnce(now: Date, signal?: AbortSignal): Promise<RoundReport> {
    const steps: StepReport[] = [];
    let behind = false;
    for (const { resolution, zone } of this.targets()) {
      if (signal?.aborted) break;
      const start = await this.startOf(resolution, zone, now.getTime());
      if (start === undefined) continue;
      const periods = completePeriods(resolution, zone, start, now.getTime(), this.opts.lagMs, this.opts.maxPeriodsPerRound + 1);
      if (periods.length > this.opts.maxPeriodsPerRound) {
        behind = true;
        periods.pop();
      }
      const perStep = this.opts.periodsPerStep?.[resolution] ?? (resolution === '1h' ? 24 : 1);
      for (let i = 0; i < periods.length && !signal?.aborted; i += perStep) {
        const chunk = periods.slice(i, i + perStep);
        const keep = resolution === '1d' ? (tags: Tags) => this.opts.timeZoneOf(tags.tenant ?? '', tags.site ?? '') === zone : undefined;
        const lines = await computeRollups(this.opts.influx, resolution, chunk, { ...(keep ? { keep } : {}), ...(this.opts.baselineLookbackMs ? { baselineLookbackMs: this.opts.baselineLookbackMs } : {}) });
        await writeLines(this.opts.influx, ROLLUP_RP[resolution], lines);
        await this.opts.afterWrite?.({ resolution, zone, periods: chunk });
        const doneUntil = chunk[chunk.length - 1]!.end;
        await this.opts.influx.write(Buffer.from(`${checkpointLine(resolution, zone, doneUntil, chunk.length)}\n`), ROLLUP_CHECKPOINT.rp);
        steps.push({ resolution, zone, from: chunk[0]!.start, to: doneUntil, periods: chunk.length, lines: lines.length });
      }
      if (signal?.aborted) behind = true;
    }
    if (steps.length) this.opts.log?.info({ steps: steps.length, periods: steps.reduce((n, s) => n + s.periods, 0), lines: steps.reduce((n, s) => n + s.lines, 0), behind }, 'rollups computed');
    return { steps, behind };
  }
}
