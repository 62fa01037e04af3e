/**
 * Elsys ERS CO2 (indoor temperature, humidity, light, PIR motion, CO₂).
 * Follows the Elsys payload document ("Elsys LoRa payload", https://www.elsys.se/en/elsys-payload/),
 * generic type/value structure parsed by ../tlv.ts. Uplink port is configurable on the sensor
 * (default 5; TTN's vendor example uses 1), so every application port 1..223 is accepted (the boundary rejects
 * the others): the type/value items identify the frame, and a port other than 5 or 1 carries a warning.
 * Like the other Elsys models, readings are limited to what the ERS CO2 measures: a pressure, occupancy or TVOC
 * item (a frame from another Elsys sensor registered under this model) stays in `data` with a warning.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { ELSYS_DOCUMENTS, elsysDecoder } from '../generic.ts';

const EXPOSES = ['air.temperature', 'air.relativeHumidity', 'air.lightIntensity', 'action.motion.detected', 'air.co2', 'battery'] as const;

export const ersCo2: DeviceDefinition = {
  vendor: 'Elsys',
  model: 'ERS CO2',
  description: 'Indoor sensor: temperature, humidity, light, PIR motion count and CO₂ (NDIR), battery voltage',
  category: 'indoor-climate',
  fPorts: [5, 1],
  exposes: [...EXPOSES],
  documentation: [...ELSYS_DOCUMENTS],
  decode: elsysDecoder('ERS CO2', EXPOSES),
};
