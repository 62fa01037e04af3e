/**
 * Milesight AM307, indoor ambience sensor (temperature, humidity, PIR, light level, CO2, TVOC, pressure).
 * Follows the AM300 series user guide, "Device Payload"; entry layouts in ../am300.ts, frame parser in ../tlv.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { am300Entries } from '../am300.ts';
import { decodeTlv, MILESIGHT_FPORT, tlvTable } from '../tlv.ts';

const MODEL = 'AM307';
const table = tlvTable(am300Entries({ airQualityPlus: false }));

export const am307: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Indoor ambience sensor: temperature, humidity, PIR motion, light level, CO2, TVOC, barometric pressure',
  category: 'indoor-climate',
  fPorts: [MILESIGHT_FPORT],
  exposes: [
    'air.temperature',
    'air.relativeHumidity',
    'action.motion.detected',
    'air.co2',
    'air.tvocIndex',
    'air.tvoc',
    'air.pressure',
    'batteryLevel',
  ],
  documentation: [
    { title: 'AM300 Series User Guide, Device Payload', url: 'https://resource.milesight.com/milesight/iot/document/am300-series-user-guide-en.pdf' },
    { title: 'AM307 payload table and examples (Milesight SensorDecoders README)', url: 'https://github.com/Milesight-IoT/SensorDecoders/tree/main/am-series/am307' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
