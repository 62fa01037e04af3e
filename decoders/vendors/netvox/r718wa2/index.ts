/**
 * Netvox R718WA2 — wireless 2-gang water leak detector, DeviceType 0x46.
 * Follows the R718WA2 user manual §5 "Data Report" (ReportType 0x01: Battery, WaterLeak1, WaterLeak2) and the Netvox
 * LoRaWAN Application Command format (see ../frame.ts). Example vectors: TTN lorawan-devices vendor/netvox/r718wa2-codec.yaml.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { leakDefinition, leakSpec } from '../water-leak.ts';

export const r718wa2: DeviceDefinition = leakDefinition(leakSpec('R718WA2', 0x46, 2), {
  description: 'Wireless 2-gang water leak detector (two probes, channels "1" and "2")',
  documentation: [
    { title: 'Netvox R718WA2 User Manual, §5 Data Report', url: 'http://www.netvox.com.tw/um/R718WA2/R718WA2Usermanual.pdf' },
    { title: 'Netvox R718WA2 codec examples (TTN Device Repository)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/netvox/r718wa2-codec.yaml' },
  ],
});
