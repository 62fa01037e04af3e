/**
 * What people read instead of identifiers: display names of communes and sites (the configuration's `name:`), and
 * French and English labels of device roles. The console, the reports and the alert texts take their names here,
 * so a slug such as `ecole-jaures` or a role such as `it-inlet` never reaches an elected official.
 */
import { ROLES } from '../../decoders/model/roles.ts';
import type { RegistrySettings } from './registry.ts';
import { siteIndex } from '../time/sites.ts';

export type Lang = 'fr' | 'en';

type Role = (typeof ROLES)[keyof typeof ROLES];

export const ROLE_LABELS: Record<Role, { fr: string; en: string }> = {
  'building-main': { fr: 'Compteur électrique général du bâtiment', en: 'Building main electricity meter' },
  'it-load': { fr: 'Compteur des équipements informatiques', en: 'IT equipment meter' },
  'facility-total': { fr: 'Compteur général de la salle serveurs', en: 'Server room total meter' },
  cooling: { fr: 'Compteur de la climatisation', en: 'Cooling meter' },
  other: { fr: 'Autres consommations de la salle', en: 'Other server room loads' },
  'it-inlet': { fr: "Sonde d'entrée d'air des baies", en: 'Rack inlet air sensor' },
  'water-main': { fr: "Compteur d'eau du bâtiment", en: 'Building water meter' },
  'district-inflow': { fr: "Compteur d'entrée de secteur", en: 'District inflow meter' },
  'leak-sensor': { fr: 'Détecteur de fuite', en: 'Leak sensor' },
  room: { fr: "Sonde d'ambiance", en: 'Room sensor' },
  outdoor: { fr: 'Sonde extérieure', en: 'Outdoor sensor' },
};

/** The label of a role; an unknown role is shown as "autre" rather than as its identifier. */
export function roleLabel(role: string | undefined, lang: Lang): string {
  if (!role) return lang === 'fr' ? 'non précisé' : 'not set';
  return ROLE_LABELS[role as Role]?.[lang] ?? (lang === 'fr' ? 'autre rôle' : 'other role');
}

export interface DisplayNames {
  tenant(id: string): string;
  site(tenant: string, site: string): string;
}

/**
 * Names from the configuration. Without a `name:`, the identifier is shown as it is: guessing accents and capitals
 * from a slug would print names no commune chose.
 */
export function displayNames<Site extends RegistrySettings['sites'][number]>(file: Pick<RegistrySettings, 'tenants'> & { sites: readonly Site[] }): DisplayNames {
  const tenants = new Map(file.tenants.flatMap((t) => (t.name ? [[t.id, t.name] as const] : [])));
  const siteNames = siteIndex(file.sites, (s) => s.name);
  return {
    tenant: (id) => tenants.get(id) ?? id,
    site: (tenant, site) => siteNames(tenant, site) ?? site,
  };
}
