/**
 * Rule parameters, derived from the rules themselves (rules/index.ts): the defaults of every rule (each rule's
 * `source` cites where they come from) and which of them a site may override in the YAML configuration:
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
import { RULES, type AnyRule, type RuleId } from './rules/index.ts';

export { inSeason, paramsFor, type RulesLookup } from './rules/define.ts';
export type { RuleId } from './rules/index.ts';

type RuleOf<K extends RuleId> = Extract<AnyRule, { id: K }>;

/** What a site may override, per rule (`enabled` is always allowed). */
export const SITE_PARAMETERS = Object.fromEntries(RULES.map((r) => [r.id, r.siteParameters])) as { [K in RuleId]: RuleOf<K>['siteParameters'] };

export const RULE_IDS: RuleId[] = RULES.map((r) => r.id);

/** Every default, the per-site ones and the global ones (windows, data requirements), by rule. */
export const RULE_DEFAULTS = Object.fromEntries(RULES.map((r) => [r.id, r.defaults])) as { [K in RuleId]: RuleOf<K>['defaults'] };

export type RuleParams<K extends RuleId> = (typeof RULE_DEFAULTS)[K];
export type SiteOverrides<K extends RuleId> = Partial<RuleParams<K>> & { enabled?: boolean };
export type SiteRules = { [K in RuleId]?: SiteOverrides<K> };

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
