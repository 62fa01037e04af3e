/**
 * The one shape of an alert rule. Each rule (or small family) under rules/ states once, with `defineRule`, its id,
 * kind, defaults, which of them a site may override, its description (its numbers taken from the defaults), the
 * labels of its own figures, the devices it reads, the series drawn as its evidence, and its factory (the rule's
 * `info` and `evaluate`). rules/index.ts lists the families; the per-site settings schema, the catalogue, the
 * scheduler's lists, the console's evidence charts and the parsimony report's reporting needs are derived from that
 * list, so a new rule touches its own file only.
 * This module imports nothing from the engine or the registry: rules depend on it, never the other way round.
 */
import { z } from 'zod';
import type { QuantityId } from '../../../decoders/model/quantities.ts';
import type { InfluxSeries } from '../../storage/influx.ts';
import type { SiteCalendar } from '../../time/calendar.ts';
import type { Finding, RuleInfo, SiteNames, Subject, Text } from '../model.ts';

export type Query = (influxql: string) => Promise<InfluxSeries[]>;

/** A site's overrides of one rule: some of its site parameters, and `enabled`. */
export type Overrides = { enabled?: boolean } & Record<string, unknown>;
/** The rule settings of a site, from the configuration (undefined: defaults everywhere). */
export type RulesLookup = (tenant: string, site: string) => Partial<Record<string, Overrides>> | undefined;

export interface StreamInput {
  subject: Subject;
  /** Registry role of the device ('it-inlet', 'water-main', …). */
  role: string;
  at: Date;
  /** Channel-less readings of the uplink, by quantity. */
  values: Partial<Record<QuantityId, number | boolean>>;
  /** Occupancy of the site at `at`, when a calendar is known. */
  occupied?: boolean;
  /** Display names of the sites, for the messages (defaultStreamRules sets it); absent: identifiers. */
  siteName?: SiteNames | undefined;
}

export interface StreamRule {
  info: RuleInfo;
  evaluate(input: StreamInput): Finding | undefined;
}

export interface WindowContext {
  now: Date;
  query: Query;
  calendarFor(tenant: string, site: string): SiteCalendar;
  /** Per-site rule settings (thresholds, `enabled: false`) from the configuration; absent: defaults everywhere. */
  rulesFor?: RulesLookup | undefined;
  /** Display names of the sites for the messages (registry/names.ts `displayNames(file).site`); absent: identifiers. */
  siteName?: SiteNames | undefined;
}

export interface WindowedRule {
  info: RuleInfo;
  evaluate(ctx: WindowContext): Promise<Finding[]>;
}

export type RuleKind = 'stream' | 'windowed';
type RuleOf<K extends RuleKind> = K extends 'stream' ? StreamRule : WindowedRule;

/**
 * The devices a rule judges: the registry roles it reads (the parsimony report cites the rule in these roles'
 * reporting needs, reports/parsimony.ts), or 'every device' for a rule that judges any device alike (battery,
 * silence, airtime), whose reporting interval no role's need is set by.
 */
export type RuleReads = readonly string[] | 'every device';

/** The figures of an alert an evidence line is computed from (numbers written as text already read as numbers). */
export interface AlertFigures {
  thresholds: Record<string, number | string>;
  measured: Record<string, number | string>;
}

/**
 * The series that made a rule fire, as the console draws it beside the alert (console/evidence.ts renders it):
 * plain data in the rule's own terms, so a new rule brings its chart.
 */
export type EvidenceThreshold = string | number | ((a: AlertFigures) => number | undefined);

export interface EvidenceDeclaration {
  quantity: QuantityId;
  /** Raw readings, or hourly values (the consumption per hour for a cumulative quantity). */
  aggregation: 'raw' | 'hourly';
  /** Site-wide alerts (no device): the devices of these roles at the site. */
  roles?: readonly string[];
  /**
   * The line drawn: a key of the alert's thresholds, a fixed value, or a small function of the alert's figures; or
   * several such lines (the class limits of an index).
   */
  threshold?: EvidenceThreshold | readonly EvidenceThreshold[];
  /** Values shown in this unit (Wh → kWh). */
  scale?: { factor: number; unit: string };
}

/** The zod schema of each parameter a site may override; each must have a default of the same type. */
type SiteShape<D> = { [P in keyof D]?: z.ZodType<D[P]> };

export interface RuleDefinition<Id extends string = string, K extends RuleKind = RuleKind, D extends object = object> {
  id: Id;
  /** stream: on each uplink; windowed: on a schedule over stored data (ALERT_EVAL_MINUTES). */
  kind: K;
  /** Every default, per-site and global (windows, data requirements): the factory takes them, the catalogue shows them. */
  defaults: D;
  /** What a site may override under `sites[].rules.<id>` (`enabled` is always allowed). */
  siteParameters: SiteShape<D>;
  /** What the rule checks, in a sentence or two, with the numbers of `defaults`. */
  description(defaults: D): Text;
  /**
   * Labels of the keys the rule puts in `measured` and `thresholds` that the console's catalogues do not have yet
   * (console/components.ts `fieldLabel` looks here after them), so a new rule brings its own.
   */
  fields?: Record<string, Text> | undefined;
  /** The devices the rule judges (see RuleReads). */
  reads?: RuleReads | undefined;
  /** The series the console draws as the alert's evidence; null: the rule rests on no series (silence, airtime). */
  evidence?: EvidenceDeclaration | null | undefined;
  /** The rule with these parameters: its `info` and `evaluate` (a new instance keeps its own state: durations, memos). */
  create(params: D): RuleOf<K>;
  /** The rule's identity, title, source and action (from the rule made with the defaults). */
  readonly info: RuleInfo;
}

/** Defines a rule; its defaults type every other field (a site parameter without a default of its type is a type error). */
export function defineRule<Id extends string, K extends RuleKind, D extends object>(def: {
  id: Id;
  kind: K;
  defaults: D;
  siteParameters: NoInfer<SiteShape<D>>;
  description(defaults: NoInfer<D>): Text;
  fields?: Record<string, Text>;
  reads?: RuleReads;
  evidence?: EvidenceDeclaration | null;
  create(params: NoInfer<D>): RuleOf<K>;
}): RuleDefinition<Id, K, D> {
  let info: RuleInfo | undefined;
  return {
    ...def,
    get info() {
      return (info ??= def.create(def.defaults).info);
    },
  };
}

/**
 * A rule's parameters for one site: `base` with the site's overrides, or undefined when the site disables the rule.
 */
export function paramsFor<P extends object>(rulesFor: RulesLookup | undefined, id: string, base: P, tenant: string, site: string): P | undefined {
  const o = rulesFor?.(tenant, site)?.[id];
  if (!o) return base;
  if (o.enabled === false) return undefined;
  const { enabled: _enabled, ...overrides } = o;
  return { ...base, ...overrides } as P;
}

// Parameter schemas: an out-of-range value is an error naming the parameter and its bounds.

export const num = (min: number, max: number, what: string) =>
  z.number({ error: `expected ${what}: a number from ${min} to ${max}` }).min(min, `expected ${what} of at least ${min}`).max(max, `expected ${what} of at most ${max}`);
export const int = (min: number, max: number, what: string) => num(min, max, what).int(`expected ${what}: a whole number`);
export const celsius = (what: string) => num(-40, 60, what);

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const monthDayOk = (md: string) => {
  const m = Number(md.slice(0, 2));
  const d = Number(md.slice(3, 5));
  return m >= 1 && m <= 12 && d >= 1 && d <= MONTH_DAYS[m - 1]!;
};
/** 'MM-DD..MM-DD', both days included; may cross the new year ('10-01..05-20'). */
export const season = z
  .string()
  .regex(/^\d{2}-\d{2}\.\.\d{2}-\d{2}$/, "expected a season 'MM-DD..MM-DD', e.g. '10-01..05-20'")
  .refine((s) => monthDayOk(s.slice(0, 5)) && monthDayOk(s.slice(7, 12)), "expected real days of the year in 'MM-DD..MM-DD'");

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
/** 'HH:MM-HH:MM' local wall time, at least one hour long (a rolling hour must fit), may cross midnight. */
export const nightWindow = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, "expected a local window 'HH:MM-HH:MM', e.g. '02:00-04:00'")
  .refine((s) => (minutesOf(s.slice(6)) - minutesOf(s.slice(0, 5)) + 1440) % 1440 >= 60, 'expected a window of at least one hour');

/** Whether local date 'YYYY-MM-DD' falls in a 'MM-DD..MM-DD' season (both days included, may cross the new year). */
export function inSeason(date: string, seasonRange: string): boolean {
  const md = date.slice(5, 10);
  const from = seasonRange.slice(0, 5);
  const to = seasonRange.slice(7, 12);
  return from <= to ? from <= md && md <= to : md >= from || md <= to;
}
