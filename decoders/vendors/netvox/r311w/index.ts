/**
 * Netvox R311W — wireless water leak sensor with two probes, DeviceType 0x06.
 * Follows the R311W user manual §5 "Data Report" (ReportType 0x01: Battery, WaterLeak1, WaterLeak2) and the Netvox
 * LoRaWAN Application Command format (see ../frame.ts). Example vectors: TTN lorawan-devices vendor/netvox/r311w-codec.yaml.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { leakDefinition, leakSpec } from '../water-leak.ts';

export const r311w: DeviceDefinition = leakDefinition(leakSpec('R311W', 0x06, 2), {
  description: 'Wireless water leak sensor, two probes (channels "1" and "2")',
  documentation: [
    { title: 'Netvox R311W User Manual, §5 Data Report', url: 'http://www.netvox.com.tw/um/R311W/R311WUsermanual.pdf' },
    { title: 'Netvox R311W codec examples (TTN Device Repository)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/netvox/r311w-codec.yaml' },
  ],
});
