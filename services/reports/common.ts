/**
 * What the governance reports (parsimony, yearly review) share: languages, rounding, time zones and roles taken
 * from the registry, and index → consumption over consecutive windows.
 */
import type { FileConfig } from '../config/schema.ts';
import { energyFromIndex, type IndexPoint } from '../datacenter/kpi.ts';
import { displayNames } from '../registry/names.ts';
import { registryCalendars } from '../time/sites.ts';

export type Lang = 'fr' | 'en';
export const LANGS = ['fr', 'en'] as const;

export interface Text {
  fr: string;
  en: string;
}

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

export const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
/**
 * A share of the period (coverage) as the reports keep it: six digits, so the only rounding a reader sees is the
 * one `shareDigits` shows. At four, 0.345 % was kept as 0.35 % and then shown as 0,4 % beside a 0,3 % of the same span.
 */
export const roundShare = (x: number): number => round(x, 6);

/** Decimals a share is shown with, as a percentage: one below 1 % (0,3 %), none above. The same in every page. */
export const shareDigits = (x: number): number => (x > 0 && x < 0.01 ? 1 : 0);

export const roundOrNull = (x: number | null | undefined, digits: number): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : round(x, digits);

/**
 * The time zone of a tenant's reports: the calendar of its first configured site (the alert rules' own
 * calendars), else Europe/Paris. One zone per report keeps months and years comparable between sites.
 */
export function tenantTimeZone(registry: Pick<FileConfig, 'sites'> | undefined, tenant: string): string {
  return registryCalendars(registry).tenantTimeZone(tenant);
}

/**
 * What the reader sees instead of the tenant and site identifiers, carried in the report itself so that the
 * HTML, the CSV and the console render the same names. A site without a `name:` keeps its identifier.
 */
export interface ReportNames {
  tenant: string;
  sites: Record<string, string>;
  /** The tenant has a `name:` in the configuration, and these sites do not (advice for the technical appendix). */
  tenantNamed: boolean;
  unnamedSites: string[];
}

export function identityNames(tenant: string): ReportNames {
  return { tenant, sites: {}, tenantNamed: false, unnamedSites: [] };
}

/** The names of a tenant's sites from the configuration (services/registry/names.ts). */
export function reportNames(registry: Pick<FileConfig, 'tenants' | 'sites'> | undefined, tenant: string, sites: Iterable<string>): ReportNames {
  if (!registry) return { ...identityNames(tenant), unnamedSites: [...new Set(sites)].sort() };
  const names = displayNames(registry);
  const out: ReportNames = { tenant: names.tenant(tenant), sites: {}, tenantNamed: names.tenant(tenant) !== tenant, unnamedSites: [] };
  for (const site of new Set(sites)) {
    if (!site) continue;
    const name = names.site(tenant, site);
    out.sites[site] = name;
    if (name === site) out.unnamedSites.push(site);
  }
  out.unnamedSites.sort();
  return out;
}

export const siteName = (names: ReportNames, site: string): string => names.sites[site] ?? site;

/** DevEUI → role of the registered devices (DevEUIs are unique across tenants). */
export function registryRoles(registry: Pick<FileConfig, 'devices'> | undefined): Map<string, string> {
  const roles = new Map<string, string>();
  for (const d of registry?.devices ?? []) if (d.role) roles.set(d.devEui, d.role);
  return roles;
}

export interface WindowConsumption {
  /** Sum of the index increases in the window (a decrease counts as a reset to zero, as in kpi.ts). */
  value: number;
  resets: number;
  /** Readings inside the window (the baseline before it not counted). */
  readings: number;
  /** Whether any reading (baseline included) was available by the end of the window. */
  seen: boolean;
}

/**
 * Consumption of each window [b0, b1), [b1, b2)… from sorted index points in one pass. Same convention as
 * services/datacenter/kpi.ts `energyInWindow` (the index at a boundary is the last reading before it), so the
 * windows add up exactly to the whole period and each one equals `energyInWindow` over it.
 */
export function consumptionPerWindow(points: readonly IndexPoint[], boundaries: readonly number[]): WindowConsumption[] {
  const out: WindowConsumption[] = [];
  let i = 0;
  let baseline: IndexPoint | undefined;
  while (i < points.length && boundaries.length > 0 && points[i]!.t < boundaries[0]!) baseline = points[i++];
  for (let w = 0; w + 1 < boundaries.length; w++) {
    const end = boundaries[w + 1]!;
    const inside: IndexPoint[] = [];
    while (i < points.length && points[i]!.t < end) inside.push(points[i++]!);
    const used = baseline ? [baseline, ...inside] : inside;
    const { wh, resets } = energyFromIndex(used.map((p) => p.wh));
    out.push({ value: wh, resets, readings: inside.length, seen: used.length > 0 });
    if (inside.length > 0) baseline = inside[inside.length - 1];
  }
  return out;
}

/** Share of [from, to) covered by the readings, from the first to the last reading used (baseline included). */
export function coverage(points: readonly IndexPoint[], from: number, to: number): number {
  let first: number | undefined;
  let last: number | undefined;
  for (const p of points) {
    if (p.t >= to) break;
    if (p.t < from) first = p.t;
    else {
      if (first === undefined) first = p.t;
      last = p.t;
    }
  }
  if (first === undefined || last === undefined || to <= from) return 0;
  return Math.max(0, Math.min(1, (Math.min(last, to) - Math.max(first, from)) / (to - from)));
}

/** Number formatting of the reports' HTML (the CSV and JSON keep plain numbers). */
const formats = new Map<string, Intl.NumberFormat>();
export function formatNumber(lang: Lang, x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const key = `${lang}|${digits}`;
  let f = formats.get(key);
  if (!f) formats.set(key, (f = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: digits, minimumFractionDigits: 0 })));
  return f.format(x);
}
