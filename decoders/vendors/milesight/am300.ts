/**
 * Milesight AM300 series indoor ambience sensors: entries shared by AM307 and AM319.
 *
 * Follows the AM300 series user guide "Device Payload" chapter
 * (https://resource.milesight.com/milesight/iot/document/am300-series-user-guide-en.pdf) as tabulated in Milesight's
 * published payload pages for AM307 / AM319 (github.com/Milesight-IoT/SensorDecoders, am-series/*\/README.md, format
 * tables and examples only):
 *   01 75 battery %, 03 67 temperature INT16/10 °C, 04 68 humidity UINT8/2 %RH, 05 00 PIR (00 idle, 01 trigger),
 *   06 cb light level UINT8 (level, not lux), 07 7d CO2 UINT16 ppm, 08 7d TVOC UINT16/100 (IAQ level),
 *   08 e6 TVOC UINT16 µg/m³, 09 73 pressure UINT16/10 hPa, 0a 7d HCHO UINT16/100 mg/m³, 0b 7d PM2.5 UINT16 µg/m³,
 *   0c 7d PM10 UINT16 µg/m³, 0d 7d O3 UINT16/100 ppm, 0e 01 buzzer (00 off, 01 on),
 *   20 ce / 21 ce history: timestamp UINT32 s + temperature + humidity (UINT16/2) + PIR + light level + CO2 + TVOC
 *   (20: IAQ level /100, 21: µg/m³) + pressure [+ PM2.5 + PM10 + HCHO or O3 on AM319].
 * Light level has no lux value and O3 has no canonical quantity: both stay in `data`. On AM319 the last history
 * field is HCHO (mg/m³) or O3 (ppm) depending on the sensor fitted, which the record does not say: it is kept
 * in `data` as `hcho_o3` with a warning and produces no reading.
 */
import type { ByteReader } from '../../core/reader.ts';
import {
  airTemperatureEntry,
  batteryEntry,
  deviceInfoEntries,
  humidityEntry,
  readTimestamp,
  scaled,
  type TlvContext,
  type TlvEntry,
} from './tlv.ts';

const PIR = ['idle', 'trigger'];

function pir(ctx: TlvContext, raw: number, time?: Date): string {
  const name = PIR[raw] ?? `unknown (${raw})`;
  if (raw <= 1) ctx.reading('action.motion.detected', raw === 1, time ? { time } : {});
  return name;
}

const simple = (
  channel: number,
  type: number,
  name: string,
  field: string,
  read: (r: ByteReader) => number,
  onValue: (ctx: TlvContext, v: number) => void,
  size = 2,
): TlvEntry => ({
  channel, type, size, name,
  decode: (r, ctx) => {
    const v = read(r);
    ctx.set(field, v);
    onValue(ctx, v);
  },
});

export function am300Entries(opts: { airQualityPlus: boolean }): TlvEntry[] {
  const entries: TlvEntry[] = [
    ...deviceInfoEntries(),
    batteryEntry(),
    airTemperatureEntry(),
    humidityEntry(),
    {
      channel: 0x05, type: 0x00, size: 1, name: 'PIR',
      decode: (r, ctx) => ctx.set('pir', pir(ctx, r.u8('pir'))),
    },
    simple(0x06, 0xcb, 'light level', 'light_level', (r) => r.u8('light level'), () => {}, 1),
    simple(0x07, 0x7d, 'CO2', 'co2', (r) => r.u16le('co2'), (ctx, v) => ctx.reading('air.co2', v)),
    simple(0x08, 0x7d, 'TVOC (IAQ level)', 'tvoc', (r) => scaled(r.u16le('tvoc'), 100), (ctx, v) => ctx.reading('air.tvocIndex', v)),
    simple(0x08, 0xe6, 'TVOC (µg/m³)', 'tvoc', (r) => r.u16le('tvoc'), (ctx, v) => ctx.reading('air.tvoc', v)),
    simple(0x09, 0x73, 'pressure', 'pressure', (r) => scaled(r.u16le('pressure'), 10), (ctx, v) => ctx.reading('air.pressure', v)),
    {
      channel: 0x0e, type: 0x01, size: 1, name: 'buzzer',
      decode: (r, ctx) => ctx.set('buzzer_status', r.u8('buzzer') === 1 ? 'on' : 'off'),
    },
    historyEntry(0x20, 'iaq', opts.airQualityPlus),
    historyEntry(0x21, 'ugm3', opts.airQualityPlus),
  ];
  if (opts.airQualityPlus) {
    entries.push(
      simple(0x0a, 0x7d, 'HCHO', 'hcho', (r) => scaled(r.u16le('hcho'), 100), (ctx, v) => ctx.reading('air.hcho', v)),
      simple(0x0b, 0x7d, 'PM2.5', 'pm2_5', (r) => r.u16le('pm2.5'), (ctx, v) => ctx.reading('air.pm2_5', v)),
      simple(0x0c, 0x7d, 'PM10', 'pm10', (r) => r.u16le('pm10'), (ctx, v) => ctx.reading('air.pm10', v)),
      simple(0x0d, 0x7d, 'O3', 'o3', (r) => scaled(r.u16le('o3'), 100), () => {}),
    );
  }
  return entries;
}

function historyEntry(channel: number, tvocUnit: 'iaq' | 'ugm3', airQualityPlus: boolean): TlvEntry {
  return {
    channel, type: 0xce, size: airQualityPlus ? 22 : 16, name: `historical data (${channel === 0x20 ? 'TVOC level' : 'TVOC µg/m³'})`,
    decode: (r, ctx) => {
      const time = readTimestamp(r);
      const at = { time };
      const temperature = scaled(r.i16le('history temperature'), 10);
      const humidity = r.u16le('history humidity') / 2;
      const pirRaw = r.u8('history pir');
      const light_level = r.u8('history light level');
      const co2 = r.u16le('history co2');
      const tvocRaw = r.u16le('history tvoc');
      const pressure = scaled(r.u16le('history pressure'), 10);
      const record: Record<string, unknown> = { timestamp: time.getTime() / 1000, temperature, humidity };
      ctx.reading('air.temperature', temperature, at);
      ctx.reading('air.relativeHumidity', humidity, at);
      record.pir = pir(ctx, pirRaw, time);
      record.light_level = light_level;
      record.co2 = co2;
      ctx.reading('air.co2', co2, at);
      if (tvocUnit === 'iaq') {
        record.tvoc = scaled(tvocRaw, 100);
        ctx.reading('air.tvocIndex', record.tvoc as number, at);
      } else {
        record.tvoc = tvocRaw;
        ctx.reading('air.tvoc', tvocRaw, at);
      }
      record.pressure = pressure;
      ctx.reading('air.pressure', pressure, at);
      if (airQualityPlus) {
        const pm2_5 = r.u16le('history pm2.5');
        const pm10 = r.u16le('history pm10');
        const last = scaled(r.u16le('history hcho/o3'), 100);
        record.pm2_5 = pm2_5;
        record.pm10 = pm10;
        record.hcho_o3 = last;
        ctx.reading('air.pm2_5', pm2_5, at);
        ctx.reading('air.pm10', pm10, at);
        const note = 'history field hcho_o3 is HCHO (mg/m³) or O3 (ppm) depending on the fitted sensor; kept in data only';
        if (!ctx.result.warnings.some((m) => m.includes(note))) ctx.warn(note);
      }
      ctx.history(record);
    },
  };
}
