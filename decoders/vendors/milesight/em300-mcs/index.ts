/**
 * Milesight EM300-MCS, magnetic contact switch with temperature and humidity (server-room or technical-room door).
 *
 * Follows Milesight's EM300-MCS payload table (github.com/Milesight-IoT/SensorDecoders,
 * EM_Series/EM300_Series/EM300-MCS/README.md, "Payload Definition"; table and examples only):
 *   01 75 battery %, 03 67 temperature INT16/10 °C, 04 68 humidity UINT8/2 %RH, 06 00 magnet status (0 close, 1 open),
 *   20 ce history: timestamp UINT32 s + temperature INT16/10 + humidity UINT8/2 + magnet status.
 * Frame parser: ../tlv.ts. A magnet status other than 0 or 1 is kept in `data` and gives no reading.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import type { TlvContext } from '../tlv.ts';
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

const MODEL = 'EM300-MCS';

function magnet(ctx: TlvContext, raw: number, time?: Date): string {
  if (raw > 1) {
    ctx.warn(`magnet status ${raw} is not documented (0 close, 1 open); not stored`);
    return `unknown (${raw})`;
  }
  ctx.reading('action.contactState', raw === 1, time ? { time } : {});
  return raw === 1 ? 'open' : 'close';
}

const table = tlvTable([
  ...deviceInfoEntries(),
  batteryEntry(),
  airTemperatureEntry(),
  humidityEntry(),
  {
    channel: 0x06, type: 0x00, size: 1, name: 'magnet status',
    decode: (r, ctx) => ctx.set('magnet_status', magnet(ctx, r.u8('magnet status'))),
  },
  {
    channel: 0x20, type: 0xce, size: 8, name: 'historical data',
    decode: (r, ctx) => {
      const time = readTimestamp(r);
      const temperature = scaled(r.i16le('history temperature'), 10);
      const humidity = r.u8('history humidity') / 2;
      ctx.reading('air.temperature', temperature, { time });
      ctx.reading('air.relativeHumidity', humidity, { time });
      const magnet_status = magnet(ctx, r.u8('history magnet status'), time);
      ctx.history({ timestamp: time.getTime() / 1000, temperature, humidity, magnet_status });
    },
  },
]);

export const em300Mcs: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Magnetic contact switch (door or window open/closed) with temperature and humidity',
  category: 'indoor-climate',
  fPorts: [MILESIGHT_FPORT],
  exposes: ['action.contactState', 'air.temperature', 'air.relativeHumidity', 'batteryLevel'],
  documentation: [
    { title: 'EM300-MCS payload definition and examples (Milesight SensorDecoders, EM_Series/EM300_Series/EM300-MCS/README.md)', url: 'https://github.com/Milesight-IoT/SensorDecoders/tree/main/EM_Series/EM300_Series/EM300-MCS' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
