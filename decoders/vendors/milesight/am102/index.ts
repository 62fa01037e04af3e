/**
 * Milesight AM102 / AM102L, indoor temperature and humidity sensor (e-ink display).
 * Follows Milesight's AM102 payload table (entries in ../am100.ts, frame parser in ../tlv.ts).
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { am100Entries } from '../am100.ts';
import { decodeTlv, MILESIGHT_FPORT, tlvTable } from '../tlv.ts';

const MODEL = 'AM102';
const table = tlvTable(am100Entries({ co2: false }));

export const am102: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Indoor temperature and humidity sensor (AM102 and AM102L)',
  category: 'indoor-climate',
  fPorts: [MILESIGHT_FPORT],
  exposes: ['air.temperature', 'air.relativeHumidity', 'batteryLevel'],
  documentation: [
    { title: 'AM102/AM102L payload definition and example (Milesight SensorDecoders, AM_Series/AM102/README.md)', url: 'https://github.com/Milesight-IoT/SensorDecoders/tree/main/AM_Series/AM102' },
    { title: 'Milesight AM102 in The Things Network device repository (codec example)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/am102-codec.yaml' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
