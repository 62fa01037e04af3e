/**
 * The evidence of an alert: the series that made its rule fire, over the rule's window, with the threshold (or
 * thresholds) the rule compared it to. Which series that is, each rule states in its own terms in its definition (`evidence` in
 * services/alerts/rules/: W1 compares hourly volumes to a minimum, D2 a mean inlet temperature to a floor…); this
 * module reads and draws it. Rules that rest on no series (silence, airtime) have none: their figures say it all.
 */
import { QUANTITIES, type QuantityId } from '../../decoders/model/quantities.ts';
import type { Alert } from '../alerts/model.ts';
import type { AlertFigures, EvidenceDeclaration, EvidenceThreshold, RuleDefinition } from '../alerts/rules/define.ts';
import { RULES } from '../alerts/rules/index.ts';
import type { ApiDeps } from '../api/deps.ts';
import { siteTimeZone } from '../api/inventory.ts';
import { readSeries } from '../api/readings.ts';

interface EvidenceSpec extends Omit<EvidenceDeclaration, 'threshold'> {
  /** The threshold lines, from the alert's own thresholds and measurements. */
  thresholds: ((a: Alert) => number | undefined)[];
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);
/** An alert's figures, numbers written as text read as numbers (as for a threshold named by its key). */
const figures = (r: Record<string, number | string>): Record<string, number | string> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, num(v) ?? v]));

function thresholdLine(t: EvidenceThreshold): (a: Alert) => number | undefined {
  if (typeof t === 'number') return () => t;
  if (typeof t === 'string') return (a) => num(a.thresholds[t]);
  return (a) => {
    const v = t({ thresholds: figures(a.thresholds), measured: figures(a.measured) } satisfies AlertFigures);
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  };
}

function thresholdLines(t: EvidenceDeclaration['threshold']): EvidenceSpec['thresholds'] {
  // One line or several, as the rule declares them (concat takes either).
  return ([] as EvidenceThreshold[]).concat(t ?? []).map(thresholdLine);
}

/** Per rule id, the series its alerts draw: derived from the rules' own declarations. */
export const EVIDENCE: Readonly<Record<string, EvidenceSpec>> = Object.fromEntries(
  (RULES as readonly RuleDefinition[]).flatMap((r) => {
    if (!r.evidence) return [];
    const { threshold, ...series } = r.evidence;
    return [[r.id, { ...series, thresholds: thresholdLines(threshold) }] as const];
  }),
);

export interface EvidenceSeries {
  label: string;
  points: [number, number | null][];
}

export interface Evidence {
  quantity: QuantityId;
  unit: string;
  aggregation: 'raw' | 'hourly';
  /** For cumulative quantities: consumption per hour, not the index. */
  perHour: boolean;
  from: Date;
  to: Date;
  timeZone: string;
  /** The lines drawn across the series, in the rule's order; none when the rule compares to no fixed value. */
  thresholds: number[];
  series: EvidenceSeries[];
}

const HOUR = 3_600_000;
const MAX_SERIES = 8;

/** The period drawn: the rule's window, at least a day before its end so a stream rule's instant has context. */
export function evidencePeriod(a: Alert, now = Date.now()): { from: Date; to: Date } {
  const end = Math.min(Math.max(a.window.to.getTime(), a.lastFiringAt.getTime()) + 2 * HOUR, now);
  const start = Math.min(a.window.from.getTime(), end - 24 * HOUR);
  // A bound on what one page can pull out of InfluxDB, whatever the rule's window.
  return { from: new Date(Math.max(start, end - 31 * 24 * HOUR)), to: new Date(end) };
}

export async function evidenceOf(deps: Pick<ApiDeps, 'influx' | 'registry'>, a: Alert, deviceName: (devEui: string, fallback: string) => string): Promise<Evidence | undefined> {
  const spec = EVIDENCE[a.ruleId];
  if (!spec) return undefined;
  const period = evidencePeriod(a);
  const from = period.from;
  // Hourly series end at the last complete hour: an unfinished hour would draw a false drop at the end.
  const to = spec.aggregation === 'hourly' ? new Date(Math.floor(period.to.getTime() / HOUR) * HOUR) : period.to;
  const timeZone = siteTimeZone(deps.registry, a.subject.tenant, a.subject.site);
  const q = QUANTITIES[spec.quantity];
  const series = await readSeries(deps as ApiDeps, {
    tenants: [a.subject.tenant],
    quantity: spec.quantity,
    aggregation: spec.aggregation,
    timeZone,
    from,
    to,
    limit: 5000,
    ...(a.subject.devEui ? { devEui: a.subject.devEui } : { site: a.subject.site, roles: spec.roles }),
  });
  const factor = spec.scale?.factor ?? 1;
  const value = (p: { value?: number | boolean | null; mean?: number | null; consumption?: number | null }) => {
    const v = p.consumption ?? p.mean ?? p.value;
    if (typeof v === 'boolean') return v ? 1 : 0;
    return v === null || v === undefined ? null : v * factor;
  };
  return {
    quantity: spec.quantity,
    unit: spec.scale?.unit ?? q.unit,
    aggregation: spec.aggregation,
    perHour: q.cumulative === true,
    from,
    to,
    timeZone,
    thresholds: spec.thresholds.map((f) => f(a)).filter((v): v is number => v !== undefined),
    series: series.slice(0, MAX_SERIES).map((s) => ({
      label: deviceName(s.devEui, s.device || s.devEui),
      points: s.points.map((p) => [Date.parse(p.time), value(p)] as [number, number | null]),
    })),
  };
}
