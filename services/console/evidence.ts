/**
 * The evidence of an alert: the series that made its rule fire, over the rule's window, with the threshold the rule
 * compared it to. Which series that is depends on the rule; this table says it per rule, in the rule's own terms
 * (W1 compares hourly volumes to a minimum, D2 a mean inlet temperature to a floor…). Rules that rest on no series
 * (silence, airtime) have none: their figures say it all.
 */
import { QUANTITIES, type QuantityId } from '../../decoders/model/quantities.ts';
import { ROLES } from '../../decoders/model/roles.ts';
import type { Alert } from '../alerts/model.ts';
import type { ApiDeps } from '../api/deps.ts';
import { siteTimeZone } from '../api/inventory.ts';
import { readSeries, type Aggregation } from '../api/readings.ts';

interface EvidenceSpec {
  quantity: QuantityId;
  aggregation: Exclude<Aggregation, 'daily'>;
  /** Site-wide alerts (no device): the devices of these roles at the site. */
  roles?: readonly string[];
  /** The threshold line, from the alert's own thresholds and measurements. */
  threshold?: (a: Alert) => number | undefined;
  /** Values are shown in this unit (Wh → kWh). */
  scale?: { factor: number; unit: string };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);
const th = (key: string) => (a: Alert) => num(a.thresholds[key]);
const kwh = { factor: 0.001, unit: 'kWh' };

const WATER_HOURLY: EvidenceSpec = { quantity: 'metering.water.total', aggregation: 'hourly', roles: [ROLES.waterMain, ROLES.districtInflow] };
const ROOMS = [ROLES.room];

export const EVIDENCE: Record<string, EvidenceSpec> = {
  W1: { ...WATER_HOURLY, threshold: th('min_l_per_h') },
  W2: { ...WATER_HOURLY, threshold: th('limit_l_per_h') },
  W3: WATER_HOURLY,
  W4: WATER_HOURLY,
  W5: WATER_HOURLY,
  W6: WATER_HOURLY,
  W7: { quantity: 'water.leak', aggregation: 'raw' },
  W8: { quantity: 'metering.water.total', aggregation: 'hourly', roles: [ROLES.districtInflow] },
  E1: { quantity: 'air.temperature', aggregation: 'hourly', roles: ROOMS, threshold: th('max_mean_c') },
  E2: { quantity: 'air.temperature', aggregation: 'hourly', roles: ROOMS, threshold: th('max_c') },
  E3: { quantity: 'air.temperature', aggregation: 'hourly', roles: ROOMS, threshold: th('max_indoor_c') },
  E4: {
    quantity: 'metering.electricity.activeEnergy',
    aggregation: 'hourly',
    roles: [ROLES.buildingMain],
    scale: kwh,
    // The rule compares the night median to max_ratio × the occupied median: that product is the line to stay under.
    threshold: (a) => {
      const r = num(a.thresholds.max_ratio);
      const occ = num(a.measured.occupied_median_kwh_per_h);
      return r !== undefined && occ !== undefined ? r * occ : undefined;
    },
  },
  E5: { quantity: 'metering.electricity.activeEnergy', aggregation: 'hourly', roles: [ROLES.buildingMain], scale: kwh },
  A1: { quantity: 'air.co2', aggregation: 'raw', threshold: th('warn_ppm') },
  D1: { quantity: 'air.temperature', aggregation: 'raw', roles: [ROLES.itInlet], threshold: (a) => num(a.thresholds.max_c) },
  D2: { quantity: 'air.temperature', aggregation: 'hourly', roles: [ROLES.itInlet], threshold: th('below_c') },
  D3: { quantity: 'air.relativeHumidity', aggregation: 'raw', roles: [ROLES.itInlet], threshold: th('max_rh_pct') },
  D4: { quantity: 'metering.electricity.activeEnergy', aggregation: 'hourly', roles: [ROLES.facilityTotal, ROLES.itLoad], scale: kwh },
  S2: { quantity: 'battery', aggregation: 'raw', threshold: th('min_v') },
};

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
  threshold: number | undefined;
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
    threshold: spec.threshold?.(a),
    series: series.slice(0, MAX_SERIES).map((s) => ({
      label: deviceName(s.devEui, s.device || s.devEui),
      points: s.points.map((p) => [Date.parse(p.time), value(p)] as [number, number | null]),
    })),
  };
}
