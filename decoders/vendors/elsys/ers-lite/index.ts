/**
 * Elsys ERS Lite, indoor temperature and humidity sensor.
 * Follows the Elsys payload document (generic type/value items, ../tlv.ts): 0x01 temperature (0.1 °C, signed),
 * 0x02 humidity (%), 0x07 VDD (mV).
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { ELSYS_DOCUMENTS, elsysDecoder } from '../generic.ts';

const EXPOSES = ['air.temperature', 'air.relativeHumidity', 'battery'] as const;

export const ersLite: DeviceDefinition = {
  vendor: 'Elsys',
  model: 'ERS Lite',
  description: 'Indoor temperature and humidity sensor, battery voltage',
  category: 'indoor-climate',
  fPorts: [5, 1],
  exposes: [...EXPOSES],
  documentation: [
    ...ELSYS_DOCUMENTS,
    { title: 'Elsys ERS Lite in The Things Network device repository (codec example)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/elsys/ers-lite-codec.yaml' },
  ],
  decode: elsysDecoder('ERS Lite', EXPOSES),
};
