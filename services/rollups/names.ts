/**
 * Names of the rollups, for the code that writes them and for dashboards and reports that read them over long
 * ranges. One measurement per reading measurement and resolution (`water_1h`, `electricity_1d`…), in its own
 * retention policy (`rollup_1h`, `rollup_1d`), with the readings' tags. Fields, from each quantity's field `f`:
 * - gauges (floats): `f_min`, `f_mean`, `f_max`, `f_last`;
 * - indexes (quantities marked `cumulative`): `f_diff` (consumption in the period: sum of the non-negative
 *   differences between consecutive readings, the first one taken from the last reading before the period), `f_last`;
 * - flags (booleans): `f_last`.
 * Timestamps: the start of the period (an hour in UTC; a site's local midnight for days).
 */
import { QUANTITIES, MEASUREMENTS, type Measurement, type QuantityId } from '../../decoders/model/quantities.ts';
import { CLASSES } from '../retention/classes.ts';
import { qualified } from '../storage/influxql.ts';

export const RESOLUTIONS = ['1h', '1d'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export const ROLLUP_RP: Record<Resolution, string> = { '1h': CLASSES.hourly.rp!, '1d': CLASSES.daily.rp! };

/** `water` + `1h` → `water_1h`. */
export function rollupMeasurement(measurement: Measurement, resolution: Resolution): string {
  return `${measurement}_${resolution}`;
}

/** The InfluxQL FROM target: `"rollup_1h"."water_1h"` (same text on 1.x, 2.x and 3.x). */
export function rollupFrom(measurement: Measurement, resolution: Resolution): string {
  return qualified(rollupMeasurement(measurement, resolution), ROLLUP_RP[resolution]);
}

export type GaugeStat = 'min' | 'mean' | 'max' | 'last';
export type IndexStat = 'diff' | 'last';

/** A rollup field of a quantity: `rollupField('air.temperature', 'mean')` → `temperature_c_mean`. */
export function rollupField(id: QuantityId, stat: GaugeStat | IndexStat): string {
  const q = QUANTITIES[id];
  const allowed: readonly string[] = q.type === 'boolean' ? ['last'] : 'cumulative' in q && q.cumulative ? ['diff', 'last'] : ['min', 'mean', 'max', 'last'];
  if (!allowed.includes(stat)) throw new RangeError(`${id} has no '${stat}' rollup (it has ${allowed.join(', ')})`);
  return `${q.field}_${stat}`;
}

export interface RollupFieldSpec {
  source: string;
  kind: 'gauge' | 'index' | 'flag';
  fields: string[];
}

/** The rollup fields of each reading measurement, derived from the canonical quantities. */
export function rollupFields(measurement: Measurement): RollupFieldSpec[] {
  return Object.values(QUANTITIES)
    .filter((q) => q.measurement === measurement)
    .map((q): RollupFieldSpec => {
      if (q.type === 'boolean') return { source: q.field, kind: 'flag', fields: [`${q.field}_last`] };
      if ('cumulative' in q && q.cumulative) return { source: q.field, kind: 'index', fields: [`${q.field}_diff`, `${q.field}_last`] };
      return { source: q.field, kind: 'gauge', fields: (['min', 'mean', 'max', 'last'] as const).map((s) => `${q.field}_${s}`) };
    });
}

/** Every rollup measurement, for the schema documentation and its test. */
export const ROLLUP_MEASUREMENTS = RESOLUTIONS.flatMap((r) => MEASUREMENTS.map((m) => rollupMeasurement(m, r)));

/** Where the rollup runner records its progress (in the `audit` policy, kept forever). */
export const ROLLUP_CHECKPOINT = {
  measurement: 'rollup_checkpoint',
  rp: CLASSES.audit.rp!,
  tags: ['resolution', 'zone'] as const,
  fields: { done_until_ms: 'integer: end of the last complete period (epoch ms); also the point time', periods: 'integer: periods in the step that ended there' },
} as const;
