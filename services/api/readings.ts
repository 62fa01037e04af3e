/**
 * Readings of one quantity over a period: raw points, or hourly/daily aggregates with days in the site's time
 * zone (InfluxQL tz()). Cumulative quantities (indexes) are aggregated as consumption per period from index
 * differences that survive a counter reset (non_negative_difference); gauges as min/mean/max.
 */
import { QUANTITIES, type QuantityId } from '../../decoders/model/quantities.ts';
import { seriesRows } from '../storage/influx.ts';
import { during, select, tagFilters, type Condition, type Select } from '../storage/influxql.ts';
import type { ApiDeps } from './deps.ts';
import { tenantConditions } from './scope.ts';

export type Aggregation = 'raw' | 'hourly' | 'daily';

export interface SeriesQuery {
  tenants: string[] | undefined;
  quantity: QuantityId;
  from: Date;
  to: Date;
  aggregation: Aggregation;
  timeZone: string;
  devEui?: string | undefined;
  site?: string | undefined;
  /** Registry roles of the devices (the `role` tag), e.g. the rooms of a site and not its meters. */
  roles?: readonly string[] | undefined;
  channel?: string | undefined;
  /** Rows at most (a bound on what one request can pull out of InfluxDB). */
  limit: number;
}

export interface SeriesPoint {
  time: string;
  value?: number | boolean | null;
  min?: number | null;
  mean?: number | null;
  max?: number | null;
  consumption?: number | null;
}

export interface DeviceSeries {
  tenant: string;
  site: string;
  devEui: string;
  device: string;
  channel: string;
  points: SeriesPoint[];
}

const BUCKET: Record<Exclude<Aggregation, 'raw'>, { group: '1h' | '1d'; ms: number }> = {
  hourly: { group: '1h', ms: 3_600_000 },
  daily: { group: '1d', ms: 86_400_000 },
};

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function seriesQueryText(q: SeriesQuery): string {
  const spec = QUANTITIES[q.quantity];
  const field = spec.field;
  const filters: Condition[] = [
    ...tagFilters({ dev_eui: q.devEui, site: q.site }),
    ...(q.roles?.length ? [{ tag: 'role', in: q.roles }] : []),
    { tag: 'channel', equals: q.channel ?? '' },
    ...tenantConditions(q.tenants),
  ];
  const base = { from: spec.measurement, groupBy: ['tenant', 'site', 'dev_eui', 'device', 'channel'] };
  if (q.aggregation === 'raw') {
    return select({ ...base, select: [{ field, as: 'value' }], where: [...during(q.from, q.to), ...filters], limit: q.limit });
  }
  const b = BUCKET[q.aggregation];
  const buckets: Pick<Select, 'interval' | 'fill' | 'tz'> = { interval: b.group, fill: 'none', tz: q.timeZone };
  if (spec.cumulative) {
    // One bucket earlier, so that the first bucket of the period has the index it is measured from.
    const from = q.from.getTime() - b.ms;
    const consumption = { fn: 'non_negative_difference', of: { fn: 'last', field }, as: 'consumption' } as const;
    return select({ ...base, ...buckets, select: [consumption], where: [...during(from, q.to), ...filters] });
  }
  const stats = (['min', 'mean', 'max'] as const).map((fn) => ({ fn, field, as: fn }));
  return select({ ...base, ...buckets, select: stats, where: [...during(q.from, q.to), ...filters] });
}

export async function readSeries(deps: ApiDeps, q: SeriesQuery): Promise<DeviceSeries[]> {
  const series = await deps.influx.query(seriesQueryText(q));
  return seriesRows(series).map(({ tags, rows }) => ({
    tenant: tags.tenant ?? '',
    site: tags.site ?? '',
    devEui: tags.dev_eui ?? '',
    device: tags.device ?? '',
    channel: tags.channel ?? '',
    // A period counts when it starts within the range: InfluxDB labels a bucket with its start, which lies before
    // `from` when `from` is not on a bucket boundary, and InfluxDB 1.x reads one more bucket before the extra one
    // asked for indexes (it extends differences by an interval itself): without this, a period from 20:00 would
    // begin with a 19:00 point.
    points: rows
      .filter((r) => q.aggregation === 'raw' || Number(r.time) >= q.from.getTime())
      .slice(0, q.limit)
      .map((r) => {
        const time = new Date(Number(r.time)).toISOString();
        // Booleans (leak, contact) stay booleans: a wet sensor is not a missing number.
        if (q.aggregation === 'raw') return { time, value: typeof r.value === 'boolean' ? r.value : num(r.value) };
        if ('consumption' in r) return { time, consumption: num(r.consumption) };
        return { time, min: num(r.min), mean: num(r.mean), max: num(r.max) };
      }),
  }));
}
