/**
 * Data classes and how long each is kept. Veilleur keeps as little as it needs ("minimal retention, automatic
 * forgetting"): raw readings a few months, hourly rollups two years, daily rollups a little over five years (the
 * BACS decree, R175-3 of the Code de la construction, asks for monthly data kept five years: months are sums of
 * local days), alert events ten years, the trail of people's actions (who did what, from where) a year. The audit
 * log of retention changes is never forgotten: it must outlive the data it governs.
 *
 * Each class has its own retention policy in the one database Veilleur writes to: on InfluxDB 1.x a retention policy
 * (`raw` is the database's default one, or INFLUX_RP), on 2.x/3.x a bucket/database named `<bucket>/<rp>`, which
 * their v1 compatibility (DBRP) maps back to database `<bucket>`, policy `<rp>`. The same InfluxQL
 * (`FROM "rollup_1h"."water_1h"`) therefore reads a class on every version.
 */
import type { Duration } from '../storage/influxql.ts';
import { ALERT_EVENT } from '../storage/schema.ts';

export const DATA_CLASSES = ['raw', 'hourly', 'daily', 'events', 'actions', 'audit'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];
/** Classes whose retention is configurable (the audit log is always kept forever). */
export const CONFIGURABLE_CLASSES = ['raw', 'hourly', 'daily', 'events', 'actions'] as const satisfies readonly DataClass[];
export type ConfigurableClass = (typeof CONFIGURABLE_CLASSES)[number];

export interface ClassInfo {
  /** Retention policy name; undefined for `raw`: the database's default policy (or INFLUX_RP). */
  rp: string | undefined;
  description: { fr: string; en: string };
  /** Default retention, and the shortest accepted (with why). */
  default: string;
  minimum: { duration: string; why: string };
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

export const CLASSES: Record<DataClass, ClassInfo> = {
  raw: {
    rp: undefined,
    description: { fr: 'Relevés bruts, trames (uplink…), évènements des capteurs', en: 'Raw readings, uplinks, device events' },
    default: '90d',
    // E4 (night base load) reads 7 days of raw readings plus an hour; rollups need raw data until computed.
    minimum: { duration: '8d', why: 'the windowed alert rules read up to 7 days of raw readings' },
  },
  hourly: {
    rp: 'rollup_1h',
    description: { fr: 'Agrégats horaires (`<mesure>_1h`)', en: 'Hourly rollups (`<measurement>_1h`)' },
    default: '730d',
    minimum: { duration: '2d', why: 'a rollup must outlive the period it summarises' },
  },
  daily: {
    rp: 'rollup_1d',
    description: { fr: 'Agrégats journaliers en heure locale (`<mesure>_1d`)', en: 'Daily rollups in local time (`<measurement>_1d`)' },
    // 5 years of whole months (BACS) + the month in progress + a shard group (7 d) of slack.
    default: '1900d',
    minimum: { duration: '2d', why: 'a rollup must outlive the period it summarises' },
  },
  events: {
    rp: 'events',
    description: { fr: `Historique des alertes (\`${ALERT_EVENT.measurement}\`)`, en: `Alert history (\`${ALERT_EVENT.measurement}\`)` },
    default: '3650d',
    minimum: { duration: '1d', why: 'InfluxDB drops data a shard group at a time; less than a day means nothing' },
  },
  actions: {
    rp: 'actions',
    description: { fr: 'Journal des actions (qui, quand, d’où, quoi, sur quelle commune)', en: 'Action audit trail (who, when, from where, what, on which commune)' },
    // It names people and their addresses (personal data): kept for what the CNIL recommends for access logs,
    // six months to a year, not forever like the retention log.
    default: '365d',
    minimum: { duration: '180d', why: 'an audit trail of actions is kept at least six months (CNIL, journalisation)' },
  },
  audit: {
    rp: 'audit',
    description: { fr: 'Journal des changements de conservation, points de reprise des agrégats', en: 'Retention change log, rollup checkpoints' },
    default: 'inf',
    minimum: { duration: 'inf', why: 'the audit log must outlive the data it governs' },
  },
};

/** Measurements copied to another class as they are written (their original stays in `raw`). */
export const COPIED_MEASUREMENTS: readonly { measurement: string; dataClass: DataClass }[] = [{ measurement: ALERT_EVENT.measurement, dataClass: 'events' }];

// ---------------------------------------------------------------------------------------------------------
// Durations: '36h', '90d', '2w' or 'inf'; canonical form in days when whole, else hours

const DURATION_RE = /^(\d{1,6})(h|d|w)$/;

/** Milliseconds of a duration (Infinity for 'inf'), or undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'inf' || t === 'infinite') return Infinity;
  const m = DURATION_RE.exec(t);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'h' ? n * HOUR : m[2] === 'd' ? n * DAY : n * 7 * DAY;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return 'inf';
  return ms % DAY === 0 ? `${ms / DAY}d` : `${Math.round(ms / HOUR)}h`;
}

/** The canonical text of a duration ('2w' → '14d', 'INF' → 'inf'). */
export function canonicalDuration(text: string): string {
  const ms = durationMs(text);
  if (ms === undefined) throw new RangeError(`expected a duration like '90d', '2w', '36h' or 'inf', got '${text}'`);
  return formatDuration(ms);
}

/** Go duration as InfluxDB 1.x prints it ('2160h0m0s', '0s' = infinite) → ms (Infinity for 0). */
export function goDurationMs(text: string): number {
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(h|m|s|ms|µs|us|ns)/g)) {
    const n = Number(m[1]);
    ms += m[2] === 'h' ? n * HOUR : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : m[2] === 'ms' ? n : 0;
  }
  return ms === 0 ? Infinity : ms;
}

/** InfluxQL duration literal: whole hours (at least one). */
export const influxqlHours = (ms: number): Duration => `${Math.max(1, Math.round(ms / HOUR))}h`;

/** InfluxQL duration literal: whole hours, or INF. */
export function influxqlDuration(ms: number): Duration | 'INF' {
  return Number.isFinite(ms) ? influxqlHours(ms) : 'INF';
}

/**
 * Shard-group duration of a class's policy. Data is dropped a whole shard group at a time, so it is kept at most
 * this much longer than its retention. Raw data follows InfluxDB's own defaults (< 2 d: 1 h; ≤ 6 months: 1 d;
 * longer: 7 d). Sparse classes get longer groups: each group stores every series' index and block headers again,
 * so a daily rollup in 7-day groups (7 points per series per group) costs ten times more per point than in
 * 52-week ones (measured: test/bench/footprint.ts).
 */
export function shardGroupMs(retentionMs: number, cls: DataClass = 'raw'): number {
  const long = !Number.isFinite(retentionMs) || retentionMs >= 2 * 365 * DAY;
  if (cls === 'hourly' && retentionMs >= 365 * DAY) return 28 * DAY;
  if ((cls === 'daily' || cls === 'events' || cls === 'audit') && long) return 364 * DAY;
  // The action trail is sparse too: 4-week groups over its year.
  if (cls === 'actions' && retentionMs >= 182 * DAY) return 28 * DAY;
  if (retentionMs < 2 * DAY) return HOUR;
  if (retentionMs <= 182 * DAY) return DAY;
  return 7 * DAY;
}
