/**
 * Parsimony report: how much each device talks, what it costs on air and in battery, and how often its alert
 * rules actually need it to talk. Loi REEN asks communes to measure and reduce the footprint of their digital
 * services; the sensor fleet is one of them, and the cheapest uplink is the one never sent.
 *
 * Per device over [from, to): uplinks per day, time on air per day (the `uplink` measurement's airtime_ms —
 * the network server's value or the one Veilleur computed — else computed here from sf, bandwidth_hz and
 * size_bytes with services/radio/airtime.ts), an estimated battery life at that rate (BATTERY_MODEL), the
 * reporting interval its role needs (REPORTING_NEEDS) and flags: over-reporting (more than OVER_REPORT_FACTOR ×
 * the uplinks the finest useful interval gives), under-reporting (fewer than half of what the coarsest workable
 * interval gives: the rules are half-blind) and over the 30 s/day airtime budget of The Things Network's fair use
 * policy (a sensible bound on any shared public network).
 *
 * Pure: the InfluxDB reads are in read.ts; every figure can be checked by hand from the inputs.
 */
import { ROLES } from '../../decoders/model/roles.ts';
import type { RuleDefinition } from '../alerts/rules/define.ts';
import { RULES } from '../alerts/rules/index.ts';
import { loraAirtimeMs } from '../radio/airtime.ts';
import { DAY_MS, identityNames, round, roundOrNull, type ReportNames, type Text } from './common.ts';

// ---------------------------------------------------------------------------------------------------------
// What the rules need

export interface ReportingNeed {
  /** The finest step any rule or report reads from such a device: reporting more often brings nothing. */
  finestMin: number;
  /** The coarsest interval its rules still work with. */
  coarsestMin: number;
  /** Event-driven sensors send their state at once on a change; the interval is only a heartbeat. */
  heartbeat?: boolean;
  /** The alert rules that judge such devices, as each rule declares (`reads` in services/alerts/rules/). */
  rules: readonly string[];
  reason: Text;
}

type Interval = Omit<ReportingNeed, 'rules'>;

const energyMeter = (fr: string, en: string): Interval => ({ finestMin: 15, coarsestMin: 60, reason: { fr, en } });

/**
 * Reporting intervals per registry role (decoders/model/roles.ts), with the reason. Domain sources:
 * ../shared/reference/domain-rules.md §1 (water), §2.3 (BACS hourly step), §6 (rule windows).
 */
const INTERVALS: Readonly<Record<string, Interval>> = {
  [ROLES.waterMain]: {
    finestMin: 15,
    coarsestMin: 60,
    reason: {
      fr: 'W1 lit des volumes horaires (un index par heure au moins) ; W2 cherche l’heure glissante minimale de nuit sur des données au pas de 15 min (UKWIR) : plus fin n’apporte rien.',
      en: 'W1 reads hourly volumes (at least one index an hour); W2 looks for the smallest rolling night hour on 15-min data (UKWIR): finer brings nothing.',
    },
  },
  [ROLES.districtInflow]: {
    finestMin: 15,
    coarsestMin: 60,
    reason: {
      fr: 'W8 fait un bilan journalier ; W2 (débit minimum de nuit 02–04 h) veut le pas de 15 min, une heure au plus.',
      en: 'W8 balances whole days; W2 (minimum night flow 02:00–04:00) wants 15-min steps, one hour at most.',
    },
  },
  [ROLES.leakSensor]: {
    finestMin: 60,
    coarsestMin: 1440,
    heartbeat: true,
    reason: {
      fr: 'W7 se déclenche sur la trame envoyée au changement d’état ; le message périodique prouve seulement que le capteur vit (W7S : silence > 2 × le battement). Netvox R718WB : 1 h ; Dragino LWL04 : 1 jour.',
      en: 'W7 fires on the uplink sent when the state changes; the periodic one only proves the sensor alive (W7S: silent > 2 × heartbeat). Netvox R718WB: 1 h; Dragino LWL04: 1 day.',
    },
  },
  [ROLES.room]: {
    finestMin: 10,
    coarsestMin: 15,
    reason: {
      fr: 'A1 : CO₂ > 800 ppm pendant 10 min (HCSP) ; A2 : indice ICONE sur des moyennes de 10 min (CSTB) ; E1/E2 : moyennes sur les heures occupées ou inoccupées.',
      en: 'A1: CO₂ > 800 ppm for 10 min (HCSP); A2: ICONE index over 10-minute means (CSTB); E1/E2: means over occupied or unoccupied hours.',
    },
  },
  [ROLES.itInlet]: {
    finestMin: 5,
    coarsestMin: 15,
    reason: {
      fr: 'D1 : hors 18–27 °C pendant 15 min (ASHRAE) : une mesure par fenêtre de 15 min au moins, trois à 5 min.',
      en: 'D1: outside 18–27 °C for 15 min (ASHRAE): at least one reading per 15-min window, three at 5 min.',
    },
  },
  [ROLES.outdoor]: {
    finestMin: 30,
    coarsestMin: 60,
    reason: {
      fr: 'Degrés-jours (DJU base 18 °C) : minimum et maximum du jour ; une mesure par heure suffit.',
      en: 'Degree-days (base 18 °C): the day’s minimum and maximum; one reading an hour is enough.',
    },
  },
  [ROLES.buildingMain]: energyMeter(
    'E4 : profil horaire de nuit ; BACS (R175-3) : pas horaire ; 15 min donne déjà une courbe de charge fine.',
    'E4: hourly night profile; BACS (R175-3): hourly step; 15 min already gives a fine load curve.',
  ),
  [ROLES.itLoad]: energyMeter('PUE et D4 sur des totaux journaliers à mensuels : 15 min à 1 h suffisent.', 'PUE and D4 use daily to monthly totals: 15 min to 1 h is enough.'),
  [ROLES.facilityTotal]: energyMeter('PUE et D4 sur des totaux journaliers à mensuels : 15 min à 1 h suffisent.', 'PUE and D4 use daily to monthly totals: 15 min to 1 h is enough.'),
  [ROLES.cooling]: energyMeter(
    'E3 : climatisation en marche plus de 30 min : 15 min au plus fin ; part du froid dans le rapport de salle serveurs.',
    'E3: cooling running for more than 30 min: 15 min at the finest; cooling share in the server-room report.',
  ),
  // No rule reads these sub-meters: the server-room report shows their share of the total.
  [ROLES.other]: energyMeter(
    'Aucune règle : parts du PUE dans le rapport de salle serveurs, sur des totaux journaliers à mensuels.',
    'No rule: PUE shares in the server-room report, from daily to monthly totals.',
  ),
};

const byId = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The ids of the alert rules that judge devices of `role`, as the rules declare it (`reads`), in id order. */
export function rulesReading(role: string): string[] {
  return (RULES as readonly RuleDefinition[])
    .filter((r) => r.reads !== undefined && r.reads !== 'every device' && r.reads.includes(role))
    .map((r) => r.id)
    .sort(byId);
}

/** What each role's devices must report: the interval and its reason, with the rules that read them. */
export const REPORTING_NEEDS: Readonly<Record<string, ReportingNeed>> = Object.fromEntries(
  Object.entries(INTERVALS).map(([role, need]) => [role, { ...need, rules: rulesReading(role) }]),
);

/** More uplinks than this × what the finest useful interval gives: over-reporting. */
export const OVER_REPORT_FACTOR = 2;
/** The Things Network fair use policy: 30 s of uplink airtime per device per day, on average. */
export const AIRTIME_BUDGET_S_PER_DAY = 30;

// ---------------------------------------------------------------------------------------------------------
// Battery model

/**
 * A deliberately simple model of the radio's share of a battery: every figure is here, with its status
 * ([V] checked against a source, [S] secondary, [H] our assumption), so the estimate can be redone by hand.
 * What it leaves out: the sensor's own measurements, the microcontroller's active time, temperature. It is an
 * order of magnitude for comparing devices and intervals, not a lifetime guarantee.
 */
export const BATTERY_MODEL = {
  /** [H] Supply current while transmitting at +14 dBm (EU868 maximum) with a Semtech SX1276, radio plus awake MCU. */
  txCurrentMa: 40,
  /** [S] Nominal voltage of a Li-SOCl2 cell. */
  voltageV: 3.6,
  /** [S] Capacity of one AA (14500) Li-SOCl2 bobbin cell, e.g. Saft LS14500: 2.6 Ah. */
  capacityMah: 2600,
  /** [H] Share of the nominal capacity usable under pulsed loads and cold, down to the device's cut-off voltage. */
  usableFraction: 0.8,
  /** [H] Two LoRaWAN class A receive windows per uplink, receiver on ≈ 30 ms each… */
  rxWindowMs: 60,
  /** [S] …at the SX1276's receive current (≈ 11 mA in LoRa mode). */
  rxCurrentMa: 11,
  /** [H] Sleep current of a sensor between uplinks. */
  sleepCurrentMa: 0.005,
  /** [S] Self-discharge of Li-SOCl2 bobbin cells, share of capacity per year (≈ 1 %/year at 20 °C). */
  selfDischargePerYear: 0.01,
  source:
    'TX current: assumption for +14 dBm; the Semtech SX1276 datasheet gives about 29 mA at +13 dBm on the RFO pin and 87 mA at +17 dBm on PA_BOOST (figures recalled, to be checked), plus the MCU. Cell: Li-SOCl2 AA, 2.6 Ah / 3.6 V (e.g. Saft LS14500 datasheet).',
} as const;

export interface BatteryEstimate {
  /** Energy of one transmission: airtime × TX current × voltage, in millijoules. */
  txEnergyPerUplinkMj: number;
  /** Charge of one uplink (transmission and receive windows), milliampere-seconds. */
  chargePerUplinkMas: number;
  /** Yearly charge: uplinks, sleep and self-discharge, mAh. */
  mahPerYear: number;
  /** Years until the usable capacity is spent at this rate. */
  years: number;
}

/** Battery life at `uplinksPerDay` uplinks of `airtimeMs` each, with BATTERY_MODEL (or overrides). */
export function batteryEstimate(uplinksPerDay: number, airtimeMs: number, model: typeof BATTERY_MODEL = BATTERY_MODEL): BatteryEstimate {
  const txS = Math.max(0, airtimeMs) / 1000;
  const chargePerUplinkMas = txS * model.txCurrentMa + (model.rxWindowMs / 1000) * model.rxCurrentMa;
  const perDayMah = (Math.max(0, uplinksPerDay) * chargePerUplinkMas) / 3600 + model.sleepCurrentMa * 24;
  const mahPerYear = perDayMah * 365.25 + model.selfDischargePerYear * model.capacityMah;
  return {
    txEnergyPerUplinkMj: txS * model.txCurrentMa * model.voltageV,
    chargePerUplinkMas,
    mahPerYear,
    years: (model.capacityMah * model.usableFraction) / mahPerYear,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The report

/** One device's uplinks in one UTC day (GROUP BY time(1d)); `t` is the bucket start. */
export interface UplinkBucket {
  t: number;
  uplinks: number;
  /** Sum of the stored airtime_ms of the uplinks that have one. */
  airtimeMs: number;
  /** Uplinks with a stored airtime_ms. */
  withAirtime: number;
  meanSizeBytes: number | null;
  /** Highest spreading factor of the day (the conservative one for uplinks without a stored airtime). */
  maxSf: number | null;
  meanBandwidthHz: number | null;
}

export interface DeviceUplinks {
  tenant: string;
  site: string;
  devEui: string;
  device: string;
  buckets: UplinkBucket[];
  /** Times of the first and last uplink in the period (for the 'active-span' rate basis). */
  firstT?: number | undefined;
  lastT?: number | undefined;
}

export type ParsimonyFlag = 'over-reporting' | 'under-reporting' | 'airtime-over-budget' | 'unknown-role';

export interface ParsimonyDevice {
  tenant: string;
  site: string;
  devEui: string;
  device: string;
  role: string | null;
  uplinks: number;
  /** Days the rates are computed over: the period, or (yearly report) the device's active span. */
  days: number;
  uplinksPerDay: number;
  /** Busiest whole UTC day inside the period; null when the period holds no whole day. */
  maxUplinksPerDay: number | null;
  airtimeSPerDay: number | null;
  maxAirtimeSPerDay: number | null;
  airtimeMsPerUplink: number | null;
  /** stored: airtime_ms of the uplink points; computed: from sf, bandwidth and size; unknown: no radio data. */
  airtimeSource: 'stored' | 'computed' | 'mixed' | 'unknown';
  meanSizeBytes: number | null;
  spreadingFactor: number | null;
  need: { finestMin: number; coarsestMin: number; neededUplinksPerDay: number; heartbeat: boolean; rules: readonly string[]; reason: Text } | null;
  /** uplinksPerDay / neededUplinksPerDay. */
  overReportFactor: number | null;
  battery: { txEnergyPerUplinkMj: number; mahPerYear: number; years: number; yearsAtCoarsest: number | null } | null;
  flags: ParsimonyFlag[];
  /** First and last uplink of the period (RFC 3339), when known: the span its figures really cover. */
  firstUplinkAt: string | null;
  lastUplinkAt: string | null;
}

export interface ParsimonyReport {
  tenant: string;
  period: { from: string; to: string; days: number };
  rateBasis: 'period' | 'active-span';
  thresholds: { overReportFactor: number; airtimeBudgetSPerDay: number };
  devices: ParsimonyDevice[];
  totals: { devices: number; uplinks: number; uplinksPerDay: number; airtimeSPerDay: number; radioEnergyWhPerYear: number; flagged: number };
  batteryModel: typeof BATTERY_MODEL;
  /** Display names of the tenant and its sites (the configuration's `name:`). */
  names: ReportNames;
  warnings: Text[];
}

export interface ParsimonyInput {
  tenant: string;
  from: Date;
  to: Date;
  devices: readonly DeviceUplinks[];
  /** DevEUI → role (registry first, then the readings' role tag). */
  roles: ReadonlyMap<string, string>;
  /**
   * 'period' (default): per day of the period. 'active-span' (a year, with devices installed or removed in it):
   * per day of the span from the device's first to its last uplink, stretched by one interval (n uplinks at a
   * regular interval span n − 1 intervals), so a device that reported regularly gets its true rate.
   */
  rateBasis?: 'period' | 'active-span';
  overReportFactor?: number;
  airtimeBudgetSPerDay?: number;
  /** Default: the identifiers themselves. */
  names?: ReportNames | undefined;
}

function bucketAirtime(b: UplinkBucket): { ms: number; computed: number; unknown: number } {
  const missing = Math.max(0, b.uplinks - b.withAirtime);
  if (missing === 0) return { ms: b.airtimeMs, computed: 0, unknown: 0 };
  const sf = b.maxSf;
  if (sf === null || !Number.isFinite(sf) || sf < 5 || sf > 12) return { ms: b.airtimeMs, computed: 0, unknown: missing };
  const bw = b.meanBandwidthHz && Number.isFinite(b.meanBandwidthHz) ? b.meanBandwidthHz : 125_000;
  return { ms: b.airtimeMs + missing * loraAirtimeMs(Math.round(b.meanSizeBytes ?? 0), sf, bw), computed: missing, unknown: 0 };
}

function uplinkSpan(d: DeviceUplinks): { firstUplinkAt: string | null; lastUplinkAt: string | null } {
  const times = d.buckets.filter((b) => b.uplinks > 0).map((b) => b.t);
  const first = d.firstT ?? (times.length ? Math.min(...times) : undefined);
  const last = d.lastT ?? (times.length ? Math.max(...times) : undefined);
  return { firstUplinkAt: first === undefined ? null : new Date(first).toISOString(), lastUplinkAt: last === undefined ? null : new Date(last).toISOString() };
}

/** The span a device was reporting, in days: (last − first) × n / (n − 1); a single uplink counts as one day. */
function activeSpanDays(d: DeviceUplinks, uplinks: number, periodDays: number): number {
  if (d.firstT === undefined || d.lastT === undefined || uplinks < 2 || !(d.lastT > d.firstT)) return Math.min(1, periodDays);
  return Math.min(periodDays, ((d.lastT - d.firstT) * uplinks) / (uplinks - 1) / DAY_MS);
}

export function buildParsimonyReport(input: ParsimonyInput): ParsimonyReport {
  const from = input.from.getTime();
  const to = input.to.getTime();
  if (!(to > from)) throw new RangeError('the period must end after it starts');
  const periodDays = (to - from) / DAY_MS;
  const factor = input.overReportFactor ?? OVER_REPORT_FACTOR;
  const budget = input.airtimeBudgetSPerDay ?? AIRTIME_BUDGET_S_PER_DAY;
  const basis = input.rateBasis ?? 'period';
  const warnings: Text[] = [];

  // A device seen under two sites in the period (moved) is one device: merged, the last site wins.
  const merged = new Map<string, DeviceUplinks>();
  for (const d of input.devices) {
    const prev = merged.get(d.devEui);
    if (!prev) merged.set(d.devEui, { ...d, buckets: [...d.buckets] });
    else {
      const lastPrev = Math.max(...prev.buckets.map((b) => b.t), -Infinity);
      const lastThis = Math.max(...d.buckets.map((b) => b.t), -Infinity);
      const firsts = [prev.firstT, d.firstT].filter((x): x is number => x !== undefined);
      const lasts = [prev.lastT, d.lastT].filter((x): x is number => x !== undefined);
      merged.set(d.devEui, {
        ...(lastThis >= lastPrev ? d : prev),
        buckets: [...prev.buckets, ...d.buckets],
        firstT: firsts.length ? Math.min(...firsts) : undefined,
        lastT: lasts.length ? Math.max(...lasts) : undefined,
      });
    }
  }

  const devices: ParsimonyDevice[] = [];
  for (const d of merged.values()) {
    const buckets = d.buckets.filter((b) => b.uplinks > 0);
    const uplinks = buckets.reduce((s, b) => s + b.uplinks, 0);
    if (uplinks === 0) continue;
    const days = basis === 'period' ? periodDays : activeSpanDays(d, uplinks, periodDays);
    let airMs = 0;
    let stored = 0;
    let computed = 0;
    let unknown = 0;
    let sizeSum = 0;
    let sizeN = 0;
    let sf: number | null = null;
    let maxDay: number | null = null;
    let maxAirDay: number | null = null;
    // Sum per UTC day first: several series (sites) may hold the same day.
    const perDay = new Map<number, { uplinks: number; ms: number; known: boolean }>();
    for (const b of buckets) {
      const a = bucketAirtime(b);
      airMs += a.ms;
      stored += b.withAirtime;
      computed += a.computed;
      unknown += a.unknown;
      if (b.meanSizeBytes !== null && Number.isFinite(b.meanSizeBytes)) {
        sizeSum += b.meanSizeBytes * b.uplinks;
        sizeN += b.uplinks;
      }
      if (b.maxSf !== null && Number.isFinite(b.maxSf)) sf = Math.max(sf ?? 0, b.maxSf);
      const day = Math.floor(b.t / DAY_MS) * DAY_MS;
      const cur = perDay.get(day) ?? { uplinks: 0, ms: 0, known: true };
      perDay.set(day, { uplinks: cur.uplinks + b.uplinks, ms: cur.ms + a.ms, known: cur.known && a.unknown === 0 });
    }
    for (const [day, v] of perDay) {
      if (day < from || day + DAY_MS > to) continue; // whole days only
      maxDay = Math.max(maxDay ?? 0, v.uplinks);
      if (v.known) maxAirDay = Math.max(maxAirDay ?? 0, v.ms / 1000);
    }
    const known = uplinks - unknown;
    const airtimeMsPerUplink = known > 0 ? airMs / known : null;
    const uplinksPerDay = days > 0 ? uplinks / days : 0;
    // Uplinks without any radio data are counted at the mean airtime of the others.
    const airtimeSPerDay = airtimeMsPerUplink === null || days <= 0 ? null : (uplinksPerDay * airtimeMsPerUplink) / 1000;
    const airtimeSource: ParsimonyDevice['airtimeSource'] =
      known === 0 ? 'unknown' : computed === 0 && unknown === 0 ? 'stored' : stored === 0 && unknown === 0 ? 'computed' : 'mixed';
    if (unknown > 0) {
      warnings.push({
        fr: `${d.device || d.devEui} : ${unknown} message(s) sans facteur d’étalement ni temps d’antenne enregistré ; comptés au temps d’antenne moyen des autres`,
        en: `${d.device || d.devEui}: ${unknown} uplink(s) without spreading factor nor stored airtime; counted at the mean airtime of the others`,
      });
    }

    const role = input.roles.get(d.devEui) ?? null;
    const needSpec = role ? REPORTING_NEEDS[role] : undefined;
    const neededUplinksPerDay = needSpec ? 1440 / needSpec.finestMin : undefined;
    const need = needSpec
      ? { finestMin: needSpec.finestMin, coarsestMin: needSpec.coarsestMin, neededUplinksPerDay: neededUplinksPerDay!, heartbeat: needSpec.heartbeat === true, rules: needSpec.rules, reason: needSpec.reason }
      : null;
    const flags: ParsimonyFlag[] = [];
    if (neededUplinksPerDay !== undefined && needSpec) {
      if (uplinksPerDay > factor * neededUplinksPerDay) flags.push('over-reporting');
      if (uplinksPerDay < 1440 / needSpec.coarsestMin / 2) flags.push('under-reporting');
    } else flags.push('unknown-role');
    if (airtimeSPerDay !== null && airtimeSPerDay > budget) flags.push('airtime-over-budget');

    const battery =
      airtimeMsPerUplink === null
        ? null
        : (() => {
            const now = batteryEstimate(uplinksPerDay, airtimeMsPerUplink);
            const atCoarsest = needSpec ? batteryEstimate(1440 / needSpec.coarsestMin, airtimeMsPerUplink) : undefined;
            return {
              txEnergyPerUplinkMj: round(now.txEnergyPerUplinkMj, 2),
              mahPerYear: round(now.mahPerYear, 1),
              years: round(now.years, 1),
              yearsAtCoarsest: atCoarsest ? round(atCoarsest.years, 1) : null,
            };
          })();

    devices.push({
      tenant: d.tenant,
      site: d.site,
      devEui: d.devEui,
      device: d.device,
      role,
      uplinks,
      days: round(days, 4),
      uplinksPerDay: round(uplinksPerDay, 2),
      maxUplinksPerDay: maxDay,
      airtimeSPerDay: roundOrNull(airtimeSPerDay, 2),
      maxAirtimeSPerDay: roundOrNull(maxAirDay, 2),
      airtimeMsPerUplink: roundOrNull(airtimeMsPerUplink, 1),
      airtimeSource,
      meanSizeBytes: sizeN > 0 ? round(sizeSum / sizeN, 1) : null,
      spreadingFactor: sf,
      need,
      overReportFactor: neededUplinksPerDay ? round(uplinksPerDay / neededUplinksPerDay, 2) : null,
      battery,
      flags,
      // Without the exact first and last uplink, the first and last day holding one.
      ...uplinkSpan(d),
    });
  }
  devices.sort((a, b) => a.site.localeCompare(b.site) || a.device.localeCompare(b.device) || a.devEui.localeCompare(b.devEui));

  const totalUplinks = devices.reduce((s, d) => s + d.uplinks, 0);
  const perDay = devices.reduce((s, d) => s + d.uplinksPerDay, 0);
  const airPerDay = devices.reduce((s, d) => s + (d.airtimeSPerDay ?? 0), 0);
  // Radio energy of the whole fleet over a year at these rates: transmissions only (Wh).
  const radioWh = devices.reduce((s, d) => s + (d.battery ? (d.battery.txEnergyPerUplinkMj * d.uplinksPerDay * 365.25) / 3.6e6 : 0), 0);
  return {
    tenant: input.tenant,
    period: { from: input.from.toISOString(), to: input.to.toISOString(), days: round(periodDays, 4) },
    rateBasis: basis,
    thresholds: { overReportFactor: factor, airtimeBudgetSPerDay: budget },
    devices,
    totals: {
      devices: devices.length,
      uplinks: totalUplinks,
      uplinksPerDay: round(perDay, 2),
      airtimeSPerDay: round(airPerDay, 2),
      radioEnergyWhPerYear: round(radioWh, 3),
      flagged: devices.filter((d) => d.flags.some((f) => f !== 'unknown-role')).length,
    },
    batteryModel: BATTERY_MODEL,
    names: input.names ?? identityNames(input.tenant),
    warnings,
  };
}
