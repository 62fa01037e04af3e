/**
 * Elsys generic uplink payload: a sequence of [type (1 byte)][value (fixed size per type)] items,
 * all multi-byte values big-endian. Follows the Elsys document "Elsys LoRa payload" / "Sensor payload"
 * (https://www.elsys.se/en/elsys-payload/, https://elsys.se/public/documents/Sensor_payload.pdf),
 * table "Payload types". One parser for every Elsys model (ERS, ERS CO2, EMS, ELT…); each model maps
 * the values it carries to canonical readings.
 *
 * Field names follow the Elsys document (temperature, humidity, light, motion, co2, vdd, …); units
 * are the document's: °C, %RH, lux, count, ppm, mV, hPa, ppb.
 */
import { ByteReader } from '../../core/reader.ts';
import { DecodeError } from '../../core/errors.ts';
import { stopAt } from '../../core/lenient.ts';

export interface ElsysPayload {
  /** Decoded values keyed by the Elsys document's field names. */
  values: Record<string, number | number[] | string>;
  /** Type bytes in the order they appeared. */
  types: number[];
  /** Lenient decoding: why reading stopped before the end of the frame, and where (core/lenient.ts). */
  warnings: string[];
  undecodedFrom?: number;
}

type ItemParser = (r: ByteReader, out: Record<string, number | number[] | string>) => void;

const tenths = (v: number) => Math.round(v) / 10;

/** Type byte → parser. Sizes are the document's; a type not listed here cannot be skipped (its length is unknown). */
const ITEMS: Record<number, { name: string; parse: ItemParser }> = {
  0x01: { name: 'temperature', parse: (r, o) => { o.temperature = tenths(r.i16be('temperature')); } },
  0x02: { name: 'humidity', parse: (r, o) => { o.humidity = r.u8('humidity'); } },
  0x03: {
    name: 'acceleration',
    parse: (r, o) => {
      o.x = r.i8('acceleration x');
      o.y = r.i8('acceleration y');
      o.z = r.i8('acceleration z');
    },
  },
  0x04: { name: 'light', parse: (r, o) => { o.light = r.u16be('light'); } },
  0x05: { name: 'motion', parse: (r, o) => { o.motion = r.u8('motion'); } },
  0x06: { name: 'co2', parse: (r, o) => { o.co2 = r.u16be('co2'); } },
  0x07: { name: 'vdd', parse: (r, o) => { o.vdd = r.u16be('vdd'); } },
  0x08: { name: 'analog1', parse: (r, o) => { o.analog1 = r.u16be('analog1'); } },
  0x09: {
    name: 'gps',
    parse: (r, o) => {
      // 3 bytes latitude, 3 bytes longitude ("binary" in the document); kept as raw values
      o.lat = r.u24be('gps latitude');
      o.long = r.u24be('gps longitude');
    },
  },
  0x0a: { name: 'pulse1', parse: (r, o) => { o.pulse1 = r.u16be('pulse1'); } },
  0x0b: { name: 'pulseAbs', parse: (r, o) => { o.pulseAbs = r.u32be('pulseAbs'); } },
  0x0c: { name: 'externalTemperature', parse: (r, o) => { o.externalTemperature = tenths(r.i16be('externalTemperature')); } },
  0x0d: { name: 'digital', parse: (r, o) => { o.digital = r.u8('digital'); } },
  0x0e: { name: 'distance', parse: (r, o) => { o.distance = r.u16be('distance'); } },
  0x0f: { name: 'accMotion', parse: (r, o) => { o.accMotion = r.u8('accMotion'); } },
  0x10: {
    name: 'irTemperature',
    parse: (r, o) => {
      o.irInternalTemperature = tenths(r.i16be('irInternalTemperature'));
      o.irExternalTemperature = tenths(r.i16be('irExternalTemperature'));
    },
  },
  0x11: { name: 'occupancy', parse: (r, o) => { o.occupancy = r.u8('occupancy'); } },
  0x12: { name: 'waterleak', parse: (r, o) => { o.waterleak = r.u8('waterleak'); } },
  0x13: {
    name: 'grideye',
    parse: (r, o) => {
      // 1 byte reference temperature + 64 pixel bytes (1/10 °C offsets); kept raw
      const ref = r.u8('grideye reference');
      const px = r.slice(64, 'grideye pixels');
      o.grideye = [ref, ...px];
    },
  },
  0x14: { name: 'pressure', parse: (r, o) => { o.pressure = r.u32be('pressure') / 1000; } },
  0x15: {
    name: 'sound',
    parse: (r, o) => {
      o.soundPeak = r.u8('soundPeak');
      o.soundAvg = r.u8('soundAvg');
    },
  },
  0x16: { name: 'pulse2', parse: (r, o) => { o.pulse2 = r.u16be('pulse2'); } },
  0x17: { name: 'pulseAbs2', parse: (r, o) => { o.pulseAbs2 = r.u32be('pulseAbs2'); } },
  0x18: { name: 'analog2', parse: (r, o) => { o.analog2 = r.u16be('analog2'); } },
  0x19: { name: 'externalTemperature2', parse: (r, o) => { o.externalTemperature2 = tenths(r.i16be('externalTemperature2')); } },
  0x1a: { name: 'digital2', parse: (r, o) => { o.digital2 = r.u8('digital2'); } },
  0x1b: { name: 'analogUv', parse: (r, o) => { o.analogUv = r.i32be('analogUv'); } },
  0x1c: { name: 'tvoc', parse: (r, o) => { o.tvoc = r.u16be('tvoc'); } },
  0x3d: { name: 'debug', parse: (r, o) => { o.debug = r.u32be('debug'); } },
  0x3e: {
    // Sensor settings: [length][settings data…]; kept as hex, not interpreted here
    name: 'settings',
    parse: (r, o) => {
      const len = r.u8('settings length');
      o.settings = Buffer.from(r.slice(len, 'settings data')).toString('hex');
    },
  },
};

/**
 * Parse a whole Elsys payload. An unknown type cannot be skipped (its length is not documented) and a value cut
 * short cannot be read: the items before it are kept and a warning names the byte (lenient decoding); an empty
 * payload or one whose first item is already unknown decodes nothing (the boundary turns that into an error).
 */
export function parseElsysPayload(bytes: Uint8Array, context = 'Elsys'): ElsysPayload {
  if (bytes.length === 0) throw new DecodeError(`${context}: empty payload`);
  const r = new ByteReader(bytes, context);
  const out: ElsysPayload = { values: {}, types: [], warnings: [] };
  while (r.remaining > 0) {
    const at = r.offset;
    const type = r.u8('type');
    const item = ITEMS[type];
    if (!item) {
      stopAt(out, bytes, at, `unknown type 0x${type.toString(16).padStart(2, '0')} (its length is not documented, the rest cannot be read)`, context);
      break;
    }
    // Parse into a scratch object so a value cut short leaves no half item behind.
    const itemValues: Record<string, number | number[] | string> = {};
    try {
      item.parse(r, itemValues);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      stopAt(out, bytes, at, `${item.name} (type 0x${type.toString(16).padStart(2, '0')}) cut short: ${err.message}`, context);
      break;
    }
    Object.assign(out.values, itemValues);
    out.types.push(type);
  }
  return out;
}
