/**
 * Milesight AM100 series (AM102, AM103) indoor ambience sensors: entries shared by both models.
 *
 * Follows Milesight's payload tables for AM102/AM102L and AM103/AM103L (github.com/Milesight-IoT/SensorDecoders,
 * AM_Series/AM102/README.md and AM_Series/AM103/README.md, "Payload Definition"; tables and examples only):
 *   01 75 battery %, 03 67 temperature INT16/10 °C, 04 68 humidity UINT8/2 %RH, 07 7d CO2 UINT16 ppm (AM103),
 *   20 ce history: timestamp UINT32 s + temperature INT16/10 + humidity UINT8/2 [+ CO2 UINT16 on AM103].
 * Frame parser: ./tlv.ts.
 */
import {
  airTemperatureEntry,
  batteryEntry,
  deviceInfoEntries,
  humidityEntry,
  readTimestamp,
  scaled,
  type TlvEntry,
} from './tlv.ts';

export function am100Entries(opts: { co2: boolean }): TlvEntry[] {
  const entries: TlvEntry[] = [...deviceInfoEntries(), batteryEntry(), airTemperatureEntry(), humidityEntry()];
  if (opts.co2) {
    entries.push({
      channel: 0x07, type: 0x7d, size: 2, name: 'CO2',
      decode: (r, ctx) => {
        const v = r.u16le('co2');
        ctx.set('co2', v);
        ctx.reading('air.co2', v);
      },
    });
  }
  entries.push({
    channel: 0x20, type: 0xce, size: opts.co2 ? 9 : 7, name: 'historical data',
    decode: (r, ctx) => {
      const time = readTimestamp(r);
      const temperature = scaled(r.i16le('history temperature'), 10);
      const humidity = r.u8('history humidity') / 2;
      const record: Record<string, unknown> = { timestamp: time.getTime() / 1000, temperature, humidity };
      ctx.reading('air.temperature', temperature, { time });
      ctx.reading('air.relativeHumidity', humidity, { time });
      if (opts.co2) {
        const co2 = r.u16le('history co2');
        record.co2 = co2;
        ctx.reading('air.co2', co2, { time });
      }
      ctx.history(record);
    },
  });
  return entries;
}
