import { QUANTITIES, isQuantityId } from '../model/quantities.ts';
import { DecodeError } from './errors.ts';
import type { DecodeInput, DecodeResult, DeviceDefinition, Reading } from './types.ts';

/**
 * The one place a decoder's output enters the service: catches any throw, checks every reading
 * against the canonical model (known quantity, right value type, finite number), and turns
 * problems into `errors` instead of exceptions. The service only ever calls decoders through this.
 *
 * It also applies the lenient-decoding rules every decoder shares: a frame of which nothing could be decoded
 * (`undecodedFrom` 0) is an error, and a frame decoded on a port that is not one of the model's `fPorts` (the
 * decoder accepted it because the frame identifies itself) carries a warning saying so.
 */
export function decodeUplink(
  device: Pick<DeviceDefinition, 'model' | 'decode'> & Partial<Pick<DeviceDefinition, 'fPorts'>>,
  input: DecodeInput,
): DecodeResult {
  const failed = (message: string): DecodeResult => ({ data: {}, readings: [], events: [], warnings: [], errors: [`${device.model}: ${message}`] });
  // Port 0 carries MAC commands and 224..255 are reserved: never application data, whatever the bytes say.
  if (!Number.isInteger(input.fPort) || input.fPort < 1 || input.fPort > 223) {
    return failed(`fPort ${input.fPort} is not an application port (1..223)`);
  }
  let result: ReturnType<DeviceDefinition['decode']>;
  try {
    result = device.decode(input);
  } catch (err) {
    return failed(err instanceof DecodeError ? err.message : `decoder failure: ${(err as Error)?.message ?? String(err)}`);
  }
  const errors = [...(result.errors ?? [])];
  const warnings = [...(result.warnings ?? [])];
  if (errors.length === 0 && result.undecodedFrom === 0) {
    // Nothing before the first thing not understood: the frame cannot be parsed at all.
    errors.push(`${device.model}: nothing could be decoded: ${warnings.join('; ') || 'unknown content at byte 0'}`);
  }
  const readings: Reading[] = [];
  for (const r of result.readings ?? []) {
    const problem = checkReading(r);
    if (problem) errors.push(`${device.model}: ${problem}`);
    else readings.push(r);
  }
  const out: DecodeResult = {
    data: result.data ?? {},
    // TS013 semantics: any error means the uplink was not decoded; it is then kept raw, not half-stored.
    readings: errors.length > 0 ? [] : readings,
    events: result.events ?? [],
    warnings,
    errors,
  };
  if (errors.length > 0) return out;
  if (result.undecodedFrom !== undefined) out.undecodedFrom = result.undecodedFrom;
  if (device.fPorts && device.fPorts.length > 0 && !device.fPorts.includes(input.fPort)) {
    out.unlistedPort = true;
    out.warnings.push(
      `${device.model}: fPort ${input.fPort} is not the model's documented uplink port (${device.fPorts.join(', ')}); decoded because the frame identifies itself`,
    );
  }
  return out;
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
