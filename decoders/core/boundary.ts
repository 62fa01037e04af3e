import { QUANTITIES, isQuantityId } from '../model/quantities.ts';
import { DecodeError } from './errors.ts';
import type { DecodeInput, DecodeResult, DeviceDefinition, Reading } from './types.ts';

/**
 * The one place a decoder's output enters the service: catches any throw, checks every reading
 * against the canonical model (known quantity, right value type, finite number), and turns
 * problems into `errors` instead of exceptions. The service only ever calls decoders through this.
 */
export function decodeUplink(device: Pick<DeviceDefinition, 'model' | 'decode'>, input: DecodeInput): DecodeResult {
  let result: DecodeResult;
  try {
    result = device.decode(input);
  } catch (err) {
    const reason = err instanceof DecodeError ? err.message : `decoder failure: ${(err as Error)?.message ?? String(err)}`;
    return { data: {}, readings: [], events: [], warnings: [], errors: [`${device.model}: ${reason}`] };
  }
  const errors = [...(result.errors ?? [])];
  const readings: Reading[] = [];
  for (const r of result.readings ?? []) {
    const problem = checkReading(r);
    if (problem) errors.push(`${device.model}: ${problem}`);
    else readings.push(r);
  }
  // TS013 semantics: any error means the uplink was not decoded; it is then kept raw, not half-stored.
  return {
    data: result.data ?? {},
    readings: errors.length > 0 ? [] : readings,
    events: result.events ?? [],
    warnings: result.warnings ?? [],
    errors,
  };
}

function checkReading(r: Reading): string | undefined {
  if (!isQuantityId(r.quantity)) return `unknown quantity '${String(r.quantity)}'`;
  const spec = QUANTITIES[r.quantity];
  if (spec.type === 'boolean' && typeof r.value !== 'boolean') return `${r.quantity} expects a boolean, got ${typeof r.value}`;
  if (spec.type === 'float' && (typeof r.value !== 'number' || !Number.isFinite(r.value))) {
    return `${r.quantity} expects a finite number, got ${String(r.value)}`;
  }
  if (r.time && Number.isNaN(r.time.getTime())) return `${r.quantity} has an invalid timestamp`;
  return undefined;
}

/** Shorthand for decoders: an empty result to fill. */
export function emptyResult(): DecodeResult {
  return { data: {}, readings: [], events: [], warnings: [], errors: [] };
}
