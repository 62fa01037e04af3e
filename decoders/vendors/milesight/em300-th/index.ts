/**
 * Milesight EM300-TH, temperature and humidity sensor (IP67), a common server-room and plant-room probe.
 *
 * Follows Milesight's EM300-TH payload table (github.com/Milesight-IoT/SensorDecoders,
 * EM_Series/EM300_Series/EM300-TH/README.md, "Payload Definition"; table and examples only):
 *   01 75 battery %, 03 67 temperature INT16/10 °C, 04 68 humidity UINT8/2 %RH,
 *   20 ce history: timestamp UINT32 s + temperature INT16/10 + humidity UINT8/2 + 1 reserved byte.
 * Frame parser: ../tlv.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import {
  airTemperatureEntry,
  batteryEntry,
  decodeTlv,
  deviceInfoEntries,
  humidityEntry,
  MILESIGHT_FPORT,
  readTimestamp,
  scaled,
  tlvTable,
} from '../tlv.ts';

const MODEL = 'EM300-TH';

const table = tlvTable([
  ...deviceInfoEntries(),
  batteryEntry(),
  airTemperatureEntry(),
  humidityEntry(),
  {
    channel: 0x20, type: 0xce, size: 8, name: 'historical data',
    decode: (r, ctx) => {
      const time = readTimestamp(r);
      const temperature = scaled(r.i16le('history temperature'), 10);
      const humidity = r.u8('history humidity') / 2;
      r.skip(1, 'reserved');
      ctx.history({ timestamp: time.getTime() / 1000, temperature, humidity });
      ctx.reading('air.temperature', temperature, { time });
      ctx.reading('air.relativeHumidity', humidity, { time });
    },
  },
]);

export const em300Th: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Temperature and humidity sensor (IP67), for server rooms and plant rooms',
  category: 'indoor-climate',
  fPorts: [MILESIGHT_FPORT],
  exposes: ['air.temperature', 'air.relativeHumidity', 'batteryLevel'],
  documentation: [
    { title: 'EM300-TH payload definition and examples (Milesight SensorDecoders, EM_Series/EM300_Series/EM300-TH/README.md)', url: 'https://github.com/Milesight-IoT/SensorDecoders/tree/main/EM_Series/EM300_Series/EM300-TH' },
    { title: 'Milesight EM300-TH in The Things Network device repository (codec example)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/em300-th-codec.yaml' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
