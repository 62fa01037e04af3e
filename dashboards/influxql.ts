/**
 * A small typed InfluxQL builder for Grafana panels, limited to the subset that InfluxDB 1.x, 2.x (v1
 * compatibility, through the bucket's DBRP) and 3.x all accept: SELECT with mean/min/max/last/sum/count or raw
 * fields, + - * / between aggregates and constants, non_negative_difference (inside a subquery, to turn a meter
 * index into consumption), non_negative_derivative of a bucket's last index (a mean rate), field comparisons on a subquery's results, GROUP BY time(...) with fill(), and tz() for
 * daily buckets. No SLIMIT/SOFFSET, no cardinality meta-queries, no INTO, no CQs, no `y` durations (1.x has none).
 *
 * Sources: raw readings (a measurement name), or the service's rollups (`{ rollup, resolution }`, rendered as
 * `"rollup_1d"."water_1d"`: a retention policy and a measurement, which 1.x reads natively and 2.x/3.x through their
 * DBRP mapping). The text itself is rendered by the service's one InfluxQL builder (services/storage/influxql.ts);
 * this module adds the dashboards' shapes on top of it.
 *
 * Queries read Grafana macros (`$timeFilter`, `$__interval`) and the dashboard variables `$tenant`, `$site`,
 * `$device`, matched as anchored regexes so that "All" (`.*`) and multi-value selections (`(a|b)`) both work.
 *
 * `InfluxQLTarget` is a `cog.Builder<cog.Dataquery>` (the SDK has no InfluxDB module): it emits the fields of
 * Grafana's InfluxDB query model (`refId`, `query`, `rawQuery`, `resultFormat`, `alias`, `datasource`).
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as common from '@grafana/grafana-foundation-sdk/common';
import { QUANTITIES, type Measurement, type QuantityId } from '../decoders/model/quantities.ts';
import { rollupField, rollupMeasurement, ROLLUP_RP, type Resolution } from '../services/rollups/names.ts';
import * as q from '../services/storage/influxql.ts';

export { ident, literal } from '../services/storage/influxql.ts';

/** The dashboards' datasource: the `datasource` variable (type influxdb). */
export const DATASOURCE: common.DataSourceRef = { type: 'influxdb', uid: '${datasource}' };

/** Local time of the communes: daily and monthly buckets start at midnight in Paris. */
export const TIME_ZONE = 'Europe/Paris';

export type Aggregate = 'mean' | 'min' | 'max' | 'last' | 'sum' | 'count';
export type Fill = 'null' | 'none' | 'previous' | 'linear' | number;
/** `$__interval` (Grafana picks it from the panel width and time range) or a fixed InfluxQL duration. */
export type Interval = '$__interval' | `${number}${'m' | 'h' | 'd' | 'w'}`;
/** Dashboard variables that filter on the tag of the same name. */
export type Variable = 'tenant' | 'site' | 'device';

/**
 * One condition: a tag against a dashboard variable, an exact value or a regex; or a numeric field (typically a
 * subquery's result) against a bound, which is how InfluxQL filters aggregates (it has no HAVING).
 */
export type Condition =
  | { tag: string; variable: Variable }
  | { tag: string; equals: string }
  | { tag: string; notEquals: string }
  | { tag: string; matches: RegExp }
  | { field: string; greaterThan: number };

/** An aggregate of a field; or a raw field when `fn` is omitted (never both kinds in one query). */
export interface Aggregation {
  fn: Aggregate;
  field: string;
}

/** Arithmetic between aggregates and constants, as InfluxQL evaluates it per bucket. */
export type Expr = Aggregation | number | { op: '+' | '-' | '*' | '/'; left: Expr; right: Expr };

export type Projection =
  | { fn: Aggregate; field: string; as?: string }
  | { field: string; as?: string }
  | { expr: Expr; as: string }
  /** `non_negative_derivative(last(field), per)`: the mean rate between consecutive buckets that have a reading. */
  | { rate: { field: string; per: '1h' }; as: string };

export const add = (left: Expr, right: Expr): Expr => ({ op: '+', left, right });
export const sub = (left: Expr, right: Expr): Expr => ({ op: '-', left, right });
export const mul = (left: Expr, right: Expr): Expr => ({ op: '*', left, right });
export const div = (left: Expr, right: Expr): Expr => ({ op: '/', left, right });

/** The rollups of a reading measurement at one resolution (`water` + `1d` → `"rollup_1d"."water_1d"`). */
export interface RollupSource {
  rollup: Measurement;
  resolution: Resolution;
}

export interface SelectQuery {
  select: readonly Projection[];
  /** A raw measurement, rollups, or a subquery. */
  from: string | RollupSource | SelectQuery | DifferenceQuery;
  /** Tag conditions, ANDed with `$timeFilter` (always present: every query is bounded by the panel range). */
  where?: readonly Condition[];
  /** Omitted: one value over the whole range. */
  interval?: Interval;
  groupBy?: readonly string[];
  fill?: Fill;
  /** Buckets in local time (`tz('Europe/Paris')`); only meaningful for buckets of a day or more. */
  localTime?: boolean;
}

/** A raw (non-aggregated) inner query: `non_negative_difference` of an index, per series of `groupBy`. */
export interface DifferenceQuery {
  difference: { field: string; as: string };
  from: string;
  where?: readonly Condition[];
  groupBy: readonly string[];
}

function projection(p: Projection): q.Projection {
  if ('rate' in p) return { fn: 'non_negative_derivative', of: { fn: 'last', field: p.rate.field }, per: p.rate.per, as: p.as };
  return p;
}

function condition(c: Condition): q.Condition {
  // A dashboard variable as an anchored regex: "All" (`.*`) and multi-value selections (`(a|b)`) both match.
  if ('variable' in c) return { tag: c.tag, matches: `^$${c.variable}$` };
  if ('greaterThan' in c) return { field: c.field, compare: '>', value: c.greaterThan };
  return c;
}

/** `$timeFilter` and the conditions: every query, inner ones too (for speed), is bounded by the panel range. */
const where = (conditions: readonly Condition[] = []): q.Condition[] => ['$timeFilter', ...conditions.map(condition)];

/** The query in the terms of the shared builder (services/storage/influxql.ts). */
function toSelect(s: SelectQuery | DifferenceQuery): q.Select {
  if ('difference' in s) {
    return { select: [{ fn: 'non_negative_difference', field: s.difference.field, as: s.difference.as }], from: s.from, where: where(s.where), groupBy: s.groupBy };
  }
  const raw = s.select.filter((p) => !('fn' in p) && !('expr' in p) && !('rate' in p)).length;
  if (raw > 0 && raw < s.select.length) throw new Error('InfluxQL cannot mix raw fields and aggregates in one SELECT');
  if (raw > 0 && s.interval) throw new Error('raw fields cannot be grouped by time');
  const from = typeof s.from === 'string' ? s.from : 'rollup' in s.from ? { measurement: rollupMeasurement(s.from.rollup, s.from.resolution), rp: ROLLUP_RP[s.from.resolution] } : toSelect(s.from);
  return {
    select: s.select.map(projection),
    from,
    where: where(s.where),
    ...(s.interval ? { interval: s.interval } : {}),
    ...(s.groupBy ? { groupBy: s.groupBy } : {}),
    ...(s.fill !== undefined ? { fill: s.fill } : {}),
    ...(s.localTime ? { tz: TIME_ZONE } : {}),
  };
}

/** Renders a query. */
export function render(s: SelectQuery | DifferenceQuery): string {
  return q.select(toSelect(s));
}

/**
 * Consumption from a monotonic index (`*_index_*`): the non-negative difference between consecutive readings of
 * each series (a meter replacement or wrap gives no negative step), summed per bucket. Only readings without a
 * `channel` are used: that is the whole meter's index; channels are inputs or tariff registers that would be
 * counted twice. Readings of `role` only when given (e.g. the main meter of a building, not its sub-meters).
 */
export interface ConsumptionOptions {
  measurement: string;
  field: string;
  where?: readonly Condition[];
  /** Omitted: one total over the whole range. */
  interval?: Interval;
  /** Tags of the result (each also separates the differences, so per-device series never mix). */
  groupBy: readonly string[];
  as?: string;
  fill?: Fill;
  /** What to select from the summed Wh/L (default: the sum itself), e.g. kWh or kgCO₂e: `(s) => div(s, 1000)`. */
  value?: (sum: Aggregation) => Expr;
}

const WHOLE_METER: Condition = { tag: 'channel', equals: '' };

export function consumption(o: ConsumptionOptions): SelectQuery {
  const seriesKey = o.groupBy.includes('device') ? o.groupBy : [...o.groupBy, 'device'];
  return {
    select: [
      o.value
        ? { expr: o.value({ fn: 'sum', field: 'delta' }), as: o.as ?? 'value' }
        : { fn: 'sum', field: 'delta', ...(o.as ? { as: o.as } : {}) },
    ],
    from: { difference: { field: o.field, as: 'delta' }, from: o.measurement, where: [...(o.where ?? []), WHOLE_METER], groupBy: seriesKey },
    groupBy: o.groupBy,
    ...(o.interval
      ? { interval: o.interval, fill: o.fill ?? 'null', localTime: o.interval.endsWith('d') || o.interval.endsWith('w') }
      : {}),
  };
}

const RESOLUTION_MS: Record<Resolution, number> = { '1h': 3_600_000, '1d': 86_400_000 };
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export interface RollupConsumptionOptions extends Omit<ConsumptionOptions, 'measurement' | 'field' | 'interval'> {
  /** A cumulative quantity (meter index): its rollup field `<field>_diff` is the consumption of each period. */
  quantity: QuantityId;
  resolution: Resolution;
  /** Omitted: one total over the range. Never finer than the resolution, and fixed (not `$__interval`). */
  interval?: Exclude<Interval, '$__interval'>;
}

/**
 * Consumption from the rollups: the sum of the periods' `_diff` (each already the sum of the non-negative index
 * differences of its period, from the last reading before it). A period counts when its start (its timestamp) is in
 * the range, so only whole periods count: whole local days for `1d` (those the service has completed: not today),
 * whole UTC hours for `1h`. Channel-less readings only, as `consumption`.
 */
export function rollupConsumption(o: RollupConsumptionOptions): SelectQuery {
  const field = rollupField(o.quantity, 'diff');
  if (o.interval) {
    const m = /^(\d+)([mhdw])$/.exec(o.interval);
    const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
    // A bucket holds whole periods: a finer one would split them (empty buckets between the period starts).
    if (!(ms >= RESOLUTION_MS[o.resolution] && ms % RESOLUTION_MS[o.resolution] === 0)) throw new RangeError(`interval ${o.interval} is finer than the ${o.resolution} rollups or not made of whole periods`);
  }
  return {
    select: [o.value ? { expr: o.value({ fn: 'sum', field }), as: o.as ?? 'value' } : { fn: 'sum', field, ...(o.as ? { as: o.as } : {}) }],
    from: { rollup: QUANTITIES[o.quantity].measurement, resolution: o.resolution },
    where: [...(o.where ?? []), WHOLE_METER],
    groupBy: o.groupBy,
    ...(o.interval ? { interval: o.interval, fill: o.fill ?? 'null', localTime: o.interval.endsWith('d') || o.interval.endsWith('w') } : {}),
  };
}

/**
 * The daily minimum of hourly consumption (hourly sums of index differences), in local days. For water it
 * approximates the minimum night flow (InfluxQL cannot select 02:00–04:00); for electricity it is the base load
 * (Wh in one hour = mean W over that hour). Needs meters that report at least hourly.
 */
export function dailyMinOfHourly(o: Omit<ConsumptionOptions, 'interval' | 'fill'>): SelectQuery {
  const hourly = consumption({ ...o, interval: '1h', as: 'hourly', fill: 'none' });
  return {
    select: [{ fn: 'min', field: 'hourly', ...(o.as ? { as: o.as } : {}) }],
    from: hourly,
    interval: '1d',
    groupBy: o.groupBy,
    fill: 'null',
    localTime: true,
  };
}

/**
 * The mean flow or power of meters from their index (`*_index_*`): between two buckets that hold a reading, the
 * index difference divided by the time between them, per hour (L → L/h, Wh → W). Meters that report less often
 * than the bucket get the mean over the gap, never a spike in the bucket of their reading. Whole meters only
 * (channel-less readings), per device.
 */
export function indexRate(o: { measurement: string; field: string; where?: readonly Condition[]; as: string }): SelectQuery {
  return {
    select: [{ rate: { field: o.field, per: '1h' }, as: o.as }],
    from: o.measurement,
    where: [...(o.where ?? []), WHOLE_METER],
    interval: '$__interval',
    groupBy: ['device'],
    fill: 'none',
  };
}

/** The dashboard variables as conditions on the tags of the same name. */
export function scope(...variables: Variable[]): Condition[] {
  return variables.map((v) => ({ tag: v, variable: v }));
}

export type ResultFormat = 'time_series' | 'table';

/** Grafana's InfluxDB (InfluxQL) target, in raw-query mode. */
export interface InfluxQLDataquery extends cog.Dataquery {
  refId: string;
  query: string;
  rawQuery: true;
  resultFormat: ResultFormat;
  alias?: string;
  datasource: common.DataSourceRef;
}

export class InfluxQLTarget implements cog.Builder<cog.Dataquery> {
  private _refId = 'A';
  private _format: ResultFormat = 'time_series';
  private _alias: string | undefined;
  private readonly _query: string;

  constructor(query: SelectQuery | string) {
    this._query = typeof query === 'string' ? query : render(query);
  }

  refId(refId: string): this {
    this._refId = refId;
    return this;
  }

  /** `time_series` (default) or `table` (one row per bucket and tag set; tags become columns). */
  format(format: ResultFormat): this {
    this._format = format;
    return this;
  }

  /** Series name: `$tag_device`, `$col`, `$m`… */
  alias(alias: string): this {
    this._alias = alias;
    return this;
  }

  build(): InfluxQLDataquery {
    return {
      refId: this._refId,
      datasource: DATASOURCE,
      query: this._query,
      rawQuery: true,
      resultFormat: this._format,
      ...(this._alias !== undefined ? { alias: this._alias } : {}),
      _implementsDataqueryVariant() {},
    };
  }
}

/** Shorthand: a target from a query. */
export const influxql = (query: SelectQuery | string): InfluxQLTarget => new InfluxQLTarget(query);
