/**
 * The one site lookup: what the configuration says of a site (its calendar, time zone, rule settings, name) is found
 * the same way by the alert rules, rollups, reports, the API and the console: the `sites:` entry naming the site's
 * tenant first, else the entry for any tenant (no `tenant:`); of two entries for the same key, the last one.
 * Each lookup is built once per list of sites (the registry read at start-up), not on every call: a new registry
 * (a new list) gets a new lookup; a list changed in place after its first lookup would not be seen.
 */
import { siteCalendarSchema, type SiteCalendar } from './calendar.ts';

/** The part of a `sites:` entry the lookup keys on (the configuration's entries have more). */
export interface SiteKey {
  tenant?: string | undefined;
  site: string;
}

export interface SiteEntry extends SiteKey {
  calendar: SiteCalendar;
}

/** A value found for (tenant, site), or undefined when no entry gives one. */
export type SiteFind<V> = (tenant: string, site: string) => V | undefined;

/**
 * Finds `pick(entry)` for a site: the tenant's own entry first, then an entry for any tenant. Entries where `pick`
 * gives undefined are skipped, so a tenant's entry without rules leaves the any-tenant entry's rules in force.
 */
export function siteIndex<E extends SiteKey, V>(sites: readonly E[], pick: (entry: E) => V | undefined): SiteFind<V> {
  const byKey = new Map<string, V>();
  for (const s of sites) {
    const v = pick(s);
    if (v !== undefined) byKey.set(`${s.tenant ?? '*'}/${s.site}`, v);
  }
  return (tenant, site) => byKey.get(`${tenant}/${site}`) ?? byKey.get(`*/${site}`);
}

/** The calendar of a site not in the configuration: Monday to Friday 08:00–18:00, Europe/Paris, public holidays. */
export const DEFAULT_CALENDAR: SiteCalendar = siteCalendarSchema.parse({});
export const DEFAULT_TIME_ZONE = DEFAULT_CALENDAR.timeZone;

export interface SiteCalendars {
  /** The site's calendar, or the default one. */
  calendar(tenant: string, site: string): SiteCalendar;
  /** The site's time zone, or `fallback` (Europe/Paris unless given) for a site without an entry. */
  timeZone(tenant: string, site: string, fallback?: string): string;
  /**
   * The time zone of a tenant's reports: the calendar of its first configured site, else of the first site for
   * any tenant, else Europe/Paris. One zone per report keeps months and years comparable between sites.
   */
  tenantTimeZone(tenant: string): string;
  /** The distinct time zones of the configured sites, sorted. */
  zones: readonly string[];
}

const built = new WeakMap<readonly SiteEntry[], SiteCalendars>();

/** The calendars of `sites`, built at the first call for this list and reused after. */
export function siteCalendars(sites: readonly SiteEntry[]): SiteCalendars {
  let lookup = built.get(sites);
  if (lookup) return lookup;
  const find = siteIndex(sites, (s) => s.calendar);
  const tenantZone = new Map<string, string>();
  for (const s of sites) if (s.tenant !== undefined && !tenantZone.has(s.tenant)) tenantZone.set(s.tenant, s.calendar.timeZone);
  const anyTenantZone = sites.find((s) => s.tenant === undefined)?.calendar.timeZone ?? DEFAULT_TIME_ZONE;
  lookup = {
    calendar: (tenant, site) => find(tenant, site) ?? DEFAULT_CALENDAR,
    timeZone: (tenant, site, fallback = DEFAULT_TIME_ZONE) => find(tenant, site)?.timeZone ?? fallback,
    tenantTimeZone: (tenant) => tenantZone.get(tenant) ?? anyTenantZone,
    zones: [...new Set(sites.map((s) => s.calendar.timeZone))].sort(),
  };
  built.set(sites, lookup);
  return lookup;
}

const NO_SITES: readonly SiteEntry[] = [];

/** The calendars of a registry that may be absent (reports run without one in tests). */
export function registryCalendars(registry: { sites: readonly SiteEntry[] } | undefined): SiteCalendars {
  return siteCalendars(registry?.sites ?? NO_SITES);
}
