/**
 * Adeunis PULSE 4 (PULSE V4 / PULSE 4 ATEX, hardware 8230AA, APP >= 2.1.0): pulse counter interface with
 * two inputs (channels A and B; the "4" is the product generation, not a channel count) and optional
 * frame timestamps (register S318).
 *
 * Follows the Adeunis "PULSE V4 Technical Reference Manual" (APP >= 2.1.0), §2 "Radio protocol"; the
 * timestamp encoding (status bit 2, 4 bytes at the end, seconds since 2013-01-01 UTC) is taken from
 * the vendor's example in TTN lorawan-devices vendor/adeunis/pulse-codec.yaml. Layouts in ../pulse.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodePulseFrame } from '../pulse.ts';

export const pulse4: DeviceDefinition = {
  vendor: 'Adeunis',
  model: 'PULSE 4',
  description: 'LoRaWAN pulse counter interface (4th generation), 2 inputs (A, B), optional timestamps',
  category: 'pulse-counter',
  fPorts: [1],
  exposes: ['metering.pulse.total'],
  documentation: [
    { title: 'PULSE 4 / PULSE 4 ATEX product page', url: 'https://www.adeunis.com/en/produit/pulse-impulse-interface/' },
    {
      title: 'PULSE V4 Technical Reference Manual (LoRaWAN / Sigfox), copy hosted by ManualsLib',
      url: 'https://www.manualslib.com/manual/2194945/Adeunis-Rf-Pulse-V4.html',
      version: 'APP >= 2.1.0',
    },
    {
      title: 'PULSE 4 / PULSE 4 ATEX datasheet',
      url: 'https://www.adeunis.com/wp-content/uploads/2019/09/DS_PULSE-IP68-en.pdf',
    },
    {
      title: 'Adeunis codec examples (TTN Device Repository, pulse-codec.yaml)',
      url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/adeunis/pulse-codec.yaml',
    },
  ],
  decode: (input) => decodePulseFrame(input, 'timestamped'),
};
