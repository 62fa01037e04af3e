/**
 * Milesight AM103 / AM103L, indoor CO2, temperature and humidity sensor (e-ink display), often used in classrooms.
 * Follows Milesight's AM103 payload table (entries in ../am100.ts, frame parser in ../tlv.ts).
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { am100Entries } from '../am100.ts';
import { decodeTlv, MILESIGHT_FPORT, tlvTable } from '../tlv.ts';

const MODEL = 'AM103';
const table = tlvTable(am100Entries({ co2: true }));

export const am103: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Indoor CO2, temperature and humidity sensor (AM103 and AM103L)',
  category: 'indoor-climate',
  fPorts: [MILESIGHT_FPORT],
  exposes: ['air.temperature', 'air.relativeHumidity', 'air.co2', 'batteryLevel'],
  documentation: [
    { title: 'AM103/AM103L payload definition and example (Milesight SensorDecoders, AM_Series/AM103/README.md)', url: 'https://github.com/Milesight-IoT/SensorDecoders/tree/main/AM_Series/AM103' },
    { title: 'Milesight AM103 in The Things Network device repository (codec example)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/am103-codec.yaml' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
