/**
 * Dashboard languages: French is the default (the communes' language), English the variant. Every text is a
 * `{ fr, en }` pair, so a missing translation is a type error, not an empty title.
 */
export const LANGS = ['fr', 'en'] as const;
export type Lang = (typeof LANGS)[number];

export type Text = Readonly<Record<Lang, string>>;

export const tr = (text: Text, lang: Lang): string => text[lang];

/** Texts shared by every dashboard. */
export const COMMON = {
  datasource: { fr: 'Source de données', en: 'Data source' },
  tenant: { fr: 'Collectivité', en: 'Organisation' },
  site: { fr: 'Site', en: 'Site' },
  device: { fr: 'Capteur', en: 'Device' },
  tenantHelp: { fr: 'Commune ou organisation propriétaire des capteurs', en: 'Commune or organisation that owns the devices' },
  siteHelp: { fr: 'Site (bâtiment, réservoir, station…) du registre', en: 'Site (building, reservoir, station…) from the registry' },
  deviceHelp: { fr: 'Nom du capteur dans le registre ou le serveur de réseau', en: 'Device name in the registry or the network server' },
  dashboardsTag: { fr: 'veilleur', en: 'veilleur' },
  languageTag: { fr: 'français', en: 'english' },
  month: { fr: 'Mois', en: 'Month' },
} as const satisfies Record<string, Text>;
