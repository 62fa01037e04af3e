/**
 * Decoder shared by the Elsys models: the generic type/value payload (./tlv.ts) mapped to
 * canonical readings (`elsysReadings`), keeping only the quantities the model carries. A value of a type the model
 * does not have (a frame from another Elsys sensor registered under this model) stays in `data` with a warning.
 * Every application port is accepted, as for the ERS CO2: the port is configurable (default 5), the type/value
 * items identify the frame, and the boundary warns about a port other than the documented ones.
 */
import { emptyResult } from '../../core/boundary.ts';
import type { DecodeInput, DecodeResult, Reading } from '../../core/types.ts';
import type { QuantityId } from '../../model/quantities.ts';
import { parseElsysPayload } from './tlv.ts';

/** Every quantity the generic type/value format can carry; each model keeps only those it measures. */
export function elsysReadings(values: Record<string, unknown>): Reading[] {
  const out: Reading[] = [];
  const num = (k: string) => (typeof values[k] === 'number' ? (values[k] as number) : undefined);
  const t = num('temperature');
  if (t !== undefined) out.push({ quantity: 'air.temperature', value: t });
  const rh = num('humidity');
  if (rh !== undefined) out.push({ quantity: 'air.relativeHumidity', value: rh });
  const lux = num('light');
  if (lux !== undefined) out.push({ quantity: 'air.lightIntensity', value: lux });
  const motion = num('motion');
  if (motion !== undefined) out.push({ quantity: 'action.motion.detected', value: motion > 0 });
  const co2 = num('co2');
  if (co2 !== undefined) out.push({ quantity: 'air.co2', value: co2 });
  const vdd = num('vdd');
  if (vdd !== undefined) out.push({ quantity: 'battery', value: vdd / 1000 });
  const p = num('pressure');
  if (p !== undefined) out.push({ quantity: 'air.pressure', value: p });
  const occ = num('occupancy');
  if (occ !== undefined) out.push({ quantity: 'presence.occupied', value: occ > 0 });
  const tvoc = num('tvoc');
  if (tvoc !== undefined) out.push({ quantity: 'air.tvocPpb', value: tvoc });
  return out;
}

export function elsysDecoder(model: string, exposes: readonly QuantityId[]): (input: DecodeInput) => DecodeResult {
  const carried = new Set<QuantityId>(exposes);
  return ({ bytes }) => {
    const { values, warnings, undecodedFrom } = parseElsysPayload(bytes, model);
    const res = emptyResult();
    res.data = values;
    for (const r of elsysReadings(values)) {
      if (carried.has(r.quantity)) res.readings.push(r);
      else res.warnings.push(`${model}: ${r.quantity} is not measured by this model; kept in data only`);
    }
    res.warnings.push(...warnings);
    if (undecodedFrom !== undefined) res.undecodedFrom = undecodedFrom;
    return res;
  };
}

export const ELSYS_DOCUMENTS = [
  { title: 'Elsys LoRa payload (generic type/value format)', url: 'https://www.elsys.se/en/elsys-payload/' },
  { title: 'Elsys Sensor payload (PDF)', url: 'https://elsys.se/public/documents/Sensor_payload.pdf' },
];
