/**
 * Rule parameters: the defaults of every rule (each rule's `source` cites where they come from) and which of them a site may
 * override in the YAML configuration:
 *
 *   sites:
 *     - site: gymnase
 *       rules:
 *         W1: { minLitresPerHour: 20 }
 *         E3: { enabled: false }
 *
 * Only thresholds are per site; the windows a rule queries stay global (one query serves every site). An unknown
 * rule id or parameter is an error that names its path, so a typo never silently keeps the default.
 */
import { z } from 'zod';
import { ROLES } from '../../decoders/model/roles.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

const num = (min: number, max: number, what: string) =>
  z.number({ error: `expected ${what}: a number from ${min} to ${max}` }).min(min, `expected ${what} of at least ${min}`).max(max, `expected ${what} of at most ${max}`);
const int = (min: number, max: number, what: string) => num(min, max, what).int(`expected ${what}: a whole number`);

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const monthDayOk = (md: string) => {
  const m = Number(md.slice(0, 2));
  const d = Number(md.slice(3, 5));
  return m >= 1 && m <= 12 && d >= 1 && d <= MONTH_DAYS[m - 1]!;
};
/** 'MM-DD..MM-DD', both days included; may cross the new year ('10-01..05-20'). */
const season = z
  .string()
  .regex(/^\d{2}-\d{2}\.\.\d{2}-\d{2}$/, "expected a season 'MM-DD..MM-DD', e.g. '10-01..05-20'")
  .refine((s) => monthDayOk(s.slice(0, 5)) && monthDayOk(s.slice(7, 12)), "expected real days of the year in 'MM-DD..MM-DD'");

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
/** 'HH:MM-HH:MM' local wall time, at least one hour long (a rolling hour must fit), may cross midnight. */
const nightWindow = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, "expected a local window 'HH:MM-HH:MM', e.g. '02:00-04:00'")
  .refine((s) => (minutesOf(s.slice(6)) - minutesOf(s.slice(0, 5)) + 1440) % 1440 >= 60, 'expected a window of at least one hour');

const celsius = (what: string) => num(-40, 60, what);

/** What a site may override, per rule (`enabled` is always allowed). */
export const SITE_PARAMETERS = {
  W1: { minLitresPerHour: num(0.1, 100_000, 'minLitresPerHour (L/h)') },
  W2: { factor: num(1, 10, 'factor (× baseline)'), minLitresPerHour: num(0, 100_000, 'minLitresPerHour (L/h)'), window: nightWindow },
  W3: {},
  W4: {},
  W5: {},
  W6: { days: int(7, 60, 'days'), minHistoryLitres: num(0, 1e9, 'minHistoryLitres (L)') },
  W7: {},
  W7S: { factor: num(1.5, 20, 'factor (× heartbeat)'), heartbeatMinutes: int(0, 10_080, 'heartbeatMinutes (0: learnt from the sensor)') },
  W8: {
    sigmas: num(1, 10, 'sigmas'),
    days: int(1, 7, 'days'),
    minExcessLitresPerDay: num(0, 1e9, 'minExcessLitresPerDay (L/day)'),
    connections: int(0, 10_000_000, 'connections (0: unknown)'),
  },
  E1: { maxMeanC: celsius('maxMeanC (°C)'), season },
  E2: { maxC24to48h: celsius('maxC24to48h (°C)'), maxC48h: celsius('maxC48h (°C)'), coolDownHours: num(0, 24, 'coolDownHours'), preheatHours: num(0, 12, 'preheatHours'), season },
  E3: {
    maxIndoorC: celsius('maxIndoorC (°C)'),
    minMinutes: int(15, 1440, 'minMinutes'),
    minCoolingW: num(0, 1e7, 'minCoolingW (W)'),
    exemptDevices: z.array(z.string().min(1), { error: 'expected a list of device names or DevEUIs' }),
  },
  E4: { ratio: num(0.05, 1, 'ratio') },
  E5: { factor: num(1, 3, 'factor'), baseC: num(10, 25, 'baseC (°C)'), minDegreeDays: num(0, 1000, 'minDegreeDays') },
  A1: { warnPpm: num(400, 10_000, 'warnPpm (ppm)'), majorPpm: num(400, 10_000, 'majorPpm (ppm)') },
  D1: { minC: celsius('minC (°C)'), maxC: celsius('maxC (°C)'), criticalC: celsius('criticalC (°C)') },
  D2: { belowC: celsius('belowC (°C)') },
  D3: { maxDewPointC: celsius('maxDewPointC (°C)'), maxRhPct: num(1, 100, 'maxRhPct (%)'), minDewPointC: celsius('minDewPointC (°C)'), forMinutes: int(10, 120, 'forMinutes') },
  D4: { factor: num(1, 3, 'factor'), maxPue: num(1, 10, 'maxPue'), days: int(7, 90, 'days') },
  S1: { factor: num(1.5, 50, 'factor (× usual interval)') },
  S2: { minPct: num(0, 100, 'minPct (%)'), minV: num(0, 5, 'minV (V)') },
  P1: { maxAirtimeSecondsPerDay: num(1, 86_400, 'maxAirtimeSecondsPerDay (s)'), factor: num(1, 1000, 'factor (× needed uplinks)') },
} as const satisfies Record<string, z.ZodRawShape>;

export type RuleId = keyof typeof SITE_PARAMETERS;
export const RULE_IDS = Object.keys(SITE_PARAMETERS) as RuleId[];

/**
 * Every default, the per-site ones and the global ones (windows, data requirements), by rule. The rule
 * factories take these; the catalogue shows them.
 */
export const RULE_DEFAULTS = {
  W1: { minLitresPerHour: 10, windowHours: 24, minHoursWithData: 20 },
  W2: { factor: 1.5, minLitresPerHour: 10, window: '02:00-04:00', recentNights: 7, baselineNights: 28, percentile: 20, minRecentNights: 5, minBaselineNights: 14 },
  W3: {},
  W4: {},
  W5: {},
  W6: { days: 21, minHistoryLitres: 100, historyDays: 60 },
  W7: {},
  W7S: { factor: 2, heartbeatMinutes: 0, lookbackDays: 30 },
  W8: { sigmas: 3, days: 3, minExcessLitresPerDay: 500, connections: 0, baselineDays: 28, minBaselineDays: 14 },
  E1: { maxMeanC: 19.5, season: '10-01..05-20', windowHours: 24, minOccupiedHours: 4, role: ROLES.room as string },
  E2: { maxC24to48h: 16, maxC48h: 8, coolDownHours: 4, preheatHours: 2, season: '10-01..05-20', lookbackDays: 7, role: ROLES.room as string },
  E3: { maxIndoorC: 26, minMinutes: 30, minCoolingW: 100, exemptDevices: [] as string[], lookbackHours: 3 },
  E4: { ratio: 0.5, days: 7, nightFrom: 0, nightTo: 5, role: ROLES.buildingMain as string },
  E5: { factor: 1.1, baseC: 18, minDegreeDays: 50, minDayCoverage: 0.9 },
  A1: { warnPpm: 800, majorPpm: 1500, forMs: 10 * MIN },
  D1: { minC: 18, maxC: 27, criticalC: 32, forMs: 15 * MIN },
  D2: { belowC: 22, windowHours: 24, minReadings: 12 },
  D3: { maxDewPointC: 15, maxRhPct: 60, minDewPointC: -9, forMinutes: 30 },
  D4: { factor: 1.1, maxPue: 2, days: 30, referenceDays: 365, minReferenceDays: 330 },
  S1: { factor: 3, minSilenceMs: HOUR, lookbackDays: 30 },
  S2: { minPct: 10, minV: 2.9 },
  P1: { maxAirtimeSecondsPerDay: 30, factor: 4 },
};

export type SiteParams<K extends RuleId> = { [P in keyof (typeof SITE_PARAMETERS)[K]]: z.output<(typeof SITE_PARAMETERS)[K][P]> };
export type RuleParams<K extends RuleId> = (typeof RULE_DEFAULTS)[K];
export type SiteOverrides<K extends RuleId> = Partial<SiteParams<K>> & { enabled?: boolean };
export type SiteRules = { [K in RuleId]?: SiteOverrides<K> };
/** The rule settings of a site, from the configuration (undefined: defaults everywhere). */
export type RulesLookup = (tenant: string, site: string) => SiteRules | undefined;

// Compile-time check: every per-site parameter has a default of the same type.
const _everySiteParameterHasADefault: { [K in RuleId]: SiteParams<K> } = RULE_DEFAULTS;
void _everySiteParameterHasADefault;

function overridesSchema(id: RuleId) {
  const shape = SITE_PARAMETERS[id] as z.ZodRawShape;
  const allowed = ['enabled', ...Object.keys(shape)].join(', ');
  return z
    .strictObject({ enabled: z.boolean({ error: 'expected true or false' }), ...shape }, {
      error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown parameter ${iss.keys.map((k) => `'${k}'`).join(', ')} of rule ${id}; expected ${allowed}` : undefined),
    })
    .partial();
}

/** The `rules` map of a site entry. */
export const siteRulesSchema = z.strictObject(Object.fromEntries(RULE_IDS.map((id) => [id, overridesSchema(id).optional()])), {
  error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown rule ${iss.keys.map((k) => `'${k}'`).join(', ')}; expected one of ${RULE_IDS.join(', ')}` : undefined),
}) as unknown as z.ZodType<SiteRules>;

/**
 * A rule's parameters for one site: `base` with the site's overrides, or undefined when the site disables the rule.
 */
export function paramsFor<K extends RuleId, P extends SiteParams<K>>(rulesFor: RulesLookup | undefined, id: K, base: P, tenant: string, site: string): P | undefined {
  const o = rulesFor?.(tenant, site)?.[id] as SiteOverrides<K> | undefined;
  if (!o) return base;
  if (o.enabled === false) return undefined;
  const { enabled: _enabled, ...overrides } = o;
  return { ...base, ...overrides };
}

/** Whether local date 'YYYY-MM-DD' falls in a 'MM-DD..MM-DD' season (both days included, may cross the new year). */
export function inSeason(date: string, seasonRange: string): boolean {
  const md = date.slice(5, 10);
  const from = seasonRange.slice(0, 5);
  const to = seasonRange.slice(7, 12);
  return from <= to ? from <= md && md <= to : md >= from || md <= to;
}
