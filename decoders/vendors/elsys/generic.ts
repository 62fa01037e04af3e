/**
 * Decoder shared by the Elsys models added after the ERS CO2: the generic type/value payload (./tlv.ts) mapped to
 * canonical readings (`elsysReadings`), keeping only the quantities the model carries. A value of a type the model
 * does not have (a frame from another Elsys sensor registered under this model) stays in `data` with a warning.
 * Every application port is accepted, as for the ERS CO2: the port is configurable (default 5), the type/value
 * items identify the frame, and the boundary warns about a port other than the documented ones.
 */
import { emptyResult } from '../../core/boundary.ts';
import type { DecodeInput, DecodeResult } from '../../core/types.ts';
import type { QuantityId } from '../../model/quantities.ts';
import { elsysReadings } from './ers-co2/index.ts';
import { parseElsysPayload } from './tlv.ts';

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
