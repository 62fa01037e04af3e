/**
 * Watteco pulse readers (Flash'O, optical probe on a meter's LED; Pulse Sens'O, up to three pulse inputs): standard
 * reports of the Binary Input cluster 0x000F, attribute 0x0402 "count" (the pulse index, u32) and 0x0055 "present
 * value" (the input level, boolean), one endpoint per input (Fctrl 0x11 → input 1, 0x31 → 2, 0x51 → 3); the
 * Configuration cluster 0x0050 gives the battery voltage. Frame and cluster parsing: ./zcl.ts, ./clusters.ts.
 *
 * The shared cluster interpreter reads 0x000F/0x0055 as the TH's case-violation detector; on these products the
 * same attribute is the input level ("pin state" in Watteco's codec examples), so it is renamed here and raises no
 * tamper event. The count becomes `metering.pulse.total` on the input's channel ("1".."3"); its medium and weight come
 * from the device registry (`pulse: {quantity, perPulse}`), as for every pulse counter.
 */
import type { DecodeInput, DecodeResult } from '../../core/types.ts';
import { decodeWatteco } from './clusters.ts';

const CLUSTERS = [0x0000, 0x000f, 0x0050, 0x8004] as const;

export function decodePulseReader(input: DecodeInput, model: string, inputs: number): DecodeResult {
  const out = decodeWatteco(input, { model, clusters: CLUSTERS });
  const endpoint = typeof out.data.endpoint === 'number' ? out.data.endpoint : 0;
  const channel = String(endpoint + 1);
  if (out.data.cluster !== '0x000f') return out;
  if (endpoint >= inputs) {
    out.warnings.push(`${model}: endpoint ${endpoint} is not one of its ${inputs} input(s); not stored`);
    delete out.data.index;
    return out;
  }
  if (Object.hasOwn(out.data, 'violation_detection')) {
    out.data.pin_state = out.data.violation_detection;
    delete out.data.violation_detection;
    out.events = out.events.filter((e) => e.type !== 'tamper');
  }
  if (typeof out.data.index === 'number') out.readings.push({ quantity: 'metering.pulse.total', value: out.data.index, channel });
  out.data.input = Number(channel);
  return out;
}
