/**
 * Milesight EM300-ZLD (zone / rope leak) and EM300-SLD (spot leak): one frame format.
 *
 * Follows Milesight "EM300-ZLD Uplink Data"
 * (https://www.milesight.com/products/docs/en/em300-zld/protocol/em300/em300-uplink.html): battery 01 75,
 * temperature 03 67 (INT16/10 °C), humidity 04 68 (UINT8/2 %RH), water leakage 05 00 (00 not leak, 01 leaked),
 * historical data 20 ce (timestamp UINT32 s + temperature + humidity + leak), and the same section of the
 * EM300 series user guide (§5.2 "Sensor Data"), which the EM300-SLD shares.
 */
import type { DecodeInput, DecodeResult, DeviceDefinition } from '../../core/types.ts';
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
  type TlvEntry,
} from './tlv.ts';

const LEAK = ['normal', 'leak'] as const;

function leakStatus(raw: number): 'normal' | 'leak' | undefined {
  return LEAK[raw];
}

const entries: TlvEntry[] = [
  ...deviceInfoEntries(),
  batteryEntry(),
  airTemperatureEntry(),
  humidityEntry(),
  {
    channel: 0x05, type: 0x00, size: 1, name: 'water leakage',
    decode: (r, ctx) => {
      const raw = r.u8('leakage status');
      const status = leakStatus(raw);
      if (status === undefined) {
        ctx.set('leakage_status', `unknown (${raw})`);
        ctx.warn(`leakage status ${raw} is not 00 (not leak) or 01 (leaked); not stored`);
        return;
      }
      ctx.set('leakage_status', status);
      ctx.reading('water.leak', status === 'leak');
      if (status === 'leak') ctx.event('leak', 'water leakage detected');
    },
  },
  {
    channel: 0x20, type: 0xce, size: 8, name: 'historical data',
    decode: (r, ctx) => {
      const time = readTimestamp(r);
      const temperature = scaled(r.i16le('history temperature'), 10);
      const humidity = r.u8('history humidity') / 2;
      const raw = r.u8('history leakage status');
      const status = leakStatus(raw);
      ctx.history({ timestamp: time.getTime() / 1000, temperature, humidity, leakage_status: status ?? `unknown (${raw})` });
      ctx.reading('air.temperature', temperature, { time });
      ctx.reading('air.relativeHumidity', humidity, { time });
      if (status !== undefined) ctx.reading('water.leak', status === 'leak', { time });
      else ctx.warn(`history leakage status ${raw} is not 00 or 01; not stored`);
    },
  },
];

const table = tlvTable(entries);

export function em300LeakDefinition(model: 'EM300-ZLD' | 'EM300-SLD', description: string, productPage: string): DeviceDefinition {
  return {
    vendor: 'Milesight',
    model,
    description,
    category: 'water-leak',
    fPorts: [MILESIGHT_FPORT],
    exposes: ['water.leak', 'air.temperature', 'air.relativeHumidity', 'batteryLevel'],
    documentation: [
      {
        title: 'EM300-ZLD/SLD Uplink Data (Milesight documentation center)',
        url: 'https://www.milesight.com/products/docs/en/em300-zld/protocol/em300/em300-uplink.html',
      },
      { title: 'EM300 Series User Guide, §5 Uplink Packets', url: 'https://resource.milesight.com/milesight/iot/document/em300-series-user-guide-en.pdf' },
      { title: `${model} product page`, url: productPage },
    ],
    decode: (input: DecodeInput): DecodeResult => decodeTlv(model, table, input),
  };
}
