/**
 * The yearly review of a tenant's responsible-digital strategy (loi REEN 2021-1485 art. 35: communes and EPCI
 * above 50,000 inhabitants adopt a "stratégie numérique responsable" and review it every year), from what
 * Veilleur measured over one calendar year in the tenant's time zone:
 * - water: volume per meter and site, leaks found (water alerts) with their duration and, when the alert's
 *   measured values allow it, the estimated loss;
 * - energy per building: kWh, kWh per heating degree-day when the site has an `outdoor` sensor, and the décret
 *   tertiaire trajectory when configured (services/reports/config.ts);
 * - server rooms: PUE, kWh and kgCO2e through services/datacenter/kpi.ts;
 * - the fleet and the platform's own footprint: devices, uplinks, airtime, radio energy, data stored.
 *
 * Pure: inputs are series already read (read.ts); every figure is derived here and can be redone by hand.
 */
import { ROLES } from '../../decoders/model/roles.ts';
import { READING_MEASUREMENTS, QUANTITIES, ALERT_EVENT, DEVICE_EVENT, DEVICE_STATUS, LNS_OBJECT, UPLINK, UPLINK_UNDECODED } from '../storage/schema.ts';
import { localDayBounds, localTime } from '../time/calendar.ts';
import { dailyDegreeDays, DJU_MIN_HOURS } from '../time/degree-days.ts';
import type { Alert } from '../alerts/model.ts';
import { resolveEmissionFactor } from '../datacenter/emission-factors.ts';
import { buildDatacenterReport, DATACENTER_ROLES, localMonths, monthlyFromSeries, type DatacenterReport, type IndexPoint, type LocalMonth, type MeterSeries } from '../datacenter/kpi.ts';
import { consumptionPerWindow, coverage, DAY_MS, HOUR_MS, identityNames, round, roundOrNull, roundShare, type ReportNames, type Text } from './common.ts';
import { pueCategoryFor, TERTIAIRE_TARGETS, tertiaireFor, type ReportsConfig, type TertiaireEntry } from './config.ts';
import type { ParsimonyDevice, ParsimonyReport } from './parsimony.ts';

// ---------------------------------------------------------------------------------------------------------
// Inputs

/** An index meter (water litres or energy Wh; the `wh` field of kpi.ts IndexPoint holds the index either way). */
export interface IndexMeter {
  site: string;
  building: string;
  zone: string;
  devEui: string;
  device: string;
  role: string;
  /** 'water', 'electricity' or 'heat' (the measurement read). */
  medium: string;
  points: IndexPoint[];
}

/** Hourly min/max of an outdoor sensor; `t` is the start of the hour. */
export interface OutdoorHour {
  site: string;
  building: string;
  devEui: string;
  t: number;
  tmin: number;
  tmax: number;
}

/** `SELECT count(*)` of one measurement: points per field. */
export interface MeasurementCount {
  measurement: string;
  fields: Record<string, number>;
  /** Mean FRMPayload size of the uplinks (for the size of payload_b64), when known. */
  meanPayloadBytes?: number | undefined;
}

export interface YearlyInput {
  tenant: string;
  year: number;
  timeZone: string;
  /** When the report is made: alerts still open end here (or at the year's end). */
  now: Date;
  waterMeters: readonly IndexMeter[];
  energyMeters: readonly IndexMeter[];
  outdoor: readonly OutdoorHour[];
  alerts: readonly Alert[];
  /** Server-room meters per site (kpi.ts readMeterSeries), baseline before the year included. */
  datacenterMeters: ReadonlyMap<string, readonly MeterSeries[]>;
  parsimony: ParsimonyReport;
  storage: readonly MeasurementCount[];
  config: ReportsConfig;
  /** Display names of the tenant and its sites; default: the identifiers. */
  names?: ReportNames | undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Output

export interface WaterMeterRow {
  site: string;
  building: string;
  device: string;
  devEui: string;
  role: string;
  m3: number;
  monthlyM3: (number | null)[];
  readings: number;
  resets: number;
  /** Share of the year covered by readings (0–1). */
  coverage: number;
  /** First and last reading inside the year (RFC 3339), null without any. */
  covered: Span | null;
}

/** The span a figure really covers: its first and last reading inside the period (RFC 3339). */
export interface Span {
  from: string;
  to: string;
}

export interface LeakRow {
  alertId: string;
  rule: string;
  /** What kind of leak alert it is, in words. */
  name: Text;
  /** Role of the device that raised it (registry), when known. */
  role: string | null;
  site: string;
  device: string | null;
  devEui: string | null;
  startedAt: string;
  endedAt: string | null;
  /** Still open at the end of the report (or of the year). */
  ongoing: boolean;
  /** Hours of the alert inside the year. */
  durationH: number;
  /** Flow above normal during the alert, L/h, when the alert's measured values give it. */
  excessLPerH: number | null;
  /** durationH × excessLPerH, m³; null: not estimated. */
  lossM3: number | null;
  /** How the loss was estimated, or why it was not. */
  basis: Text;
  message: Text;
}

export interface TertiaireTrajectory {
  referenceYear: number;
  referenceKwh: number;
  floorAreaM2: number | null;
  targets: { year: number; reduction: number; kwh: number }[];
  /** The linear path from the reference year to the 2030, 2040, 2050 targets, at the report's year. */
  pathKwh: number;
  measuredKwh: number;
  /** Meter readings cover at least 95 % of the year: the yearly figures can be compared. */
  complete: boolean;
  /** 1 − measured / reference, in %, for a complete year. */
  reductionPct: number | null;
  /** measured ≤ path, for a complete year. */
  onTrack: boolean | null;
  kwhPerM2: number | null;
}

export interface BuildingRow {
  site: string;
  building: string;
  kwh: number;
  monthlyKwh: (number | null)[];
  /** Share of each month covered by the least covered meter (0–1). */
  monthlyCoverage: number[];
  meters: { device: string; devEui: string; medium: string; kwh: number; readings: number; resets: number; coverage: number; covered: Span | null }[];
  coverage: number;
  covered: Span | null;
  /** Heating degree-days (base 18 °C) of the days with outdoor data, null without an outdoor sensor. */
  dju: number | null;
  djuDays: number;
  /** kWh of the same days. */
  kwhOnDjuDays: number | null;
  kwhPerDju: number | null;
  tertiaire: TertiaireTrajectory | null;
}

export interface DatacenterRow {
  site: string;
  report: DatacenterReport;
  /** Share of the year covered by the least covered facility or IT meter, and the span of their readings. */
  coverage: number;
  covered: Span | null;
  /** The report's warnings in both languages (`report` itself carries the French ones). */
  warnings: Text[];
  monthly: { month: string; facilityKwh: number | null; itKwh: number | null; pue: number | null }[];
}

export interface StorageRow {
  measurement: string;
  /** The most frequent field's count: a lower bound of the points (a point has at least one field). */
  points: number;
  /** Field values, all fields. */
  values: number;
  bytes: number;
}

/**
 * A figure of the summary, with the period it really covers: quoted alone in a council's minutes, it must carry
 * its own coverage. Below COVERAGE_THRESHOLD it is `partial`; an estimate of the whole year is given only when
 * enough of the year was measured, and always with its method.
 */
export interface Headline {
  key: 'water' | 'leaks' | 'leakLoss' | 'energy' | 'pue' | 'devices' | 'uplinks' | 'stored';
  value: number | null;
  unit: string;
  covered: Span | null;
  /** Share of the year covered (0–1). */
  coverage: number;
  partial: boolean;
  estimate: { value: number; method: Text } | null;
  /** Why there is no estimate, for a partial figure. */
  noEstimate: Text | null;
}

/** A headline below this share of the year says so in its tile. */
export const COVERAGE_THRESHOLD = 0.8;
/** An estimate of the whole year is offered from this share of the year measured (less is a guess). */
export const ESTIMATE_MIN_COVERAGE = 0.5;

export interface YearlyReport {
  tenant: string;
  names: ReportNames;
  year: number;
  timeZone: string;
  period: { from: string; to: string };
  generatedAt: string;
  months: string[];
  water: {
    meters: WaterMeterRow[];
    sites: { site: string; m3: number; inflowM3: number | null; monthlyM3: (number | null)[]; monthlyCoverage: number[] }[];
    totalM3: number;
    leaks: LeakRow[];
    leakLossM3: number;
    /** Water alerts that are not leaks (backflow, dry or tamper, stopped meter, silent sensor). */
    otherWaterAlerts: { rule: string; name: Text; count: number }[];
  };
  energy: { buildings: BuildingRow[]; totalKwh: number };
  datacenters: DatacenterRow[];
  fleet: {
    devices: number;
    byRole: { role: string; devices: number }[];
    uplinks: number;
    airtimeS: number;
    radioEnergyWh: number;
    flagged: number;
    parsimony: ParsimonyDevice[];
  };
  storage: { measurements: StorageRow[]; points: number; values: number; bytes: number };
  /** The summary's figures, each with the period it covers (see Headline). */
  headlines: Headline[];
  /** The span of all the readings and uplinks of the year, and its share of the year. */
  measured: { covered: Span | null; coverage: number };
  assumptions: Text[];
  warnings: Text[];
}

// ---------------------------------------------------------------------------------------------------------
// Leaks

/**
 * Water rules whose alert means water escaping, and how far its measured values give the flow above normal:
 * W1 (never-zero flow: the smallest hourly volume is the leak's floor), W2 (night minimum above its baseline),
 * W8 (district losses above their baseline). A wet leak sensor (W7) or a burst flag (W3) carry no flow.
 */
export const LEAK_RULES: Readonly<Record<string, { name: Text; excess?: (m: Alert['measured']) => number | undefined; basis: Text }>> = {
  W1: {
    name: { fr: 'Écoulement continu (fuite probable)', en: 'Continuous flow (probable leak)' },
    excess: (m) => num(m.min_l_per_h),
    basis: { fr: 'durée × débit horaire minimum mesuré (plancher de la fuite)', en: 'duration × smallest measured hourly flow (the leak’s floor)' },
  },
  W2: {
    name: { fr: 'Débit de nuit en hausse', en: 'Night flow rising' },
    excess: (m) => {
      const recent = num(m.recent_p20_l_per_h);
      const base = num(m.baseline_p20_l_per_h);
      return recent === undefined || base === undefined ? undefined : Math.max(0, recent - base);
    },
    basis: { fr: 'durée × (débit de nuit récent − référence)', en: 'duration × (recent night flow − baseline)' },
  },
  W3: { name: { fr: 'Alarme de rupture du compteur', en: 'Meter burst alarm' }, basis: { fr: 'alarme de rupture du compteur : aucun débit mesuré dans l’alerte', en: 'meter burst alarm: no flow measured in the alert' } },
  W7: { name: { fr: 'Présence d’eau au sol', en: 'Water on the floor' }, basis: { fr: 'détecteur de fuite : présence d’eau, sans débit', en: 'leak sensor: water present, no flow' } },
  W8: {
    name: { fr: 'Pertes du réseau de distribution en hausse', en: 'Distribution losses rising' },
    excess: (m) => {
      const losses = typeof m.losses_l_per_day === 'string' ? m.losses_l_per_day.split(',').map((s) => Number(s.trim())).filter(Number.isFinite) : [];
      const base = num(m.baseline_mean_l_per_day);
      if (losses.length === 0 || base === undefined) return undefined;
      return Math.max(0, losses.reduce((a, b) => a + b, 0) / losses.length - base) / 24;
    },
    basis: { fr: 'durée × (pertes journalières du secteur − référence) / 24', en: 'duration × (daily district losses − baseline) / 24' },
  },
};

/** The other water alerts, in words (rule ids are not for the reader). */
export const OTHER_WATER_ALERTS: Readonly<Record<string, Text>> = {
  W4: { fr: 'Retour d’eau', en: 'Backflow' },
  W5: { fr: 'Compteur à sec ou manipulé', en: 'Dry or tampered meter' },
  W6: { fr: 'Compteur arrêté', en: 'Stopped meter' },
  W7S: { fr: 'Détecteur de fuite muet', en: 'Silent leak sensor' },
};
const OTHER_ALERT: Text = { fr: 'Autre alerte sur l’eau', en: 'Other water alert' };

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

const NOT_ESTIMATED: Text = { fr: 'non estimé', en: 'not estimated' };

/** Leak alerts overlapping [from, to), their hours inside it and the loss when it can be estimated. */
export function leakRows(alerts: readonly Alert[], from: number, to: number, now: number, roles: ReadonlyMap<string, string> = new Map()): LeakRow[] {
  const rows: LeakRow[] = [];
  for (const a of alerts) {
    const spec = LEAK_RULES[a.ruleId];
    if (!spec) continue;
    const start = a.startedAt.getTime();
    const resolved = a.state === 'resolved';
    const end = resolved ? (a.endedAt ?? a.lastFiringAt).getTime() : Math.min(now, to);
    const s = Math.max(start, from);
    const e = Math.min(end, to);
    if (!(e > s) && !(start >= from && start < to)) continue;
    const durationH = Math.max(0, e - s) / HOUR_MS;
    const excess = spec.excess?.(a.measured);
    const lossM3 = excess === undefined ? null : (durationH * excess) / 1000;
    rows.push({
      alertId: a.id,
      rule: a.ruleId,
      name: spec.name,
      role: (a.subject.devEui && roles.get(a.subject.devEui)) || null,
      site: a.subject.site,
      device: a.subject.device ?? null,
      devEui: a.subject.devEui ?? null,
      startedAt: a.startedAt.toISOString(),
      endedAt: resolved ? new Date(end).toISOString() : null,
      ongoing: !resolved,
      durationH: round(durationH, 1),
      excessLPerH: excess === undefined ? null : round(excess, 1),
      lossM3: lossM3 === null ? null : round(lossM3, 3),
      basis: excess === undefined ? { fr: `${NOT_ESTIMATED.fr} (${spec.basis.fr})`, en: `${NOT_ESTIMATED.en} (${spec.basis.en})` } : spec.basis,
      message: a.message,
    });
  }
  return rows.sort((x, y) => x.startedAt.localeCompare(y.startedAt) || x.alertId.localeCompare(y.alertId));
}

// ---------------------------------------------------------------------------------------------------------
// Degree-days: services/time/degree-days.ts (the same computation as rule E5)

// ---------------------------------------------------------------------------------------------------------
// Décret tertiaire

/** The reference consumption reduced along straight lines to each target: (Y0, R) → (2030, 0.6 R) → (2040, 0.5 R) → (2050, 0.4 R). */
export function tertiairePathKwh(entry: Pick<TertiaireEntry, 'referenceYear' | 'referenceKwh'>, year: number): number {
  const knots = [{ year: entry.referenceYear, reduction: 0 }, ...TERTIAIRE_TARGETS.filter((t) => t.year > entry.referenceYear)];
  if (year <= knots[0]!.year) return entry.referenceKwh;
  for (let i = 1; i < knots.length; i++) {
    const a = knots[i - 1]!;
    const b = knots[i]!;
    if (year <= b.year) {
      const r = a.reduction + ((b.reduction - a.reduction) * (year - a.year)) / (b.year - a.year);
      return entry.referenceKwh * (1 - r);
    }
  }
  return entry.referenceKwh * (1 - knots[knots.length - 1]!.reduction);
}

export const COMPLETE_YEAR_COVERAGE = 0.95;

export function tertiaireTrajectory(entry: TertiaireEntry, year: number, measuredKwh: number, yearCoverage: number): TertiaireTrajectory {
  const complete = yearCoverage >= COMPLETE_YEAR_COVERAGE;
  const path = tertiairePathKwh(entry, year);
  return {
    referenceYear: entry.referenceYear,
    referenceKwh: entry.referenceKwh,
    floorAreaM2: entry.floorAreaM2 ?? null,
    targets: TERTIAIRE_TARGETS.map((t) => ({ year: t.year, reduction: t.reduction, kwh: round(entry.referenceKwh * (1 - t.reduction), 1) })),
    pathKwh: round(path, 1),
    measuredKwh: round(measuredKwh, 1),
    complete,
    reductionPct: complete ? round((1 - measuredKwh / entry.referenceKwh) * 100, 1) : null,
    onTrack: complete ? measuredKwh <= path : null,
    kwhPerM2: entry.floorAreaM2 && complete ? round(measuredKwh / entry.floorAreaM2, 1) : null,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Data stored

/**
 * Storage estimate per field value (InfluxDB TSM, compressed, timestamp included): floats and integers 2–3 bytes
 * per value (InfluxData's own answer, "How much disk does InfluxDB consume?"), we take the upper end; booleans
 * are bit-packed, 2 bytes with their timestamp [H]; a base64 payload does not compress (its length); other
 * strings (mostly repeated names and codes, alert texts) 32 bytes [H]. Series index and WAL are not counted.
 */
export const STORAGE_MODEL = { numericBytes: 3, booleanBytes: 2, stringBytes: 32 } as const;

type FieldKind = 'numeric' | 'boolean' | 'string';

function describedKind(description: string): FieldKind {
  return description.startsWith('string') ? 'string' : description.startsWith('boolean') ? 'boolean' : 'numeric';
}

/** The type of a stored field, from the storage schema (services/storage/schema.ts). */
export function fieldKind(measurement: string, field: string): FieldKind {
  if ((READING_MEASUREMENTS as readonly string[]).includes(measurement)) {
    const q = Object.values(QUANTITIES).find((x) => x.measurement === measurement && x.field === field);
    return q?.type === 'boolean' ? 'boolean' : 'numeric';
  }
  const described: Record<string, Record<string, string>> = {
    [UPLINK.measurement]: UPLINK.fields,
    [UPLINK_UNDECODED.measurement]: UPLINK_UNDECODED.fields,
    [DEVICE_STATUS.measurement]: DEVICE_STATUS.fields,
    [DEVICE_EVENT.measurement]: DEVICE_EVENT.fields,
    [ALERT_EVENT.measurement]: ALERT_EVENT.fields,
  };
  if (measurement === LNS_OBJECT.measurement) return 'numeric';
  const d = described[measurement]?.[field];
  return d ? describedKind(d) : 'numeric';
}

export function storageRows(counts: readonly MeasurementCount[]): StorageRow[] {
  return counts
    .map((c) => {
      let points = 0;
      let values = 0;
      let bytes = 0;
      for (const [field, n] of Object.entries(c.fields)) {
        if (!Number.isFinite(n) || n <= 0) continue;
        points = Math.max(points, n);
        values += n;
        const kind = fieldKind(c.measurement, field);
        const per =
          c.measurement === UPLINK.measurement && field === 'payload_b64' && c.meanPayloadBytes !== undefined
            ? 4 * Math.ceil(c.meanPayloadBytes / 3) + STORAGE_MODEL.numericBytes
            : kind === 'string'
              ? STORAGE_MODEL.stringBytes
              : kind === 'boolean'
                ? STORAGE_MODEL.booleanBytes
                : STORAGE_MODEL.numericBytes;
        bytes += n * per;
      }
      return { measurement: c.measurement, points, values, bytes: Math.round(bytes) };
    })
    .filter((r) => r.values > 0)
    .sort((a, b) => b.bytes - a.bytes || a.measurement.localeCompare(b.measurement));
}

// ---------------------------------------------------------------------------------------------------------
// The report

/** [local midnight of 1 January, next 1 January) in the time zone. */
export function yearBounds(year: number, timeZone: string): { from: Date; to: Date } {
  if (!Number.isInteger(year) || year < 2000 || year > 2099) throw new RangeError(`expected a year from 2000 to 2099, got ${year}`);
  return { from: localDayBounds(`${year}-01-01`, timeZone).start, to: localDayBounds(`${year + 1}-01-01`, timeZone).start };
}

/** Local day boundaries of the dates, in order: [start of the first day, …, end of the last day]. */
function dayBoundaries(from: Date, to: Date, timeZone: string): { dates: string[]; bounds: number[] } {
  const dates: string[] = [];
  const bounds: number[] = [];
  let date = localTime(from, timeZone).date;
  // Bounded: a year has at most 366 days (+1 for safety).
  for (let i = 0; i < 400; i++) {
    const b = localDayBounds(date, timeZone);
    if (b.start.getTime() >= to.getTime()) break;
    if (bounds.length === 0) bounds.push(b.start.getTime());
    dates.push(date);
    bounds.push(b.end.getTime());
    date = new Date(Date.parse(`${date}T12:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  }
  return { dates, bounds };
}

const monthBoundaries = (months: readonly LocalMonth[]): number[] => (months.length === 0 ? [] : [months[0]!.start.getTime(), ...months.map((m) => m.end.getTime())]);

/** Consumption per month; null for a month without any reading (before the meter was installed, or after it fell silent). */
function monthly(points: readonly IndexPoint[], bounds: readonly number[], scale: number): (number | null)[] {
  return consumptionPerWindow(points, bounds).map((w) => (w.readings > 0 ? round(w.value * scale, 3) : null));
}

function addMonthly(a: (number | null)[], b: (number | null)[]): (number | null)[] {
  return a.map((x, i) => (x === null && b[i] === null ? null : round((x ?? 0) + (b[i] ?? 0), 3)));
}

/** First and last reading inside [from, to), the baseline before `from` counting as a reading at `from`. */
export function coveredSpan(points: readonly IndexPoint[], from: number, to: number): { from: number; to: number } | null {
  let first: number | undefined;
  let last: number | undefined;
  for (const p of points) {
    if (p.t >= to) break;
    if (p.t < from) first = from;
    else {
      first ??= p.t;
      last = p.t;
    }
  }
  return first === undefined || last === undefined ? null : { from: first, to: last };
}

/** The union of spans (first start to last end), null when there is none. */
function unionSpan(spans: readonly ({ from: number; to: number } | null)[]): { from: number; to: number } | null {
  const real = spans.filter((x): x is { from: number; to: number } => x !== null);
  return real.length === 0 ? null : { from: Math.min(...real.map((x) => x.from)), to: Math.max(...real.map((x) => x.to)) };
}

const isoSpan = (s: { from: number; to: number } | null): Span | null => (s === null ? null : { from: new Date(s.from).toISOString(), to: new Date(s.to).toISOString() });

const ESTIMATE_METHOD: Text = {
  fr: 'règle de trois : valeur mesurée × durée de l’année ÷ durée mesurée ; ne tient compte ni des saisons ni des vacances',
  en: 'rule of three: measured value × length of the year ÷ length measured; ignores seasons and holidays',
};

/** A headline figure with its span and coverage; `extensive` figures (volumes, counts over time) may be estimated. */
function headline(key: Headline['key'], value: number | null, unit: string, span: { from: number; to: number } | null, share: number, extensive: boolean): Headline {
  const partial = share < COVERAGE_THRESHOLD;
  const canEstimate = partial && extensive && value !== null && share >= ESTIMATE_MIN_COVERAGE;
  return {
    key,
    value,
    unit,
    covered: isoSpan(span),
    coverage: roundShare(share),
    partial,
    estimate: canEstimate ? { value: round(value / share, 3), method: ESTIMATE_METHOD } : null,
    noEstimate: !partial
      ? null
      : !extensive
        ? { fr: 'Pas d’estimation sur l’année : ce chiffre ne s’extrapole pas.', en: 'No estimate for the year: this figure does not extrapolate.' }
        : canEstimate
          ? null
          : {
              fr: `Pas d’estimation sur l’année : moins de ${ESTIMATE_MIN_COVERAGE * 100} % de l’année mesurée.`,
              en: `No estimate for the year: less than ${ESTIMATE_MIN_COVERAGE * 100} % of the year measured.`,
            },
  };
}

const minOr0 = (xs: readonly number[]) => (xs.length ? Math.min(...xs) : 0);

export function buildYearlyReport(input: YearlyInput): YearlyReport {
  const { from, to } = yearBounds(input.year, input.timeZone);
  const f = from.getTime();
  const t = to.getTime();
  const yearMs = t - f;
  const months = localMonths(from, to, input.timeZone);
  const mBounds = monthBoundaries(months);
  const warnings: Text[] = [...input.parsimony.warnings];
  const resetWarning = (device: string, n: number): Text => ({
    fr:
      n < 2
        ? `${device} : ${n} baisse d’index comptée comme une remise à zéro du compteur ; vérifier s’il a été remplacé`
        : `${device} : ${n} baisses d’index comptées comme des remises à zéro du compteur ; vérifier s’il a été remplacé`,
    en: `${device}: ${n} index ${n === 1 ? 'decrease' : 'decreases'} counted as ${n === 1 ? 'a counter reset' : 'counter resets'} to zero; check for a meter replacement`,
  });
  const monthCoverage = (points: readonly IndexPoint[]) => months.map((m) => roundShare(coverage(points, m.start.getTime(), m.end.getTime())));
  const minMonthly = (lists: readonly number[][]) => months.map((_, i) => minOr0(lists.map((l) => l[i] ?? 0)));

  // Water
  const waterSpans = new Map<string, { from: number; to: number } | null>();
  const waterMeters: WaterMeterRow[] = input.waterMeters
    .map((m) => {
      const whole = consumptionPerWindow(m.points, [f, t])[0]!;
      const span = coveredSpan(m.points, f, t);
      waterSpans.set(m.devEui, span);
      return {
        site: m.site,
        building: m.building,
        device: m.device,
        devEui: m.devEui,
        role: m.role,
        m3: round(whole.value / 1000, 3),
        monthlyM3: monthly(m.points, mBounds, 1 / 1000),
        readings: whole.readings,
        resets: whole.resets,
        coverage: roundShare(coverage(m.points, f, t)),
        covered: isoSpan(span),
      };
    })
    .sort((a, b) => a.site.localeCompare(b.site) || a.device.localeCompare(b.device));
  for (const m of waterMeters) if (m.resets > 0) warnings.push(resetWarning(m.device, m.resets));
  const pointsOf = new Map(input.waterMeters.map((m) => [m.devEui, m.points]));
  const waterSites = [...new Set(waterMeters.map((m) => m.site))].sort().map((site) => {
    const mains = waterMeters.filter((m) => m.site === site && m.role !== ROLES.districtInflow);
    const inflow = waterMeters.filter((m) => m.site === site && m.role === ROLES.districtInflow);
    const mainsMonthly = mains.reduce<(number | null)[]>((acc, m) => addMonthly(acc, m.monthlyM3), months.map(() => null));
    const inflowMonthly = inflow.reduce<(number | null)[]>((acc, m) => addMonthly(acc, m.monthlyM3), months.map(() => null));
    // A district's inflow stands for the site when it has no building meter.
    const shown = mains.length ? mains : inflow;
    return {
      site,
      m3: round(mains.reduce((s, m) => s + m.m3, 0), 3),
      inflowM3: inflow.length ? round(inflow.reduce((s, m) => s + m.m3, 0), 3) : null,
      monthlyM3: mains.length ? mainsMonthly : inflowMonthly,
      monthlyCoverage: minMonthly(shown.map((m) => monthCoverage(pointsOf.get(m.devEui) ?? []))),
    };
  });
  const roles = new Map<string, string>();
  for (const d of input.parsimony.devices) if (d.role) roles.set(d.devEui, d.role);
  for (const m of input.waterMeters) if (m.role) roles.set(m.devEui, m.role);
  const leaks = leakRows(input.alerts, f, t, input.now.getTime(), roles);
  const otherWater = new Map<string, number>();
  for (const a of input.alerts) if (a.category === 'water' && !LEAK_RULES[a.ruleId]) otherWater.set(a.ruleId, (otherWater.get(a.ruleId) ?? 0) + 1);

  // Energy per building
  const { dates, bounds: dBounds } = dayBoundaries(from, to, input.timeZone);
  const buildingKeys = [...new Set(input.energyMeters.map((m) => `${m.site}\u0000${m.building || m.site}`))].sort();
  const energySpans: ({ from: number; to: number } | null)[] = [];
  const buildings: BuildingRow[] = buildingKeys.map((key) => {
    const [site, building] = key.split('\u0000') as [string, string];
    const meters = input.energyMeters.filter((m) => m.site === site && (m.building || m.site) === building);
    const rows = meters.map((m) => {
      const w = consumptionPerWindow(m.points, [f, t])[0]!;
      const span = coveredSpan(m.points, f, t);
      energySpans.push(span);
      return { device: m.device, devEui: m.devEui, medium: m.medium, kwh: round(w.value / 1000, 3), readings: w.readings, resets: w.resets, coverage: roundShare(coverage(m.points, f, t)), covered: isoSpan(span) };
    });
    for (const r of rows) if (r.resets > 0) warnings.push(resetWarning(r.device, r.resets));
    const kwh = rows.reduce((s, r) => s + r.kwh, 0);
    const monthlyKwh = meters.reduce<(number | null)[]>((acc, m) => addMonthly(acc, monthly(m.points, mBounds, 1 / 1000)), months.map(() => null));
    const cov = rows.length ? Math.min(...rows.map((r) => r.coverage)) : 0;

    // Degree-days from the building's own outdoor sensor, else the site's.
    const own = input.outdoor.filter((h) => h.site === site && h.building === building);
    const dju = dailyDegreeDays(own.length ? own : input.outdoor.filter((h) => h.site === site), input.timeZone);
    let djuSum: number | null = null;
    let kwhOnDays: number | null = null;
    if (dju.size > 0) {
      const daily = meters.map((m) => consumptionPerWindow(m.points, dBounds));
      djuSum = 0;
      kwhOnDays = 0;
      dates.forEach((date, i) => {
        const d = dju.get(date);
        if (d === undefined) return;
        djuSum! += d;
        kwhOnDays! += daily.reduce((s, w) => s + (w[i]?.value ?? 0), 0) / 1000;
      });
    }
    const entry = tertiaireFor(input.config, input.tenant, site, building);
    return {
      site,
      building,
      kwh: round(kwh, 3),
      monthlyKwh,
      monthlyCoverage: minMonthly(meters.map((m) => monthCoverage(m.points))),
      meters: rows,
      coverage: roundShare(cov),
      covered: isoSpan(unionSpan(meters.map((m) => coveredSpan(m.points, f, t)))),
      dju: roundOrNull(djuSum, 1),
      djuDays: dju.size,
      kwhOnDjuDays: roundOrNull(kwhOnDays, 3),
      kwhPerDju: djuSum !== null && djuSum > 0 && kwhOnDays !== null ? round(kwhOnDays / djuSum, 2) : null,
      tertiaire: entry ? tertiaireTrajectory(entry, input.year, kwh, cov) : null,
    };
  });
  for (const e of input.config.tertiaire) {
    if ((e.tenant === undefined || e.tenant === input.tenant) && !buildings.some((b) => b.site === e.site && b.building === (e.building ?? e.site))) {
      warnings.push({
        fr: `décret tertiaire : aucun compteur électrique général trouvé pour ${e.site}/${e.building ?? e.site} ; sa trajectoire n’est pas présentée`,
        en: `décret tertiaire: no '${ROLES.buildingMain}' meter found for ${e.site}/${e.building ?? e.site}; its trajectory is not reported`,
      });
    }
  }

  // Server rooms
  const factor = resolveEmissionFactor(input.config.emissionFactor);
  const dcSpans: ({ from: number; to: number } | null)[] = [];
  const datacenters: DatacenterRow[] = [...input.datacenterMeters.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([site, meters]) => {
      const dcInput = { tenant: input.tenant, site, from, to, meters, factor, category: pueCategoryFor(input.config, input.tenant, site) };
      const report = buildDatacenterReport({ ...dcInput, lang: 'fr' });
      const english = buildDatacenterReport({ ...dcInput, lang: 'en' }).warnings;
      const facility = monthlyFromSeries(meters.filter((m) => m.role === DATACENTER_ROLES.facilityTotal), months);
      const it = monthlyFromSeries(meters.filter((m) => m.role === DATACENTER_ROLES.itLoad), months);
      const pueMeters = meters.filter((m) => m.role === DATACENTER_ROLES.facilityTotal || m.role === DATACENTER_ROLES.itLoad);
      const span = unionSpan(pueMeters.map((m) => coveredSpan(m.points, f, t)));
      dcSpans.push(span);
      return {
        site,
        report,
        coverage: roundShare(minOr0(pueMeters.map((m) => coverage(m.points, f, t)))),
        covered: isoSpan(span),
        warnings: report.warnings.map((fr, i) => ({ fr, en: english[i] ?? fr })),
        // A month without any reading is empty, not 0 kWh (the index before it is a baseline, not a measurement).
        monthly: months.map((m, i) => {
          const fk = facility[i] && facility[i].readings > 0 ? facility[i].kwh : null;
          const ik = it[i] && it[i].readings > 0 ? it[i].kwh : null;
          return { month: m.month, facilityKwh: fk, itKwh: ik, pue: fk !== null && ik !== null && ik > 0 ? round(fk / ik, 3) : null };
        }),
      };
    });

  // Fleet and platform
  const p = input.parsimony;
  const roleCounts = new Map<string, number>();
  for (const d of p.devices) roleCounts.set(d.role ?? '', (roleCounts.get(d.role ?? '') ?? 0) + 1);
  const airtimeS = p.devices.reduce((s, d) => s + (d.airtimeSPerDay ?? 0) * d.days, 0);
  const radioWh = p.devices.reduce((s, d) => s + (d.battery ? (d.battery.txEnergyPerUplinkMj * d.uplinks) / 3.6e6 : 0), 0);
  const storage = storageRows(input.storage);
  const fleetSpan = unionSpan(
    p.devices.map((d) => (d.firstUplinkAt && d.lastUplinkAt ? { from: Date.parse(d.firstUplinkAt), to: Date.parse(d.lastUplinkAt) } : null)),
  );
  const share = (s: { from: number; to: number } | null) => (s === null ? 0 : Math.max(0, Math.min(1, (s.to - s.from) / yearMs)));

  // Headlines: each with the span it covers. Totals over several meters take the least covered one's share.
  const mains = input.waterMeters.filter((m) => m.role !== ROLES.districtInflow);
  const waterShare = minOr0(mains.map((m) => coverage(m.points, f, t)));
  const waterSpan = unionSpan(mains.map((m) => waterSpans.get(m.devEui) ?? null));
  const watchShare = minOr0(input.waterMeters.map((m) => coverage(m.points, f, t)));
  const watchSpan = unionSpan([...waterSpans.values()]);
  const energyShare = minOr0(input.energyMeters.map((m) => coverage(m.points, f, t)));
  const mainDc = datacenters.find((d) => d.report.pue !== null);
  const storageBytes = storage.reduce((s, r) => s + r.bytes, 0);
  const uplinks = p.totals.uplinks;
  const totalM3 = round(waterSites.reduce((s, x) => s + x.m3, 0), 3);
  const totalKwh = round(buildings.reduce((s, b) => s + b.kwh, 0), 3);
  const leakLossM3 = round(leaks.reduce((s, l) => s + (l.lossM3 ?? 0), 0), 3);
  const headlines: Headline[] = [
    headline('water', mains.length ? totalM3 : null, 'm³', waterSpan, waterShare, true),
    headline('leaks', leaks.length, '', watchSpan, watchShare, false),
    headline('leakLoss', leakLossM3, 'm³', watchSpan, watchShare, false),
    headline('energy', buildings.length ? totalKwh : null, 'kWh', unionSpan(energySpans), energyShare, true),
    headline('pue', mainDc?.report.pue ?? null, '', mainDc ? unionSpan([dcSpans[datacenters.indexOf(mainDc)] ?? null]) : null, mainDc?.coverage ?? 0, false),
    headline('devices', p.devices.length, '', fleetSpan, share(fleetSpan), false),
    headline('uplinks', uplinks, '', fleetSpan, share(fleetSpan), true),
    headline('stored', storageBytes, 'B', fleetSpan, share(fleetSpan), true),
  ];
  const allSpan = unionSpan([waterSpan, watchSpan, unionSpan(energySpans), ...dcSpans, fleetSpan]);

  return {
    tenant: input.tenant,
    names: input.names ?? identityNames(input.tenant),
    year: input.year,
    timeZone: input.timeZone,
    period: { from: from.toISOString(), to: to.toISOString() },
    generatedAt: input.now.toISOString(),
    months: months.map((m) => m.month),
    water: {
      meters: waterMeters,
      sites: waterSites,
      totalM3,
      leaks,
      leakLossM3,
      otherWaterAlerts: [...otherWater]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([rule, count]) => ({ rule, name: OTHER_WATER_ALERTS[rule] ?? OTHER_ALERT, count })),
    },
    energy: { buildings, totalKwh },
    datacenters,
    fleet: {
      devices: p.devices.length,
      byRole: [...roleCounts].sort((a, b) => a[0].localeCompare(b[0])).map(([role, devices]) => ({ role, devices })),
      uplinks,
      airtimeS: round(airtimeS, 1),
      radioEnergyWh: round(radioWh, 3),
      flagged: p.totals.flagged,
      parsimony: p.devices,
    },
    storage: {
      measurements: storage,
      points: storage.reduce((s, r) => s + r.points, 0),
      values: storage.reduce((s, r) => s + r.values, 0),
      bytes: storageBytes,
    },
    headlines,
    measured: { covered: isoSpan(allSpan), coverage: roundShare(share(allSpan)) },
    assumptions: ASSUMPTIONS(factor.kgCo2ePerKwh, factor.vintage),
    warnings,
  };
}

const ASSUMPTIONS = (kg: number, vintage: string): Text[] => [
  {
    fr: `Période réellement couverte : chaque chiffre du résumé indique les dates de sa première et de sa dernière mesure dans l’année et la part de l’année qu’elles couvrent (pour un total de plusieurs compteurs, celle du compteur le moins suivi). Sous ${COVERAGE_THRESHOLD * 100} %, le chiffre est signalé comme partiel ; une estimation sur l’année n’est donnée qu’à partir de ${ESTIMATE_MIN_COVERAGE * 100} % de l’année mesurée, par règle de trois.`,
    en: `Period really covered: each summary figure states the dates of its first and last measurement in the year and the share of the year they cover (for a total of several meters, that of the least covered meter). Below ${COVERAGE_THRESHOLD * 100} % the figure is marked partial; an estimate for the year is given only from ${ESTIMATE_MIN_COVERAGE * 100} % of the year measured, by rule of three.`,
  },
  {
    fr: 'Consommations : différence des index des compteurs (eau en litres, énergie en Wh) ; l’index à une date est le dernier relevé avant elle, une baisse d’index compte comme une remise à zéro du compteur. Un mois sans aucun relevé est laissé vide, jamais compté à zéro.',
    en: 'Consumption: differences of meter indexes (water in litres, energy in Wh); the index at a date is the last reading before it; a decrease counts as a counter reset to zero. A month without any reading is left empty, never counted as zero.',
  },
  {
    fr: 'Fuites : alertes d’écoulement continu, de débit de nuit, de rupture de compteur, de présence d’eau et de pertes du réseau ; perte estimée = heures de l’alerte dans l’année × débit excédentaire mesuré quand l’alerte le donne (écoulement continu : plus petit débit horaire ; débit de nuit : nuit récente − référence ; réseau : pertes − référence), sinon « non estimé ».',
    en: 'Leaks: continuous flow, night flow, meter burst, water on the floor and network loss alerts; estimated loss = the alert’s hours in the year × the excess flow its measured values give (continuous flow: smallest hourly flow; night flow: recent night − baseline; network: losses − baseline), otherwise “not estimated”.',
  },
  {
    fr: `Degrés-jours unifiés (DJU) base 18 °C, méthode « météo » : max(0 ; 18 − (Tmin + Tmax)/2) par jour, sur les jours où la sonde extérieure a mesuré au moins ${DJU_MIN_HOURS} heures ; kWh par DJU sur ces mêmes jours. Électricité et chaleur des compteurs généraux des bâtiments ; gaz et fioul non mesurés.`,
    en: `Heating degree-days base 18 °C, "météo" method: max(0, 18 − (Tmin + Tmax)/2) per day, on days when the outdoor sensor reported in at least ${DJU_MIN_HOURS} hours; kWh per degree-day over the same days. Electricity and heat of the buildings' main meters; gas and fuel oil are not metered.`,
  },
  {
    fr: 'Décret tertiaire : trajectoire linéaire de l’année de référence vers −40 % (2030), −50 % (2040), −60 % (2050) ; verdict seulement pour une année couverte à 95 % au moins ; l’ajustement climatique reste celui de la plateforme OPERAT.',
    en: 'Décret tertiaire: straight path from the reference year to −40 % (2030), −50 % (2040), −60 % (2050); a verdict only for a year covered at 95 % or more; the climate adjustment is the OPERAT platform’s.',
  },
  {
    fr: `Carbone : ${String(kg).replace('.', ',')} kgCO₂e par kWh (ADEME, électricité, mix moyen de consommation, ${vintage}) ; PUE selon la norme ISO/IEC 30134-2.`,
    en: `Carbon: ${kg} kgCO₂e per kWh (ADEME, electricity, average consumption mix, ${vintage}); PUE per ISO/IEC 30134-2.`,
  },
  {
    fr: 'Pile : charge par message = temps d’antenne × 40 mA (émission à +14 dBm, hypothèse) + 2 fenêtres de réception (60 ms × 11 mA) ; veille 5 µA ; autodécharge 1 % par an ; pile lithium AA de 2,6 Ah sous 3,6 V dont 80 % utilisables. Messages par jour comptés entre le premier et le dernier message du capteur dans l’année.',
    en: 'Battery: charge per uplink = airtime × 40 mA (+14 dBm transmission, assumption) + 2 receive windows (60 ms × 11 mA); 5 µA sleep; 1 %/year self-discharge; lithium AA cell of 2.6 Ah at 3.6 V, 80 % usable. Uplinks per day over the span between the device’s first and last uplink of the year.',
  },
  {
    fr: `Données stockées : ${STORAGE_MODEL.numericBytes} octets par valeur numérique, ${STORAGE_MODEL.booleanBytes} par valeur oui/non, ${STORAGE_MODEL.stringBytes} par texte (le message radio brut à sa longueur) ; nombre de points compté dans la base pour l’année. Les messages rejetés sans collectivité identifiée, l’index et le journal d’écriture de la base ne sont pas comptés.`,
    en: `Data stored: ${STORAGE_MODEL.numericBytes} bytes per numeric value, ${STORAGE_MODEL.booleanBytes} per boolean, ${STORAGE_MODEL.stringBytes} per text value (the raw radio payload at its length); points counted in the database for the year. Rejected messages without a known tenant, the database's series index and write-ahead log are not counted.`,
  },
];
