/**
 * Netvox R718WA — wireless water leak detector (one probe), DeviceType 0x32.
 * Follows the R718WA user manual §5 "Data Report" (ReportType 0x01: Battery, WaterLeak) and the Netvox LoRaWAN
 * Application Command format (see ../frame.ts). Example vectors: TTN lorawan-devices vendor/netvox/r718wa-codec.yaml.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { leakDefinition, leakSpec } from '../water-leak.ts';

export const r718wa: DeviceDefinition = leakDefinition(leakSpec('R718WA', 0x32, 1), {
  description: 'Wireless water leak detector (one probe)',
  documentation: [
    { title: 'Netvox R718WA User Manual, §5 Data Report', url: 'http://www.netvox.com.tw/um/R718WA/R718WAUsermanual.pdf' },
    { title: 'Netvox R718WA codec examples (TTN Device Repository)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/netvox/r718wa-codec.yaml' },
  ],
});
