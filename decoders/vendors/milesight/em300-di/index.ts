/**
 * Milesight EM300-DI, pulse counter / digital input with temperature and humidity, including the firmware
 * (water-meter, Hall-sensor) variant that reports the counter converted into a water volume.
 *
 * Follows Milesight "EM300-DI Uplink Data"
 * (https://www.milesight.com/products/docs/en/em300-di/protocol/em300/em300-di-uplink.html):
 *   01 75 battery, 03 67 temperature (INT16/10 °C), 04 68 humidity (UINT8/2 %RH),
 *   05 00 digital input (00 low, 01 high), 85 00 digital input alarm (state + 00 dismiss / 01 alarm),
 *   05 c8 pulse counter UINT32 (firmware ≤ 1.2),
 *   05 e1 water: water conversion UINT16/10 + pulse conversion UINT16/10 + water consumption float32,
 *   85 e1 the same + alarm status (01 water outage timeout alarm, 02 its dismiss, 03 water flow timeout alarm, 04 its dismiss),
 *   20 ce history (firmware ≤ 1.2) and 21 ce history (water variant), each with its own Unix timestamp.
 * Where that table and Milesight's published example disagree, the example is followed (see the notes below).
 *
 * Notes:
 * - 20 ce: the table lists "interface type, pulse counter, digital status"; Milesight's example
 *   20ce9e74466310015d020000010000 (pulse 256) only decodes as interface type, digital status, pulse counter,
 *   and 21 ce keeps that order too, so this decoder reads type (1) + digital status (1) + pulse (4).
 * - Milesight's Hall-variant example 017564 06e10a000a0000000000 sends the water entry on channel 06: both 05 e1
 *   and 06 e1 are accepted.
 * - The water volume's unit is the one configured on the device (pulse conversion unit, not sent in the frame), so it
 *   stays in `data` with a warning and yields no canonical water reading; the raw counter (05 c8) yields
 *   `metering.pulse.total`, whose weight is set in the registry.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import type { ByteReader } from '../../../core/reader.ts';
import {
  airTemperatureEntry,
  batteryEntry,
  decodeTlv,
  deviceInfoEntries,
  humidityEntry,
  MILESIGHT_FPORT,
  readTimestamp,
  round2,
  scaled,
  tlvTable,
  type TlvContext,
  type TlvEntry,
} from '../tlv.ts';

const MODEL = 'EM300-DI';
const GPIO = ['low', 'high'];
const GPIO_TYPE: Record<number, string> = { 1: 'gpio', 2: 'counter' };
const WATER_ALARM: Record<number, string> = {
  1: 'water outage timeout alarm',
  2: 'water outage timeout alarm release',
  3: 'water flow timeout alarm',
  4: 'water flow timeout alarm release',
};
const HISTORY_ALARM: Record<number, string> = { 0: 'none', ...WATER_ALARM, 5: 'gpio alarm', 6: 'gpio alarm release' };
const WATER_UNIT_WARNING =
  'water volume is in the unit configured on the device (pulse conversion settings), which the frame does not carry; kept in data only';

const gpioName = (v: number): string => GPIO[v] ?? `unknown (${v})`;

/** water_conv (UINT16/10) + pulse_conv (UINT16/10) + water (float32). */
function readWater(r: ByteReader): { water_conv: number; pulse_conv: number; water: number } {
  const water_conv = scaled(r.u16le('water conversion'), 10);
  const pulse_conv = scaled(r.u16le('pulse conversion'), 10);
  const water = round2(r.f32le('water consumption'));
  return { water_conv, pulse_conv, water };
}

function setWater(ctx: TlvContext, w: { water_conv: number; pulse_conv: number; water: number }): void {
  ctx.set('water_conv', w.water_conv);
  ctx.set('pulse_conv', w.pulse_conv);
  if (Number.isFinite(w.water)) ctx.set('water', w.water);
  else ctx.warn('water consumption is not a finite number');
  if (!ctx.result.warnings.some((m) => m.includes(WATER_UNIT_WARNING))) ctx.warn(WATER_UNIT_WARNING);
}

const waterEntry = (channel: number): TlvEntry => ({
  channel, type: 0xe1, size: 8, name: 'pulse counter (water)',
  decode: (r, ctx) => setWater(ctx, readWater(r)),
});

const entries: TlvEntry[] = [
  ...deviceInfoEntries(),
  batteryEntry(),
  airTemperatureEntry(),
  humidityEntry(),
  {
    channel: 0x05, type: 0x00, size: 1, name: 'digital input',
    decode: (r, ctx) => ctx.set('gpio', gpioName(r.u8('digital input'))),
  },
  {
    channel: 0x05, type: 0xc8, size: 4, name: 'pulse counter',
    decode: (r, ctx) => {
      const pulse = r.u32le('pulse counter');
      ctx.set('pulse', pulse);
      ctx.reading('metering.pulse.total', pulse);
    },
  },
  waterEntry(0x05),
  waterEntry(0x06),
  {
    channel: 0x85, type: 0x00, size: 2, name: 'digital input alarm',
    decode: (r, ctx) => {
      ctx.set('gpio', gpioName(r.u8('digital input')));
      const alarm = r.u8('alarm status');
      ctx.set('gpio_alarm', alarm === 1 ? 'gpio alarm' : 'gpio alarm release');
      if (alarm === 1) ctx.event('alarm', 'digital input alarm');
    },
  },
  {
    channel: 0x85, type: 0xe1, size: 9, name: 'pulse alarm (water)',
    decode: (r, ctx) => {
      setWater(ctx, readWater(r));
      const alarm = r.u8('alarm status');
      const text = WATER_ALARM[alarm] ?? `unknown (${alarm})`;
      ctx.set('water_alarm', text);
      if (alarm === 1 || alarm === 3) ctx.event('alarm', text);
    },
  },
  {
    channel: 0x20, type: 0xce, size: 13, name: 'historical data (counter)',
    decode: (r, ctx) => {
      const time = readTimestamp(r);
      const temperature = scaled(r.i16le('history temperature'), 10);
      const humidity = r.u8('history humidity') / 2;
      const type = r.u8('interface type');
      const gpio = r.u8('digital status');
      const pulse = r.u32le('history pulse counter');
      const record: Record<string, unknown> = { timestamp: time.getTime() / 1000, temperature, humidity };
      ctx.reading('air.temperature', temperature, { time });
      ctx.reading('air.relativeHumidity', humidity, { time });
      if (type === 2) {
        record.pulse = pulse;
        ctx.reading('metering.pulse.total', pulse, { time });
      } else if (type === 1) {
        record.gpio = gpioName(gpio);
      } else {
        record.gpio_type = `unknown (${type})`;
        ctx.warn(`history interface type ${type} is not 01 (digital) or 02 (counter)`);
      }
      ctx.history(record);
    },
  },
  {
    channel: 0x21, type: 0xce, size: 18, name: 'historical data (water)',
    decode: (r, ctx) => {
      const time = readTimestamp(r);
      const temperature = scaled(r.i16le('history temperature'), 10);
      const humidity = r.u8('history humidity') / 2;
      const alarm = r.u8('history alarm');
      const type = r.u8('interface type');
      const gpio = r.u8('digital status');
      const w = readWater(r);
      const record: Record<string, unknown> = { timestamp: time.getTime() / 1000, temperature, humidity };
      ctx.reading('air.temperature', temperature, { time });
      ctx.reading('air.relativeHumidity', humidity, { time });
      record.gpio_type = GPIO_TYPE[type] ?? `unknown (${type})`;
      if (type === 1) record.gpio = gpioName(gpio);
      else {
        record.water_conv = w.water_conv;
        record.pulse_conv = w.pulse_conv;
        if (Number.isFinite(w.water)) record.water = w.water;
        if (!ctx.result.warnings.some((m) => m.includes(WATER_UNIT_WARNING))) ctx.warn(WATER_UNIT_WARNING);
      }
      record.alarm = HISTORY_ALARM[alarm] ?? `unknown (${alarm})`;
      ctx.history(record);
    },
  },
];

const table = tlvTable(entries);

export const em300Di: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Pulse counter / digital input with temperature and humidity (also the water-meter firmware reporting a volume)',
  category: 'pulse-counter',
  fPorts: [MILESIGHT_FPORT],
  exposes: ['metering.pulse.total', 'air.temperature', 'air.relativeHumidity', 'batteryLevel'],
  documentation: [
    { title: 'EM300-DI Uplink Data (Milesight documentation center)', url: 'https://www.milesight.com/products/docs/en/em300-di/protocol/em300/em300-di-uplink.html' },
    { title: 'EM300 Series User Guide, §5 Uplink Packets', url: 'https://resource.milesight.com/milesight/iot/document/em300-series-user-guide-en.pdf' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
