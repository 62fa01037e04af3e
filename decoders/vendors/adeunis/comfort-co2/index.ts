/**
 * Adeunis COMFORT CO2: indoor CO2, temperature and humidity sensor with history and optional timestamps.
 *
 * Follows the Adeunis COMFORT CO2 Technical Reference Manual (APP >= 2.3.x), §1.2 applicative registers
 * (S301 history logs per frame, S318 time stamping) and §2 "Radio protocol" (data frame 0x6A), with the
 * vendor's example in TTN lorawan-devices vendor/adeunis/comfort-co2-codec.yaml. Layouts in ../comfort.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodeComfortFrame } from '../comfort.ts';

export const comfortCo2: DeviceDefinition = {
  vendor: 'Adeunis',
  model: 'COMFORT CO2',
  description: 'Indoor CO2, temperature and humidity sensor (LoRaWAN), periodic frames with history',
  category: 'indoor-climate',
  fPorts: [1],
  exposes: ['air.co2', 'air.temperature', 'air.relativeHumidity'],
  documentation: [
    {
      title: 'COMFORT CO2 Technical Reference Manual (LoRaWAN / Sigfox)',
      url: 'https://adeunis.notion.site/Technical-Reference-Manual-COMFORT-CO2-LoRaWAN-Sigfox-RC1-11e61a737e9b4edbab6910d363be8df7',
      version: 'APP 2.3.2',
    },
    {
      title: 'COMFORT CO2 datasheet',
      url: 'https://www.adeunis.com/wp-content/uploads/2021/05/DS_COMFORT-CO2_EN_2021-1.pdf',
    },
  ],
  decode: (input) => decodeComfortFrame(input, true),
};
