/**
 * Elsys ERS, indoor sensor: temperature, humidity, light, PIR motion count, battery voltage.
 * Follows the Elsys payload document (generic type/value items, ../tlv.ts): 0x01 temperature (0.1 °C, signed),
 * 0x02 humidity (%), 0x04 light (lux), 0x05 motion (count of PIR triggers since the last uplink), 0x07 VDD (mV).
 * Motion becomes `action.motion.detected` (count > 0); the count itself stays in `data`.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { ELSYS_DOCUMENTS, elsysDecoder } from '../generic.ts';

const EXPOSES = ['air.temperature', 'air.relativeHumidity', 'air.lightIntensity', 'action.motion.detected', 'battery'] as const;

export const ers: DeviceDefinition = {
  vendor: 'Elsys',
  model: 'ERS',
  description: 'Indoor sensor: temperature, humidity, light, PIR motion count, battery voltage',
  category: 'indoor-climate',
  fPorts: [5, 1],
  exposes: [...EXPOSES],
  documentation: [
    ...ELSYS_DOCUMENTS,
    { title: 'Elsys ERS in The Things Network device repository (codec example)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/elsys/ers-codec.yaml' },
  ],
  decode: elsysDecoder('ERS', EXPOSES),
};
