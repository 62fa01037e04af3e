/**
 * Milesight AM319, indoor ambience sensor: AM307 quantities plus PM2.5, PM10 and HCHO or O3 (sensor option).
 * Follows the AM300 series user guide, "Device Payload"; entry layouts in ../am300.ts, frame parser in ../tlv.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { am300Entries } from '../am300.ts';
import { decodeTlv, MILESIGHT_FPORT, tlvTable } from '../tlv.ts';

const MODEL = 'AM319';
const table = tlvTable(am300Entries({ airQualityPlus: true }));

export const am319: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Indoor ambience sensor: temperature, humidity, PIR, light level, CO2, TVOC, pressure, PM2.5, PM10, HCHO or O3',
  category: 'indoor-climate',
  fPorts: [MILESIGHT_FPORT],
  exposes: [
    'air.temperature',
    'air.relativeHumidity',
    'action.motion.detected',
    'air.co2',
    'air.tvocIndex',
    'air.tvoc',
    'air.pressure',
    'air.hcho',
    'air.pm2_5',
    'air.pm10',
    'batteryLevel',
  ],
  documentation: [
    { title: 'AM300 Series User Guide, Device Payload', url: 'https://resource.milesight.com/milesight/iot/document/am300-series-user-guide-en.pdf' },
    { title: 'AM319 (HCHO) payload table and examples (Milesight SensorDecoders README)', url: 'https://github.com/Milesight-IoT/SensorDecoders/tree/main/am-series/am319-hcho' },
    { title: 'AM319 (O3) payload table and examples (Milesight SensorDecoders README)', url: 'https://github.com/Milesight-IoT/SensorDecoders/tree/main/am-series/am319-o3' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
