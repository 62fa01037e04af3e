/**
 * Elsys ERS CO2 (indoor temperature, humidity, light, PIR motion, CO₂).
 * Follows the Elsys payload document ("Elsys LoRa payload", https://www.elsys.se/en/elsys-payload/),
 * generic type/value structure parsed by ../tlv.ts. Uplink port is configurable on the sensor
 * (default 5; TTN's vendor example uses 1), so every application port 1..223 is accepted: the type/value items
 * identify the frame, and a port other than 5 or 1 carries a warning (added by the boundary).
 */
import type { DeviceDefinition, DecodeInput, DecodeResult, Reading } from '../../../core/types.ts';
import { emptyResult } from '../../../core/boundary.ts';
import { DecodeError } from '../../../core/errors.ts';
import { parseElsysPayload } from '../tlv.ts';

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

function decode({ bytes, fPort }: DecodeInput): DecodeResult {
  if (fPort < 1 || fPort > 223) throw new DecodeError(`fPort ${fPort} is not an application port (1..223; default 5)`);
  const { values, warnings, undecodedFrom } = parseElsysPayload(bytes, 'ERS CO2');
  const res = emptyResult();
  res.data = values;
  res.readings = elsysReadings(values);
  res.warnings.push(...warnings);
  if (undecodedFrom !== undefined) res.undecodedFrom = undecodedFrom;
  return res;
}

export const ersCo2: DeviceDefinition = {
  vendor: 'Elsys',
  model: 'ERS CO2',
  description: 'Indoor sensor: temperature, humidity, light, PIR motion count and CO₂ (NDIR), battery voltage',
  category: 'indoor-climate',
  fPorts: [5, 1],
  exposes: ['air.temperature', 'air.relativeHumidity', 'air.lightIntensity', 'action.motion.detected', 'air.co2', 'battery'],
  documentation: [
    { title: 'Elsys LoRa payload (generic type/value format)', url: 'https://www.elsys.se/en/elsys-payload/' },
    { title: 'Elsys Sensor payload (PDF)', url: 'https://elsys.se/public/documents/Sensor_payload.pdf' },
  ],
  decode,
};
