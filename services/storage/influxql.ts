/**
 * The one InfluxQL builder (issue 16 item 3): every statement Veilleur sends to InfluxDB, and every query its
 * Grafana dashboards carry, is rendered here, so that escaping and tenant confinement live in one place.
 * A test (test/unit/influxql-handmade.test.ts) fails when InfluxQL is written by hand anywhere else.
 *
 * The subset is what InfluxDB 1.x, 2.x (v1 compatibility, DBRP) and 3.x all accept: SELECT with raw fields,
 * aggregates, selectors and transformations (nested: `non_negative_difference(last("f"))`), + - * / between them
 * and constants, FROM a measurement (optionally `"rp"."measurement"`) or a subquery, WHERE from typed conditions
 * joined by AND, GROUP BY time/tags with fill(), ORDER BY time, LIMIT/OFFSET/SLIMIT/SOFFSET, tz(); and the few
 * other statements the service issues (SHOW …, CREATE DATABASE, CREATE/ALTER RETENTION POLICY).
 *
 * Escaping follows InfluxQL's scanner (influxql/scanner.go, ScanString): inside '…' or "…" a backslash escapes
 * `\`, `'`, `"` and `n` (newline); a raw newline ends the literal with an error, so it is written `\n`.
 */

export type Duration = `${number}${'ns' | 'u' | 'µ' | 'ms' | 's' | 'm' | 'h' | 'd' | 'w'}`;
/** A duration, or Grafana's `$__interval` (replaced by Grafana before the query reaches InfluxDB). */
export type Interval = Duration | '$__interval';
const DURATION = /^\d+(ns|u|µ|ms|s|m|h|d|w)$/;

export type Fn =
  | 'count' | 'mean' | 'median' | 'min' | 'max' | 'first' | 'last' | 'sum' | 'spread' | 'stddev'
  | 'difference' | 'non_negative_difference' | 'derivative' | 'non_negative_derivative' | 'cumulative_sum';
export type Fill = 'null' | 'none' | 'previous' | 'linear' | number;

/** `"name"`: a double-quoted identifier (measurement, field, tag, retention policy, database, alias). */
export function ident(name: string): string {
  return `"${escape(name)}"`;
}

/** `'value'`: a single-quoted string literal (tag values, time zones). */
export function literal(value: string): string {
  return `'${escape(value)}'`;
}

function escape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `"rp"."measurement"`, or `"measurement"` in the connection's default policy (no or empty `rp`). */
export function qualified(measurement: string, rp?: string): string {
  return rp ? `${ident(rp)}.${ident(measurement)}` : ident(measurement);
}

/** A plain decimal: InfluxQL 1.x does not read exponents (`5e-05`). */
function number(n: number): string {
  const s = String(n);
  if (!Number.isFinite(n) || /e/i.test(s)) throw new Error(`InfluxQL constant ${s}: use a plain decimal (scale it with * or /)`);
  return s;
}

function duration(d: string): string {
  if (d !== '$__interval' && !DURATION.test(d)) throw new Error(`InfluxQL duration '${d}': expected an integer and a unit (ns, u, ms, s, m, h, d, w)`);
  return d;
}

// ---------------------------------------------------------------------------------------------------------
// Expressions and projections

/** A call on a field (`'*'`: every field, as in `count(*)`), or on another expression (`per`: a derivative's unit). */
export type Call = { fn: Fn; field: string } | { fn: Fn; of: Expr; per?: Duration };
/** Arithmetic between calls, fields and constants, as InfluxQL evaluates it per row or bucket. */
export type Expr = number | { field: string } | Call | { op: '+' | '-' | '*' | '/'; left: Expr; right: Expr };

/** A raw field, a call, or any expression, each optionally renamed. */
export type Projection = ({ field: string } | Call | { expr: Expr }) & { as?: string };

/** Raw fields (or tags) by name: `fields('reason', 'detail')`. */
export const fields = (...names: readonly string[]): Projection[] => names.map((field) => ({ field }));

function expr(e: Expr): string {
  if (typeof e === 'number') return number(e);
  if ('op' in e) return `(${expr(e.left)} ${e.op} ${expr(e.right)})`;
  if ('fn' in e) {
    if ('field' in e) return `${e.fn}(${e.field === '*' ? '*' : ident(e.field)})`;
    return `${e.fn}(${expr(e.of)}${e.per !== undefined ? `, ${duration(e.per)}` : ''})`;
  }
  return ident(e.field);
}

function projection(p: Projection): string {
  const as = p.as !== undefined ? ` AS ${ident(p.as)}` : '';
  if ('expr' in p) {
    // The outer parentheses of a binary expression are redundant at the top level.
    const e = expr(p.expr);
    return `${typeof p.expr === 'object' && 'op' in p.expr ? e.slice(1, -1) : e}${as}`;
  }
  return `${expr(p)}${as}`;
}

// ---------------------------------------------------------------------------------------------------------
// Conditions

/** A point in time: epoch ms (number or Date), epoch ns (bigint), or `now() - <ago>`. */
export type Instant = number | Date | bigint | { ago: Duration };

/**
 * One condition of a WHERE clause (all of them are ANDed). `in` is the OR-list that confines a query to tenants:
 * an empty list matches nothing (never everything). A regex is a RegExp (no flags) or the text of an InfluxQL
 * regex already checked by its caller (the Grafana guard). `'$timeFilter'` is Grafana's time-range macro.
 */
export type Condition =
  | { tag: string; equals: string }
  | { tag: string; notEquals: string }
  | { tag: string; in: readonly string[] }
  | { tag: string; matches: RegExp | string }
  | { tag: string; notMatches: RegExp | string }
  | { field: string; compare: '=' | '!=' | '<' | '<=' | '>' | '>='; value: number | boolean }
  | { time: '>=' | '>' | '<' | '<='; at: Instant }
  | '$timeFilter';

/** `time >= from AND time < to`: the half-open range every windowed read uses. */
export function during(from: Instant, to: Instant): Condition[] {
  return [
    { time: '>=', at: from },
    { time: '<', at: to },
  ];
}

/** `"tag" = 'value'` for each filter given (undefined or '' filters are left out: "any"). */
export function tagFilters(filters: Record<string, string | undefined>): Condition[] {
  return Object.entries(filters).flatMap(([tag, v]) => (v ? [{ tag, equals: v }] : []));
}

function instant(t: Instant): string {
  if (typeof t === 'bigint') return `${t}`;
  if (t instanceof Date) return `${t.getTime()}ms`;
  if (typeof t === 'number') {
    if (!Number.isFinite(t)) throw new Error(`InfluxQL time ${t}: not a finite epoch`);
    return `${Math.trunc(t)}ms`;
  }
  return `now() - ${duration(t.ago)}`;
}

function regex(r: RegExp | string): string {
  if (typeof r !== 'string' && r.flags) throw new Error(`InfluxQL regex /${r.source}/ cannot carry flags`);
  const source = typeof r === 'string' ? r : r.source;
  if (source.includes('\n')) throw new Error('InfluxQL regex with a newline');
  return `/${source.replace(/(?<!\\)\//g, '\\/')}/`;
}

/** Never true: two contradictory conditions on one tag (an empty OR-list must match nothing, not be left out). */
const NOTHING = (tag: string) => `(${ident(tag)} = '' AND ${ident(tag)} != '')`;

function condition(c: Condition): string {
  if (c === '$timeFilter') return c;
  if ('time' in c) return `time ${c.time} ${instant(c.at)}`;
  if ('field' in c) return `${ident(c.field)} ${c.compare} ${typeof c.value === 'boolean' ? String(c.value) : number(c.value)}`;
  if ('equals' in c) return `${ident(c.tag)} = ${literal(c.equals)}`;
  if ('notEquals' in c) return `${ident(c.tag)} != ${literal(c.notEquals)}`;
  if ('in' in c) return c.in.length === 0 ? NOTHING(c.tag) : `(${c.in.map((v) => `${ident(c.tag)} = ${literal(v)}`).join(' OR ')})`;
  if ('matches' in c) return `${ident(c.tag)} =~ ${regex(c.matches)}`;
  return `${ident(c.tag)} !~ ${regex(c.notMatches)}`;
}

/** The conditions joined by AND (`''` when there are none). */
export function where(conditions: readonly Condition[]): string {
  return conditions.map(condition).join(' AND ');
}

// ---------------------------------------------------------------------------------------------------------
// SELECT

/** A measurement (in the default policy), a measurement of a retention policy, or a subquery. */
export type Source = string | { measurement: string; rp?: string | undefined } | Select;

export interface Select {
  /** `'*'`: every field and tag (raw rows). */
  select: '*' | readonly Projection[];
  from: Source;
  where?: readonly Condition[];
  /** Buckets of GROUP BY time(…). */
  interval?: Interval;
  /** Tags of GROUP BY (`'*'`: every tag). */
  groupBy?: readonly string[] | '*';
  fill?: Fill;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  slimit?: number;
  soffset?: number;
  /** Time zone of the buckets (`tz('Europe/Paris')`). */
  tz?: string;
}

function count(what: string, n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new Error(`InfluxQL ${what} ${n}: expected a non-negative integer`);
  return ` ${what} ${n}`;
}

function source(s: Source): string {
  if (typeof s === 'string') return ident(s);
  if ('select' in s) return `(${select(s)})`;
  return qualified(s.measurement, s.rp);
}

/** Renders a SELECT statement. */
export function select(q: Select): string {
  const fields = q.select === '*' ? '*' : q.select.map(projection).join(', ');
  if (fields === '') throw new Error('InfluxQL SELECT without a field');
  let s = `SELECT ${fields} FROM ${source(q.from)}`;
  const w = where(q.where ?? []);
  if (w) s += ` WHERE ${w}`;
  const tags = q.groupBy === '*' ? ['*'] : (q.groupBy ?? []).map(ident);
  const group = [...(q.interval !== undefined ? [`time(${duration(q.interval)})`] : []), ...tags];
  if (group.length) s += ` GROUP BY ${group.join(', ')}`;
  if (q.fill !== undefined) s += ` fill(${typeof q.fill === 'number' ? number(q.fill) : q.fill})`;
  if (q.order) s += ` ORDER BY time ${q.order.toUpperCase()}`;
  if (q.limit !== undefined) s += count('LIMIT', q.limit);
  if (q.offset !== undefined) s += count('OFFSET', q.offset);
  if (q.slimit !== undefined) s += count('SLIMIT', q.slimit);
  if (q.soffset !== undefined) s += count('SOFFSET', q.soffset);
  if (q.tz !== undefined) s += ` tz(${literal(q.tz)})`;
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Other statements

/** `SHOW TAG VALUES FROM "m" WITH KEY = "k" [WHERE …]`. */
export function showTagValues(o: { from: string; key: string; where?: readonly Condition[] }): string {
  const w = where(o.where ?? []);
  return `SHOW TAG VALUES FROM ${ident(o.from)} WITH KEY = ${ident(o.key)}${w ? ` WHERE ${w}` : ''}`;
}

export const showShards = (): string => 'SHOW SHARDS';
export const showRetentionPolicies = (database: string): string => `SHOW RETENTION POLICIES ON ${ident(database)}`;
export const createDatabase = (database: string): string => `CREATE DATABASE ${ident(database)}`;

export interface RetentionPolicy {
  name: string;
  database: string;
  /** `INF` keeps the data forever. */
  duration: Duration | 'INF';
  shardDuration?: Duration;
}

/** `CREATE RETENTION POLICY … REPLICATION 1` (single-node InfluxDB). */
export function createRetentionPolicy(p: RetentionPolicy): string {
  return `CREATE RETENTION POLICY ${ident(p.name)} ON ${ident(p.database)} DURATION ${policyDuration(p.duration)} REPLICATION 1${shard(p)}`;
}

export function alterRetentionPolicy(p: RetentionPolicy): string {
  return `ALTER RETENTION POLICY ${ident(p.name)} ON ${ident(p.database)} DURATION ${policyDuration(p.duration)}${shard(p)}`;
}

const policyDuration = (d: Duration | 'INF') => (d === 'INF' ? d : duration(d));
const shard = (p: RetentionPolicy) => (p.shardDuration !== undefined ? ` SHARD DURATION ${duration(p.shardDuration)}` : '');
