/**
 * Watteco Flash'O, optical pulse reader for the LED of an electricity, water, gas or heat meter (family codes
 * 50-70-071 and, with three probes, 50-70-206).
 *
 * Follows Watteco's support pages: "Flash'O sensor" (https://support.watteco.com/flasho: one or three probes, level or counter,
 * battery voltage), "Binary Input" cluster 0x000F (count 0x0402, present value 0x0055) and "Configuration Cluster"
 * 0x0050; standard reports on fPort 125. Decoding in ../pulse.ts. Batch reports are not decoded yet (see
 * docs/decoders.md, Watteco batch frames).
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodePulseReader } from '../pulse.ts';

export const wattecoFlasho: DeviceDefinition = {
  vendor: 'Watteco',
  model: "Flash'O",
  description: "Optical pulse reader for a meter's LED (electricity, water, gas): pulse index, battery voltage",
  category: 'pulse-counter',
  fPorts: [125],
  exposes: ['metering.pulse.total', 'battery'],
  documentation: [
    { title: "Watteco support — Flash'O sensor", url: 'https://support.watteco.com/flasho' },
    { title: "Watteco Flash'O in The Things Network device repository (codec examples)", url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/watteco/flasho-codec.yaml' },
  ],
  decode: (input) => decodePulseReader(input, "Flash'O", 3),
};
