/**
 * The rule catalogue: every alert rule Veilleur evaluates, what it checks, where its thresholds come from, its
 * defaults and which of them a site may override (served by the HTTP API, shown to agents before they change a
 * threshold). Derived from the rules themselves (rules/index.ts): descriptions take their numbers from the defaults.
 */
import type { RuleInfo, Text } from './model.ts';
import type { RuleDefinition } from './rules/define.ts';
import { RULES } from './rules/index.ts';

export interface CatalogueEntry extends RuleInfo {
  /** stream: on each uplink; windowed: on a schedule over stored data (ALERT_EVAL_MINUTES). */
  kind: 'stream' | 'windowed';
  description: Text;
  defaults: Record<string, unknown>;
  /** The defaults a site may override under `sites[].rules.<id>` (plus `enabled`). */
  siteParameters: string[];
}

/** Every rule, stream then windowed, with its description, defaults and per-site parameters. */
export function ruleCatalogue(): CatalogueEntry[] {
  return (RULES as readonly RuleDefinition[]).map((r) => ({
    ...r.info,
    kind: r.kind,
    description: r.description(r.defaults),
    defaults: { ...r.defaults },
    siteParameters: ['enabled', ...Object.keys(r.siteParameters)],
  }));
}

let fieldLabels: ReadonlyMap<string, Text> | undefined;

/** The labels rules declare for the keys of their figures (`fields` of defineRule), by key. */
export function ruleFieldLabels(): ReadonlyMap<string, Text> {
  return (fieldLabels ??= new Map((RULES as readonly RuleDefinition[]).flatMap((r) => Object.entries(r.fields ?? {}))));
}
