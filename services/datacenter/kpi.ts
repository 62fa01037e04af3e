/**
 * Server-room and datacenter energy KPIs from the meters Veilleur stores: PUE, DCiE, IT share, carbon, monthly
 * totals in local time, and the yearly export of the EU data-centre reporting scheme.
 *
 * Why: loi REEN (2021-1485) asks communes to measure and reduce the footprint of their IT; the EU Energy
 * Efficiency Directive 2023/1791 (art. 12, Annex VII) and Commission Delegated Regulation (EU) 2024/1364 make
 * sites of ≥ 500 kW of IT publish their energy KPIs every year. Smaller server rooms have no duty but the same
 * questions, and the same meters answer them.
 *
 * Definitions (ISO/IEC 30134-2, PUE ≡ EN 50600-4-2):
 * - PUE = total facility energy / IT equipment energy, both over the SAME period (so PUE ≥ 1);
 *   DCiE = 1 / PUE, in %. A period shorter than 12 months gives an "interim PUE", not comparable with an annual one.
 * - The measurement category says where the IT energy is measured: category 1 at the UPS output, 2 at the PDU
 *   output, 3 at the IT equipment input (most accurate). Meters cannot tell: it comes from configuration.
 *
 * Meters are chosen by their registry `role` tag: `facility-total` (the whole room: IT, cooling, losses), `it-load`
 * (the IT equipment), optionally `cooling` and `other` (sub-meters, shown as shares). Energy is read from the
 * channel-less active energy index (Wh) of the `electricity` measurement: tariff registers in `channel` are
 * left out, since the channel-less reading is the meter's total.
 *
 * Energy over a period, from index readings (docs/schema.md: consumption is the non-negative difference of the
 * index, never a sum of samples):
 * - the index at a boundary is the LAST READING BEFORE it (no interpolation). So consecutive periods (months)
 *   add up exactly to the whole, and each boundary is off by at most one reporting interval (15 min for the
 *   usual meters: ±0.5 % of a 2-day period, negligible over a month or a year);
 * - the energy is the sum of the increases between consecutive readings. A decrease is a counter reset (meter
 *   replaced, counter wrapped, pulse counter rebooted): we assume the new counter started from zero and count its
 *   whole new value as consumption since the reset. That is exact for a reboot to zero and for a new meter
 *   installed at zero; it over-counts a replacement meter that starts at a non-zero index (each reset is reported
 *   in the warnings so it can be checked). A meter with a single reading gives 0 kWh.
 *
 * Reads use plain InfluxQL over /query (SELECT with WHERE on time and tags, GROUP BY tags, ORDER BY time, LIMIT),
 * which InfluxDB 1.x, 2.x (v1 compatibility) and 3.x all accept.
 */
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { ROLES } from '../../decoders/model/roles.ts';
import { localDayBounds, localTime } from '../time/calendar.ts';
import { toCsv } from '../csv.ts';
import { roleLabel, type Lang } from '../registry/names.ts';
import type { InfluxSeries, InfluxTarget } from '../storage/influx.ts';
import { during, select, type Condition } from '../storage/influxql.ts';
import type { READING_TAGS } from '../storage/schema.ts';
import { resolveEmissionFactor, type EmissionFactor, type EmissionFactorId } from './emission-factors.ts';

const ENERGY = QUANTITIES['metering.electricity.activeEnergy'];
type ReadingTag = (typeof READING_TAGS)[number];
/** A tag name checked against the storage schema at compile time. */
const tag = (name: ReadingTag): string => name;

/**
 * Registry roles of datacenter meters (decoders/model/roles.ts).
 */
export const DATACENTER_ROLES = {
  facilityTotal: ROLES.facilityTotal,
  itLoad: ROLES.itLoad,
  cooling: ROLES.cooling,
  other: ROLES.other,
} as const;

/** How far before a period the last index reading is looked for (a meter silent longer has no baseline). */
export const BASELINE_LOOKBACK_MS = 366 * 86_400_000;
/** A meter whose readings cover less than this share of the period gets a warning (its energy is short). */
const MIN_COVERAGE = 0.95;

// ---------------------------------------------------------------------------------------------------------
// Pure computation

export interface IndexPoint {
  /** epoch ms */
  t: number;
  /** index value, Wh */
  wh: number;
}

/** A meter's channel-less index readings, sorted by time (may start before the period: the baseline). */
export interface MeterSeries {
  devEui: string;
  device: string;
  role: string;
  points: IndexPoint[];
}

/**
 * The energy counted by a series of index values (in order): the sum of the increases, a decrease counting as a
 * reset of the counter to zero (the new value is the consumption since the reset). Non-finite values are skipped.
 */
export function energyFromIndex(values: readonly number[]): { wh: number; resets: number } {
  let wh = 0;
  let resets = 0;
  let previous: number | undefined;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (previous !== undefined) {
      if (v >= previous) wh += v - previous;
      else {
        resets++;
        wh += Math.max(0, v);
      }
    }
    previous = v;
  }
  return { wh, resets };
}

export interface WindowEnergy {
  wh: number;
  resets: number;
  /** Readings inside [start, end). */
  readings: number;
  /** First and last reading used (the first may be the baseline before `start`), epoch ms. */
  firstT?: number;
  lastT?: number;
}

/** Energy of [start, end) from sorted points: from the last reading before `start` to the last one before `end`. */
export function energyInWindow(points: readonly IndexPoint[], start: number, end: number): WindowEnergy {
  let baseline: IndexPoint | undefined;
  const inside: IndexPoint[] = [];
  for (const p of points) {
    if (p.t < start) baseline = p;
    else if (p.t < end) inside.push(p);
  }
  const used = baseline ? [baseline, ...inside] : inside;
  const { wh, resets } = energyFromIndex(used.map((p) => p.wh));
  return {
    wh,
    resets,
    readings: inside.length,
    ...(used.length > 0 ? { firstT: used[0]!.t, lastT: used[used.length - 1]!.t } : {}),
  };
}

export type PueCategory = 'category 1 (UPS output)' | 'category 2 (PDU output)' | 'category 3 (IT equipment input)' | 'unknown';

export const PUE_CATEGORIES: Record<1 | 2 | 3, PueCategory> = {
  1: 'category 1 (UPS output)',
  2: 'category 2 (PDU output)',
  3: 'category 3 (IT equipment input)',
};

export interface MeterEnergy {
  devEui: string;
  device: string;
  role: string;
  kwh: number;
  /** Readings inside the period (the baseline before it not counted). */
  readings: number;
  resets: number;
}

export interface DatacenterReport {
  tenant: string;
  site: string;
  zone: string | null;
  period: { from: string; to: string };
  energyKwh: { total: number | null; it: number | null; cooling?: number; other?: number };
  pue: number | null;
  /** 1 / PUE, in %. */
  dcie: number | null;
  /** IT energy / total energy (0–1). */
  itShare: number | null;
  /** Cooling energy / total energy (0–1), when a cooling meter exists. */
  coolingShare?: number | null;
  kgCo2e: { total: number | null; it: number | null };
  emissionFactor: { id: string; kgCo2ePerKwh: number; vintage: string };
  pueCategory: PueCategory;
  /** Period shorter than 12 months: ISO/IEC 30134-2 "interim PUE". */
  interimPue: boolean;
  meters: MeterEnergy[];
  warnings: string[];
}

export interface ReportScope {
  tenant: string;
  site: string;
  zone?: string | undefined;
}

export interface BuildReportInput extends ReportScope {
  from: Date;
  to: Date;
  meters: readonly MeterSeries[];
  factor?: EmissionFactorId | string | EmissionFactor | undefined;
  category?: 1 | 2 | 3 | undefined;
  /** Language of the warnings: English by default (the EU export's language), French for the API and the reviews. */
  lang?: Lang | undefined;
}

/** The report's warnings in both languages; `name` is the meter as the reader knows it. */
const WARNINGS = {
  resets: (lang: Lang, name: string, n: number) =>
    lang === 'fr'
      ? n < 2
        ? `${name} : ${n} baisse d’index comptée comme une remise à zéro du compteur ; vérifier s’il a été remplacé`
        : `${name} : ${n} baisses d’index comptées comme des remises à zéro du compteur ; vérifier s’il a été remplacé`
      : `${name}: ${n} index ${n === 1 ? 'decrease' : 'decreases'} counted as ${n === 1 ? 'a counter reset' : 'counter resets'} to zero; check for a meter replacement`,
  /** A meter short of the period while the others cover other dates: the ratios mix unlike spans. */
  coverage: (lang: Lang, name: string, pct: number) =>
    lang === 'fr'
      ? `${name} : les relevés couvrent ${pct} % de la période, sur d’autres dates que les autres compteurs ; son énergie est sous-estimée et le PUE, le DCiE et les parts en sont faussés`
      : `${name}: readings cover ${pct} % of the period, on other dates than the other meters; its energy is under-counted and the PUE, DCiE and shares are distorted`,
  /** The only meter of the site is short of the period: its energy is partial, there is no ratio to distort. */
  coverageAlone: (lang: Lang, name: string, pct: number) =>
    lang === 'fr'
      ? `${name} : les relevés couvrent ${pct} % de la période ; ses kWh et ses kgCO₂e sont partiels`
      : `${name}: readings cover ${pct} % of the period; its kWh and kgCO₂e are partial`,
  /** Every meter covers the same dates: the ratios hold over them, only the totals are partial. */
  coverageShared: (lang: Lang, pct: number) =>
    lang === 'fr'
      ? `les relevés couvrent ${pct} % de la période, les mêmes dates pour tous les compteurs : le PUE, le DCiE et les parts sont justes sur ces dates ; seuls les kWh et les kgCO₂e sont partiels`
      : `readings cover ${pct} % of the period, the same dates for every meter: the PUE, DCiE and shares are right over those dates; only the kWh and kgCO₂e are partial`,
  noMeter: (lang: Lang, role: string) =>
    lang === 'fr'
      ? `aucun « ${roleLabel(role, 'fr')} » sur ce site : PUE, DCiE et parts ne peuvent pas être calculés`
      : `no '${role}' meter (${role === DATACENTER_ROLES.itLoad ? 'IT equipment energy' : 'total facility energy'}) for this site: PUE, DCiE and shares cannot be computed`,
  itZero: (lang: Lang) =>
    lang === 'fr'
      ? 'énergie informatique nulle sur la période (pas de consommation ou moins de deux relevés) : pas de PUE'
      : 'IT energy is 0 kWh over the period (no consumption or fewer than two readings): no PUE',
  pueBelowOne: (lang: Lang, pue: number) =>
    lang === 'fr'
      ? `PUE ${String(pue).replace('.', ',')} < 1 : le compteur informatique compte plus que le compteur général ; vérifier les rôles et que les deux mesurent le même périmètre`
      : `PUE ${pue} < 1: the IT meter counts more than the facility meter; check the roles and that both meter the same perimeter`,
  subMeters: (lang: Lang) =>
    lang === 'fr'
      ? 'les sous-compteurs (informatique, climatisation, autres) dépassent le total de la salle de plus de 1 % : vérifier les périmètres des compteurs'
      : 'IT + cooling + other sub-meters exceed the facility total by more than 1 %: check the meter perimeters',
  noCategory: (lang: Lang) =>
    lang === 'fr'
      ? 'catégorie de mesure du PUE non renseignée (1 : énergie informatique mesurée en sortie des onduleurs, 2 : en sortie des unités de distribution, 3 : à l’entrée des équipements ; norme ISO/IEC 30134-2) : indiquée « inconnue »'
      : "PUE measurement category not configured (1: IT energy at UPS output, 2: at PDU output, 3: at IT equipment input, ISO/IEC 30134-2): reported as 'unknown'",
};

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const roundOrNull = (x: number | null, digits: number) => (x === null ? null : round(x, digits));

/** Whether [from, to) is shorter than 12 calendar months (UTC calendar: the few hours of a time zone do not matter). */
export function isInterimPeriod(from: Date, to: Date): boolean {
  const yearLater = new Date(from);
  yearLater.setUTCFullYear(yearLater.getUTCFullYear() + 1);
  return to.getTime() < yearLater.getTime();
}

/**
 * What short readings do to the report. When every meter covers the same dates (within one reporting interval, an
 * hour, or 1 % of the span), the PUE and the shares compare like with like: only the energies and emissions are
 * partial, and one warning says so. Otherwise each short meter distorts the ratios it enters.
 */
function coverageWarnings(spans: readonly { name: string; from: number; to: number }[], from: number, to: number, lang: Lang): string[] {
  const pct = (s: { from: number; to: number }) => Math.max(0, Math.round(((s.to - s.from) / (to - from)) * 100));
  const short = spans.filter((s) => s.to - s.from < MIN_COVERAGE * (to - from));
  if (short.length === 0) return [];
  if (spans.length === 1) return [WARNINGS.coverageAlone(lang, short[0]!.name, pct(short[0]!))];
  const first = spans[0]!;
  const slack = Math.max(3_600_000, 0.01 * (first.to - first.from));
  const same = first.to > first.from && spans.every((s) => Math.abs(s.from - first.from) <= slack && Math.abs(s.to - first.to) <= slack);
  return same ? [WARNINGS.coverageShared(lang, pct(first))] : short.map((s) => WARNINGS.coverage(lang, s.name, pct(s)));
}

/** The datacenter report from meter series already read (pure: the unit tests call it directly). */
export function buildDatacenterReport(input: BuildReportInput): DatacenterReport {
  const from = input.from.getTime();
  const to = input.to.getTime();
  const factor = resolveEmissionFactor(input.factor);
  const lang = input.lang ?? 'en';
  const warnings: string[] = [];

  const meters: MeterEnergy[] = [];
  const spans: { name: string; from: number; to: number }[] = [];
  for (const m of [...input.meters].sort((a, b) => a.role.localeCompare(b.role) || a.device.localeCompare(b.device))) {
    const e = energyInWindow(m.points, from, to);
    meters.push({ devEui: m.devEui, device: m.device, role: m.role, kwh: round(e.wh / 1000, 3), readings: e.readings, resets: e.resets });
    const name = `${m.device || m.devEui} (${lang === 'fr' ? roleLabel(m.role, 'fr') : m.role})`;
    if (e.resets > 0) warnings.push(WARNINGS.resets(lang, name, e.resets));
    const start = e.firstT !== undefined ? Math.max(e.firstT, from) : to;
    spans.push({ name, from: start, to: e.lastT !== undefined ? Math.max(start, Math.min(e.lastT, to)) : start });
  }
  warnings.push(...coverageWarnings(spans, from, to, lang));

  // Energy per role, from unrounded values; undefined when the site has no meter with that role.
  const roleWh = (role: string): number | undefined => {
    const ms = input.meters.filter((m) => m.role === role);
    return ms.length === 0 ? undefined : ms.reduce((sum, m) => sum + energyInWindow(m.points, from, to).wh, 0);
  };
  const totalWh = roleWh(DATACENTER_ROLES.facilityTotal) ?? null;
  const itWh = roleWh(DATACENTER_ROLES.itLoad) ?? null;
  const coolingWh = roleWh(DATACENTER_ROLES.cooling);
  const otherWh = roleWh(DATACENTER_ROLES.other);

  if (totalWh === null) warnings.push(WARNINGS.noMeter(lang, DATACENTER_ROLES.facilityTotal));
  if (itWh === null) warnings.push(WARNINGS.noMeter(lang, DATACENTER_ROLES.itLoad));

  let pue: number | null = null;
  if (totalWh !== null && itWh !== null) {
    if (itWh <= 0) warnings.push(WARNINGS.itZero(lang));
    else {
      pue = totalWh / itWh;
      if (pue < 1) warnings.push(WARNINGS.pueBelowOne(lang, round(pue, 3)));
    }
    const subWh = itWh + (coolingWh ?? 0) + (otherWh ?? 0);
    if ((coolingWh !== undefined || otherWh !== undefined) && subWh > totalWh * 1.01) {
      warnings.push(WARNINGS.subMeters(lang));
    }
  }
  const share = (wh: number | null | undefined) => (wh == null || totalWh === null || totalWh <= 0 ? null : wh / totalWh);

  const category = input.category ? PUE_CATEGORIES[input.category] : 'unknown';
  if (!input.category) warnings.push(WARNINGS.noCategory(lang));

  return {
    tenant: input.tenant,
    site: input.site,
    zone: input.zone ?? null,
    period: { from: input.from.toISOString(), to: input.to.toISOString() },
    energyKwh: {
      total: totalWh === null ? null : round(totalWh / 1000, 3),
      it: itWh === null ? null : round(itWh / 1000, 3),
      ...(coolingWh !== undefined ? { cooling: round(coolingWh / 1000, 3) } : {}),
      ...(otherWh !== undefined ? { other: round(otherWh / 1000, 3) } : {}),
    },
    pue: roundOrNull(pue, 4),
    dcie: pue === null ? null : round(100 / pue, 2),
    itShare: roundOrNull(share(itWh), 4),
    ...(coolingWh !== undefined ? { coolingShare: roundOrNull(share(coolingWh), 4) } : {}),
    kgCo2e: {
      total: totalWh === null ? null : round((totalWh / 1000) * factor.kgCo2ePerKwh, 3),
      it: itWh === null ? null : round((itWh / 1000) * factor.kgCo2ePerKwh, 3),
    },
    emissionFactor: { id: factor.id, kgCo2ePerKwh: factor.kgCo2ePerKwh, vintage: factor.vintage },
    pueCategory: category,
    interimPue: isInterimPeriod(input.from, input.to),
    meters,
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Local calendar months

export interface LocalMonth {
  /** 'YYYY-MM' in the time zone. */
  month: string;
  start: Date;
  end: Date;
}

function nextMonth(ym: string): string {
  const y = Number(ym.slice(0, 4));
  const m = Number(ym.slice(5, 7));
  return m === 12 ? `${String(y + 1).padStart(4, '0')}-01` : `${ym.slice(0, 4)}-${String(m + 1).padStart(2, '0')}`;
}

/** Local calendar months overlapping [from, to), clipped to it; boundaries at local midnight (DST-correct). */
export function localMonths(from: Date, to: Date, timeZone: string): LocalMonth[] {
  const out: LocalMonth[] = [];
  if (to.getTime() <= from.getTime()) return out;
  const last = localTime(new Date(to.getTime() - 1), timeZone).date.slice(0, 7);
  for (let ym = localTime(from, timeZone).date.slice(0, 7); ym <= last; ym = nextMonth(ym)) {
    const start = localDayBounds(`${ym}-01`, timeZone).start;
    const end = localDayBounds(`${nextMonth(ym)}-01`, timeZone).start;
    out.push({
      month: ym,
      start: new Date(Math.max(start.getTime(), from.getTime())),
      end: new Date(Math.min(end.getTime(), to.getTime())),
    });
  }
  return out;
}

export type CalendarPeriodKind = 'month' | 'quarter' | 'year';

/** What each kind of calendar period is named by: 2026-11, 2026-Q4, 2026. */
export const CALENDAR_PERIOD_FORMATS: Record<CalendarPeriodKind, RegExp> = {
  month: /^(\d{4})-(0[1-9]|1[0-2])$/,
  quarter: /^(\d{4})-Q([1-4])$/,
  year: /^(\d{4})$/,
};

export interface CalendarPeriod {
  kind: CalendarPeriodKind;
  /** 2026-11, 2026-Q4 or 2026. */
  label: string;
  from: Date;
  /** The end of the period, or `now` when the period is under way (a month so far, not a month to come). */
  to: Date;
  /** The period is not over: `to` is `now`. */
  ongoing: boolean;
}

/**
 * A calendar month, quarter or year in the time zone (local midnights, DST-correct), named by `ref`, or the one
 * under way at `now` when `ref` is absent: "this month" is what people ask for, not the last 30 days.
 */
export function calendarPeriod(kind: CalendarPeriodKind, ref: string | undefined, timeZone: string, now: Date = new Date()): CalendarPeriod {
  const today = localTime(now, timeZone).date;
  const label =
    ref ??
    (kind === 'month' ? today.slice(0, 7) : kind === 'quarter' ? `${today.slice(0, 4)}-Q${Math.floor((Number(today.slice(5, 7)) - 1) / 3) + 1}` : today.slice(0, 4));
  const m = CALENDAR_PERIOD_FORMATS[kind].exec(label);
  if (!m) throw new RangeError(`expected a ${kind} such as ${kind === 'month' ? '2026-11' : kind === 'quarter' ? '2026-Q4' : '2026'}, got '${label}'`);
  const year = Number(m[1]);
  if (year < 2000 || year > 2099) throw new RangeError(`expected a year from 2000 to 2099, got ${year}`);
  const firstMonth = kind === 'month' ? Number(m[2]) : kind === 'quarter' ? (Number(m[2]) - 1) * 3 + 1 : 1;
  const months = kind === 'month' ? 1 : kind === 'quarter' ? 3 : 12;
  const endIndex = firstMonth - 1 + months;
  const ym = (y: number, mo: number) => `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-01`;
  const from = localDayBounds(ym(year, firstMonth), timeZone).start;
  const end = localDayBounds(ym(year + Math.floor(endIndex / 12), (endIndex % 12) + 1), timeZone).start;
  const ongoing = now.getTime() > from.getTime() && now.getTime() < end.getTime();
  return { kind, label, from, to: ongoing ? now : end, ongoing };
}

export interface MonthlyTotal {
  month: string;
  from: string;
  to: string;
  /** null when no meter had a reading by the end of the month. */
  kwh: number | null;
  readings: number;
  resets: number;
}

/** Per-month energy of the meters (summed), from series read once for the whole range. */
export function monthlyFromSeries(meters: readonly MeterSeries[], months: readonly LocalMonth[]): MonthlyTotal[] {
  return months.map((m) => {
    let wh = 0;
    let readings = 0;
    let resets = 0;
    let seen = false;
    for (const meter of meters) {
      const e = energyInWindow(meter.points, m.start.getTime(), m.end.getTime());
      if (e.firstT !== undefined) seen = true;
      wh += e.wh;
      readings += e.readings;
      resets += e.resets;
    }
    return { month: m.month, from: m.start.toISOString(), to: m.end.toISOString(), kwh: seen ? round(wh / 1000, 3) : null, readings, resets };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Reading InfluxDB

function scopeConditions(scope: ReportScope, roles: readonly string[]): Condition[] {
  return [
    { tag: tag('tenant'), equals: scope.tenant },
    { tag: tag('site'), equals: scope.site },
    ...(scope.zone ? [{ tag: tag('zone'), equals: scope.zone }] : []),
    { tag: tag('role'), in: roles },
    // The meter's total: readings without a channel (tariff registers have one).
    { tag: tag('channel'), equals: '' },
  ];
}

function toPoints(s: InfluxSeries): IndexPoint[] {
  const ti = s.columns.indexOf('time');
  const vi = s.columns.indexOf(ENERGY.field);
  return s.values.map((row) => ({ t: Number(row[ti]), wh: Number(row[vi]) })).filter((p) => Number.isFinite(p.t) && Number.isFinite(p.wh));
}

/**
 * The channel-less energy index readings of the site's meters with these roles: the last one before `from`
 * (within BASELINE_LOOKBACK_MS) and all of [from, to), per meter, sorted by time.
 */
export async function readMeterSeries(influx: Pick<InfluxTarget, 'query'>, scope: ReportScope, roles: readonly string[], from: Date, to: Date): Promise<MeterSeries[]> {
  const where = scopeConditions(scope, roles);
  const base = { select: [{ field: ENERGY.field }], from: ENERGY.measurement, groupBy: [tag('dev_eui'), tag('device'), tag('role')] };
  const f = from.getTime();
  const [before, inPeriod] = await Promise.all([
    influx.query(select({ ...base, where: [...where, ...during(f - BASELINE_LOOKBACK_MS, f)], order: 'desc', limit: 1 })),
    influx.query(select({ ...base, where: [...where, ...during(f, to)], order: 'asc' })),
  ]);
  const meters = new Map<string, MeterSeries>();
  for (const s of [...before, ...inPeriod]) {
    const devEui = s.tags?.dev_eui ?? '';
    const device = s.tags?.device ?? '';
    const role = s.tags?.role ?? '';
    const key = `${devEui}\u0000${device}\u0000${role}`;
    let m = meters.get(key);
    if (!m) meters.set(key, (m = { devEui, device, role, points: [] }));
    m.points.push(...toPoints(s));
  }
  for (const m of meters.values()) m.points.sort((a, b) => a.t - b.t);
  return [...meters.values()];
}

export interface DatacenterReportOptions extends ReportScope {
  influx: Pick<InfluxTarget, 'query'>;
  from: Date;
  to: Date;
  factor?: EmissionFactorId | string | EmissionFactor | undefined;
  category?: 1 | 2 | 3 | undefined;
  lang?: Lang | undefined;
}

/** PUE, DCiE, shares and carbon of a server room or datacenter over [from, to). */
export async function datacenterReport(opts: DatacenterReportOptions): Promise<DatacenterReport> {
  if (!(opts.to.getTime() > opts.from.getTime())) throw new RangeError('the period must end after it starts');
  const meters = await readMeterSeries(opts.influx, opts, Object.values(DATACENTER_ROLES), opts.from, opts.to);
  return buildDatacenterReport({ ...opts, meters });
}

export interface MonthlyTotalsOptions extends ReportScope {
  influx: Pick<InfluxTarget, 'query'>;
  role: string;
  from: Date;
  to: Date;
  timeZone?: string;
}

/** kWh per local calendar month (Europe/Paris by default) of the site's meters with `role`, over [from, to). */
export async function monthlyTotals(opts: MonthlyTotalsOptions): Promise<MonthlyTotal[]> {
  const months = localMonths(opts.from, opts.to, opts.timeZone ?? 'Europe/Paris');
  if (months.length === 0) return [];
  const meters = await readMeterSeries(opts.influx, opts, [opts.role], opts.from, opts.to);
  return monthlyFromSeries(meters, months);
}

// ---------------------------------------------------------------------------------------------------------
// EU data-centre reporting (EED 2023/1791 art. 12 + Annex VII; Delegated Regulation (EU) 2024/1364)

export interface EedField {
  value: number | string | null;
  unit: string;
  /** measured: from Veilleur's meters; computed: from measured fields; not-measured: to fill in by the operator. */
  source: 'measured' | 'computed' | 'configuration' | 'not-measured';
  note?: string;
}

export interface EedExport {
  regulation: string;
  reportingYear: number;
  tenant: string;
  site: string;
  zone: string | null;
  period: { from: string; to: string; timeZone: string };
  kpis: Record<string, EedField>;
  indicators: Record<string, EedField>;
  emissionFactor: DatacenterReport['emissionFactor'];
  warnings: string[];
}

const NOT_METERED = 'not measured by Veilleur: to be filled in by the operator';

/**
 * The fields of the yearly data-centre report (Delegated Regulation (EU) 2024/1364, Annexes I–III) that meters
 * provide, with the ones Veilleur cannot measure present as null and a note, so the file is a checklist.
 */
export function eedFromReport(report: DatacenterReport, year: number, timeZone: string): EedExport {
  const measured = (value: number | null, unit: string, note?: string): EedField => ({ value, unit, source: 'measured', ...(note ? { note } : {}) });
  const missing = (unit: string, note = NOT_METERED): EedField => ({ value: null, unit, source: 'not-measured', note });
  return {
    regulation:
      'Commission Delegated Regulation (EU) 2024/1364 (first phase of the Union rating scheme for data centres), under Directive (EU) 2023/1791 art. 12 and Annex VII; ' +
      'mandatory for sites with ≥ 500 kW installed IT power, reported by 15 May for the previous calendar year',
    reportingYear: year,
    tenant: report.tenant,
    site: report.site,
    zone: report.zone,
    period: { ...report.period, timeZone },
    kpis: {
      totalEnergyConsumptionKwh: measured(report.energyKwh.total, 'kWh', `meters with role '${DATACENTER_ROLES.facilityTotal}' (electricity only: add fuel or district cooling if any)`),
      itEnergyConsumptionKwh: measured(report.energyKwh.it, 'kWh', `meters with role '${DATACENTER_ROLES.itLoad}', measured at ${report.pueCategory}`),
      installedItPowerDemandKw: missing('kW', `${NOT_METERED} (design value; the ≥ 500 kW reporting threshold applies to it)`),
      totalWaterInputM3: missing('m³'),
      potableWaterInputM3: missing('m³'),
      wasteHeatReusedKwh: missing('kWh'),
      averageWasteHeatTemperatureC: missing('°C'),
      itIntakeAirSetPointC: missing('°C', `${NOT_METERED} (a set point; Veilleur's 'it-inlet' sensors give the measured inlet temperature)`),
      refrigerantTypes: { value: null, unit: '', source: 'not-measured', note: NOT_METERED },
      totalRenewableEnergyKwh: missing('kWh'),
      renewableEnergyGuaranteesOfOriginKwh: missing('kWh'),
      renewableEnergyPpaKwh: missing('kWh'),
      renewableEnergyOnSiteKwh: missing('kWh'),
      totalDataFloorAreaM2: missing('m²'),
      dataTrafficAndStorage: { value: null, unit: '', source: 'not-measured', note: `${NOT_METERED} (incoming/outgoing traffic, storage capacity)` },
    },
    indicators: {
      pue: { value: report.pue, unit: '', source: 'computed', note: `total / IT energy (ISO/IEC 30134-2), ${report.pueCategory}${report.interimPue ? ', interim (period < 12 months)' : ''}` },
      wue: missing('L/kWh', 'needs the water input'),
      erf: missing('', 'needs the reused energy'),
      ref: missing('', 'needs the renewable energy'),
      kgCo2eTotal: {
        value: report.kgCo2e.total,
        unit: 'kgCO2e',
        source: 'computed',
        note: `not a field of the regulation: total energy × ${report.emissionFactor.kgCo2ePerKwh} kgCO2e/kWh (${report.emissionFactor.id})`,
      },
    },
    emissionFactor: report.emissionFactor,
    warnings: report.warnings,
  };
}

export interface EedYearlyOptions extends ReportScope {
  influx: Pick<InfluxTarget, 'query'>;
  year: number;
  timeZone?: string;
  factor?: EmissionFactorId | string | EmissionFactor | undefined;
  category?: 1 | 2 | 3 | undefined;
}

/** The yearly EU data-centre report of a site: calendar year from 1 January local midnight to the next. */
export async function eedYearlyExport(opts: EedYearlyOptions): Promise<EedExport> {
  if (!Number.isInteger(opts.year) || opts.year < 1970 || opts.year > 9998) throw new RangeError(`expected a calendar year, got ${opts.year}`);
  const timeZone = opts.timeZone ?? 'Europe/Paris';
  const from = localDayBounds(`${opts.year}-01-01`, timeZone).start;
  const to = localDayBounds(`${opts.year + 1}-01-01`, timeZone).start;
  const report = await datacenterReport({ ...opts, from, to });
  return eedFromReport(report, opts.year, timeZone);
}

// ---------------------------------------------------------------------------------------------------------
// CSV

export const CSV_COLUMNS = ['tenant', 'site', 'zone', 'from', 'to', 'metric', 'device', 'dev_eui', 'role', 'value', 'unit'] as const;

/**
 * The report as CSV (RFC 4180: comma, CRLF, dot decimals), one metric per row, every row carrying its site and
 * period so several reports concatenate into one table. Meters are rows `meter_kwh`, warnings rows `warning`.
 */
export function datacenterReportCsv(r: DatacenterReport): string {
  type Row = { metric: string; value: string | number | boolean | null; unit?: string; device?: string; devEui?: string; role?: string };
  const rows: Row[] = [
    { metric: 'energy_total_kwh', value: r.energyKwh.total, unit: 'kWh' },
    { metric: 'energy_it_kwh', value: r.energyKwh.it, unit: 'kWh' },
    ...(r.energyKwh.cooling !== undefined ? [{ metric: 'energy_cooling_kwh', value: r.energyKwh.cooling, unit: 'kWh' }] : []),
    ...(r.energyKwh.other !== undefined ? [{ metric: 'energy_other_kwh', value: r.energyKwh.other, unit: 'kWh' }] : []),
    { metric: 'pue', value: r.pue },
    { metric: 'dcie', value: r.dcie, unit: '%' },
    { metric: 'it_share', value: r.itShare },
    ...(r.coolingShare !== undefined ? [{ metric: 'cooling_share', value: r.coolingShare }] : []),
    { metric: 'kg_co2e_total', value: r.kgCo2e.total, unit: 'kgCO2e' },
    { metric: 'kg_co2e_it', value: r.kgCo2e.it, unit: 'kgCO2e' },
    { metric: 'emission_factor', value: r.emissionFactor.kgCo2ePerKwh, unit: 'kgCO2e/kWh' },
    { metric: 'emission_factor_id', value: r.emissionFactor.id },
    { metric: 'emission_factor_vintage', value: r.emissionFactor.vintage },
    { metric: 'pue_category', value: r.pueCategory },
    { metric: 'interim_pue', value: r.interimPue },
    ...r.meters.map((m) => ({ metric: 'meter_kwh', value: m.kwh, unit: 'kWh', device: m.device, devEui: m.devEui, role: m.role })),
    ...r.warnings.map((w) => ({ metric: 'warning', value: w })),
  ];
  return toCsv(
    CSV_COLUMNS,
    rows.map((row) => ({ tenant: r.tenant, site: r.site, zone: r.zone, from: r.period.from, to: r.period.to, metric: row.metric, device: row.device, dev_eui: row.devEui, role: row.role, value: row.value, unit: row.unit })),
  );
}
