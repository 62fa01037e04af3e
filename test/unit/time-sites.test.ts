import { describe, expect, it } from 'vitest';
import { siteCalendarSchema } from '../../services/time/calendar.ts';
import { DEFAULT_CALENDAR, registryCalendars, siteCalendars, siteIndex } from '../../services/time/sites.ts';
import { siteTimeZone } from '../../services/api/inventory.ts';
import { tenantTimeZone } from '../../services/reports/common.ts';
import { siteTimeZones } from '../../services/rollups/scheduler.ts';
import { calendarLookup, siteRulesLookup } from '../../services/alerts/scheduler.ts';
import { displayNames } from '../../services/registry/names.ts';

const cal = (timeZone: string) => siteCalendarSchema.parse({ timeZone });
const sites = [
  { site: 'mairie', calendar: cal('Europe/Paris'), name: 'Mairie' },
  { tenant: 'cayenne', site: 'mairie', calendar: cal('America/Cayenne') },
  { tenant: 'reunion', site: 'ecole', calendar: cal('Indian/Reunion'), name: 'École', rules: { W1: { enabled: false } } },
  { tenant: 'reunion', site: 'ecole', calendar: cal('Indian/Mauritius'), name: 'École bis' },
];

describe('the one site lookup (services/time/sites.ts)', () => {
  it("finds the tenant's own entry first, then the entry for any tenant, then the default calendar", () => {
    const c = siteCalendars(sites);
    expect(c.timeZone('cayenne', 'mairie')).toBe('America/Cayenne');
    expect(c.timeZone('saint-veilleur', 'mairie')).toBe('Europe/Paris');
    expect(c.calendar('saint-veilleur', 'gymnase')).toBe(DEFAULT_CALENDAR);
    expect(c.timeZone('saint-veilleur', 'gymnase', 'UTC')).toBe('UTC');
  });

  it('keeps the last of two entries for the same site, and skips entries without the value asked for', () => {
    expect(siteCalendars(sites).timeZone('reunion', 'ecole')).toBe('Indian/Mauritius');
    // The second 'ecole' entry has no rules: the first one's stay in force.
    expect(siteIndex(sites, (s) => s.rules)('reunion', 'ecole')).toEqual({ W1: { enabled: false } });
    expect(siteIndex(sites, (s) => s.rules)('reunion', 'mairie')).toBeUndefined();
  });

  it("gives a tenant's reports the zone of its first site, else of the first site for any tenant", () => {
    const c = siteCalendars(sites);
    expect(c.tenantTimeZone('reunion')).toBe('Indian/Reunion');
    expect(c.tenantTimeZone('saint-veilleur')).toBe('Europe/Paris');
    expect(registryCalendars(undefined).tenantTimeZone('x')).toBe('Europe/Paris');
    expect(siteCalendars([{ tenant: 'a', site: 's', calendar: cal('America/Cayenne') }]).tenantTimeZone('b')).toBe('Europe/Paris');
    expect(c.zones).toEqual(['America/Cayenne', 'Europe/Paris', 'Indian/Mauritius', 'Indian/Reunion']);
  });

  it('is built once per list of sites, not on every call', () => {
    expect(siteCalendars(sites)).toBe(siteCalendars(sites));
    expect(siteCalendars([...sites])).not.toBe(siteCalendars(sites));
  });

  it('answers the same through every room that asks (alerts, rollups, API, reports, names)', () => {
    const registry = { sites, tenants: [] };
    expect(calendarLookup(sites)('cayenne', 'mairie').timeZone).toBe('America/Cayenne');
    expect(siteTimeZone(registry, 'cayenne', 'mairie')).toBe('America/Cayenne');
    expect(siteTimeZones(sites, 'UTC').timeZoneOf('x', 'gymnase')).toBe('UTC');
    expect(siteTimeZones(sites, 'UTC').zones).toEqual(['America/Cayenne', 'Europe/Paris', 'Indian/Mauritius', 'Indian/Reunion', 'UTC']);
    expect(tenantTimeZone(registry, 'reunion')).toBe('Indian/Reunion');
    expect(siteRulesLookup(sites)('reunion', 'ecole')).toEqual({ W1: { enabled: false } });
    expect(displayNames(registry).site('cayenne', 'mairie')).toBe('Mairie');
    expect(displayNames(registry).site('reunion', 'ecole')).toBe('École bis');
  });
});
