/**
 * Milesight EM500-CO2, CO2 / temperature / humidity / barometric pressure sensor.
 *
 * Follows Milesight "EM500-CO2 Uplink Data"
 * (https://www.milesight.com/products/docs/en/em500-co2/protocol/em500/em500-co2-uplink.html):
 *   01 75 battery %, 03 67 temperature INT16/10 °C, 04 68 humidity UINT8/2 %RH, 05 7d CO2 UINT16 ppm,
 *   06 73 barometric pressure UINT16/10 hPa, 83 d7 temperature mutation alarm (temperature INT16/10 + mutation
 *   INT16/10 + 02), 20 ce history (timestamp UINT32 s + CO2 + pressure + temperature + humidity).
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

const MODEL = 'EM500-CO2';

const table = tlvTable([
  ...deviceInfoEntries(),
  batteryEntry(),
  airTemperatureEntry(),
  humidityEntry(),
  {
    channel: 0x05, type: 0x7d, size: 2, name: 'CO2',
    decode: (r, ctx) => {
      const v = r.u16le('co2');
      ctx.set('co2', v);
      ctx.reading('air.co2', v);
    },
  },
  {
    channel: 0x06, type: 0x73, size: 2, name: 'barometric pressure',
    decode: (r, ctx) => {
      const v = scaled(r.u16le('pressure'), 10);
      ctx.set('pressure', v);
      ctx.reading('air.pressure', v);
    },
  },
  {
    channel: 0x83, type: 0xd7, size: 5, name: 'temperature mutation alarm',
    decode: (r, ctx) => {
      const t = scaled(r.i16le('temperature'), 10);
      const change = scaled(r.i16le('mutation temperature'), 10);
      const alarm = r.u8('alarm type');
      ctx.set('temperature', t);
      ctx.set('temperature_change', change);
      ctx.set('temperature_alarm', alarm === 2 ? 'mutation alarm' : `unknown (${alarm})`);
      ctx.reading('air.temperature', t);
      ctx.event('alarm', `temperature mutation alarm (change ${change} °C)`);
    },
  },
  {
    channel: 0x20, type: 0xce, size: 11, name: 'historical data',
    decode: (r, ctx) => {
      const time = readTimestamp(r);
      const co2 = r.u16le('history co2');
      const pressure = scaled(r.u16le('history pressure'), 10);
      const temperature = scaled(r.i16le('history temperature'), 10);
      const humidity = r.u8('history humidity') / 2;
      ctx.history({ timestamp: time.getTime() / 1000, co2, pressure, temperature, humidity });
      ctx.reading('air.co2', co2, { time });
      ctx.reading('air.pressure', pressure, { time });
      ctx.reading('air.temperature', temperature, { time });
      ctx.reading('air.relativeHumidity', humidity, { time });
    },
  },
]);

export const em500Co2: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'CO2, temperature, humidity and barometric pressure sensor',
  category: 'indoor-climate',
  fPorts: [MILESIGHT_FPORT],
  exposes: ['air.co2', 'air.temperature', 'air.relativeHumidity', 'air.pressure', 'batteryLevel'],
  documentation: [
    { title: 'EM500-CO2 Uplink Data (Milesight documentation center)', url: 'https://www.milesight.com/products/docs/en/em500-co2/protocol/em500/em500-co2-uplink.html' },
    { title: 'EM500-CO2 User Guide', url: 'https://resource.milesight.com/milesight/iot/document/em500-co2-user-guide-en.pdf' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
