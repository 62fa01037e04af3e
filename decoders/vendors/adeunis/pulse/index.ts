/**
 * Adeunis PULSE (v2 / v3 firmware): two-channel pulse counter interface (channels A and B).
 *
 * Follows the Adeunis "PULSE V3 Technical Reference Manual" (LoRaWAN/Sigfox, APP >= 2.0.0), §2 "Radio
 * protocol" (status byte, frame formats, §1.5.9 transmit conditions) and, for the v2 history frame 0x48,
 * the "LoRaWAN 863-870 PULSE user guide" V2.0.0 §4.1. Frame layouts are in ../pulse.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodePulseFrame } from '../pulse.ts';

export const pulse: DeviceDefinition = {
  vendor: 'Adeunis',
  model: 'PULSE',
  description: 'LoRaWAN pulse counter interface, 2 inputs (A, B), v2/v3 firmware (frames 0x30, 0x46, 0x47, 0x48, 0x5A, 0x5B)',
  category: 'pulse-counter',
  fPorts: [1],
  exposes: ['metering.pulse.total'],
  documentation: [
    {
      title: 'PULSE V3 Technical Reference Manual (LoRaWAN / Sigfox)',
      url: 'https://adeunis.notion.site/Technical-Reference-Manual-PULSE-LoRaWAN-Sigfox-V3-540c9c4780ec4ff2a5bf70ac12edc8ca',
      version: 'APP >= 2.0.0 (01-2020)',
    },
    {
      title: 'PULSE / PULSE ATEX LoRaWAN EU863-870 user guide',
      url: 'https://www.adeunis.com/wp-content/uploads/2019/09/PULSE_PULSE-ATEX_V4_LoRaWAN_EU863-870_UG_V3.2.0_FR_GB.pdf',
      version: 'V3.2.0',
    },
  ],
  decode: (input) => decodePulseFrame(input, 'classic'),
};
