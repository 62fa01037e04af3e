/**
 * Adeunis COMFORT 2: indoor temperature and humidity sensor with history and optional timestamps.
 *
 * Follows the Adeunis COMFORT Technical Reference Manual (868 EU LoRaWAN/Sigfox, APP >= 2.1.0),
 * §2 "Radio protocol" (data frame 0x4C, alarm frame 0x4D), and the vendor's example in TTN
 * lorawan-devices vendor/adeunis/comfort-codec.yaml. Frame layouts in ../comfort.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodeComfortFrame } from '../comfort.ts';

export const comfort2: DeviceDefinition = {
  vendor: 'Adeunis',
  model: 'COMFORT 2',
  description: 'Indoor temperature and humidity sensor (LoRaWAN), periodic frames with history',
  category: 'indoor-climate',
  fPorts: [1],
  exposes: ['air.temperature', 'air.relativeHumidity'],
  documentation: [
    {
      title: 'COMFORT (temperature & humidity) product page and datasheet',
      url: 'https://www.adeunis.com/en/produit/comfort-temperature-humidity-2/',
    },
    {
      title: 'COMFORT datasheet',
      url: 'https://www.adeunis.com/wp-content/uploads/2019/09/Datasheet_ADEUNIS_COMFORT-en.pdf',
    },
    {
      title: 'Adeunis codec examples (TTN Device Repository, comfort-codec.yaml)',
      url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/adeunis/comfort-codec.yaml',
    },
  ],
  decode: (input) => decodeComfortFrame(input, false),
};
