/**
 * Watteco Pulse Sens'O, pulse counter with up to three inputs (dry contact or open collector outputs of water, gas or
 * electricity meters).
 *
 * Follows Watteco's support page "Pulse Sens'O sensor" (https://support.nke-watteco.com/pulsesenso: three digital
 * inputs, level or counter, battery voltage), the "Binary Input" cluster 0x000F (count 0x0402, present
 * value 0x0055, one endpoint per input) and "Configuration Cluster" 0x0050; standard reports on fPort 125. Decoding in
 * ../pulse.ts. The multi-input state cluster 0x8005 of Watteco's example is kept in `data` with a warning (its
 * layout is not in the pages followed); batch reports are not decoded yet.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodePulseReader } from '../pulse.ts';

export const wattecoPulseSenso: DeviceDefinition = {
  vendor: 'Watteco',
  model: "Pulse Sens'O",
  description: 'Pulse counter with three inputs (water, gas, electricity meters): pulse indexes, battery voltage',
  category: 'pulse-counter',
  fPorts: [125],
  exposes: ['metering.pulse.total', 'battery'],
  documentation: [
    { title: "Watteco support — Pulse Sens'O", url: 'https://support.nke-watteco.com/pulsesenso' },
    { title: "Watteco Pulse Sens'O in The Things Network device repository (codec examples)", url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/watteco/pulse-senso-codec.yaml' },
  ],
  decode: (input) => decodePulseReader(input, "Pulse Sens'O", 3),
};
