/**
 * Optional configuration of the yearly report, meant for a top-level `reports:` key of VEILLEUR_CONFIG
 * (services/config/schema.ts: `reports: reportsConfigSchema.optional()`):
 *
 *   reports:
 *     tertiaire:                      # décret tertiaire (2019-771): −40 % in 2030 against a reference year
 *       - site: ecole-jaures
 *         building: ecole-jaures      # default: the site
 *         referenceYear: 2019         # 2010 at the earliest
 *         referenceKwh: 182000        # final energy of the reference year, as declared on OPERAT
 *         floorAreaM2: 1450           # optional: kWh/m² in the report
 *     datacenters:                    # PUE measurement category of a server room's IT meter (ISO/IEC 30134-2)
 *       - site: mairie
 *         category: 1                 # 1 UPS output, 2 PDU output, 3 IT equipment input
 *     emissionFactor: ademe-mix-moyen-2024
 *
 * Why a separate key: the reference year's consumption comes from bills (OPERAT), not from meters, and only
 * buildings of ≥ 1,000 m² of tertiary floor area are subject to the decree; nothing is assumed when absent.
 */
import { z } from 'zod';
import { EMISSION_FACTORS } from '../datacenter/emission-factors.ts';

const slug = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'expected letters, digits, _ . - (at most 63)');

export const tertiaireEntrySchema = z.strictObject({
  /** Default: every tenant having this site (sites are usually unique per instance). */
  tenant: slug.optional(),
  site: slug,
  /** Default: the site itself (a site with one building). */
  building: slug.optional(),
  referenceYear: z.number().int().min(2010, 'the décret tertiaire reference year is 2010 at the earliest').max(2030),
  referenceKwh: z.number().positive('expected the reference year final energy, in kWh'),
  floorAreaM2: z.number().positive().optional(),
});
export type TertiaireEntry = z.infer<typeof tertiaireEntrySchema>;

export const datacenterEntrySchema = z.strictObject({
  tenant: slug.optional(),
  site: slug,
  category: z.union([z.literal(1), z.literal(2), z.literal(3)]),
});

export const reportsConfigSchema = z.strictObject({
  tertiaire: z.array(tertiaireEntrySchema).default([]),
  datacenters: z.array(datacenterEntrySchema).default([]),
  emissionFactor: z.enum(Object.keys(EMISSION_FACTORS) as [string, ...string[]]).optional(),
});
export type ReportsConfig = z.output<typeof reportsConfigSchema>;

/** The `reports:` section of a loaded configuration file (services/config/schema.ts composes this room's schema), or an empty one. */
export function reportsConfigOf(registry: { readonly reports?: unknown } | undefined): ReportsConfig {
  return reportsConfigSchema.parse(registry?.reports ?? {});
}

/** Décret tertiaire targets (final energy against the reference year), décret 2019-771 (loi ÉLAN art. 175). */
export const TERTIAIRE_TARGETS = [
  { year: 2030, reduction: 0.4 },
  { year: 2040, reduction: 0.5 },
  { year: 2050, reduction: 0.6 },
] as const;

export function tertiaireFor(cfg: ReportsConfig, tenant: string, site: string, building: string): TertiaireEntry | undefined {
  return cfg.tertiaire.find((e) => (e.tenant === undefined || e.tenant === tenant) && e.site === site && (e.building ?? e.site) === building);
}

export function pueCategoryFor(cfg: ReportsConfig, tenant: string, site: string): 1 | 2 | 3 | undefined {
  return cfg.datacenters.find((e) => (e.tenant === undefined || e.tenant === tenant) && e.site === site)?.category;
}
