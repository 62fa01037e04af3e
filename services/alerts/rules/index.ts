/**
 * The one list of alert rules. The per-site settings schema and the defaults (settings.ts), the catalogue
 * (catalogue.ts) and the rules the engine and the scheduler run (below) are all derived from it. A rule is added in
 * its family's file (or a new file listed here once), with a test.
 */
import type { SiteNames } from '../model.ts';
import { DATACENTER_RULES } from './datacenter.ts';
import { paramsFor, type RuleDefinition, type RulesLookup, type StreamRule, type WindowedRule } from './define.ts';
import { ENERGY_RULES } from './energy.ts';
import { FLEET_RULES } from './fleet.ts';
import { STREAM_RULES } from './stream.ts';
import { WATER_RULES } from './water.ts';

/** Stream rules first, in the order they run on each uplink; then the windowed ones, in the order they run each round. */
export const RULES = [...STREAM_RULES, ...WATER_RULES, ...ENERGY_RULES, ...DATACENTER_RULES, ...FLEET_RULES] as const;

export type AnyRule = (typeof RULES)[number];
export type RuleId = AnyRule['id'];

const isStream = (r: RuleDefinition): r is RuleDefinition<string, 'stream'> => r.kind === 'stream';
const isWindowed = (r: RuleDefinition): r is RuleDefinition<string, 'windowed'> => r.kind === 'windowed';

/**
 * A stream rule that follows the site's settings: skipped where the site disables it, built with the site's
 * thresholds where it overrides some (one instance per such site, so duration state stays per subject).
 */
export function perSite<P extends object>(id: string, defaults: P, make: (p: P) => StreamRule, rulesFor: RulesLookup | undefined): StreamRule {
  const base = make(defaults);
  if (!rulesFor) return base;
  const bySite = new Map<string, StreamRule>();
  return {
    info: base.info,
    evaluate(input) {
      const { tenant, site } = input.subject;
      if (!rulesFor(tenant, site)?.[id]) return base.evaluate(input);
      const p = paramsFor(rulesFor, id, defaults, tenant, site);
      if (!p) return undefined;
      const key = `${tenant}\u0000${site}`;
      let rule = bySite.get(key);
      if (!rule) bySite.set(key, (rule = make(p)));
      return rule.evaluate(input);
    },
  };
}

/** A rule whose messages name sites by their display names. */
function named(rule: StreamRule, siteName: SiteNames | undefined): StreamRule {
  if (!siteName) return rule;
  // Set on the input itself rather than on a copy: a copy would run the engine's lazy `occupied` getter.
  return {
    info: rule.info,
    evaluate: (input) => {
      input.siteName = siteName;
      return rule.evaluate(input);
    },
  };
}

/**
 * The stream rules with their default thresholds, or each site's (a new set per engine: duration rules keep
 * state). `rulesFor`: the sites' rule settings from the configuration (scheduler.ts `siteRulesLookup`);
 * `siteName`: the sites' display names for the messages (registry/names.ts `displayNames(file).site`).
 */
export function defaultStreamRules(rulesFor?: RulesLookup, siteName?: SiteNames): StreamRule[] {
  return (RULES as readonly RuleDefinition[]).filter(isStream).map((r) => named(perSite(r.id, r.defaults, (p) => r.create(p), rulesFor), siteName));
}

/** Every windowed rule with its default thresholds (a new set each call: the daily rules keep a memo). */
export function defaultWindowedRules(): WindowedRule[] {
  return (RULES as readonly RuleDefinition[]).filter(isWindowed).map((r) => r.create(r.defaults));
}
