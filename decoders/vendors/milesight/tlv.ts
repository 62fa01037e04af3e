/**
 * Milesight channel / type / value frame parser, shared by every Milesight model in this folder.
 *
 * Format, as Milesight describes it in each device's "Uplink Data" page
 * (e.g. https://www.milesight.com/products/docs/en/em300-zld/protocol/em300/em300-uplink.html) and in the
 * "Device Payload" chapter of its user guides: an uplink is a sequence of
 *
 *     channel (1 byte) | type (1 byte) | value (N bytes, N fixed by the channel/type pair)
 *
 * Multi-byte values are little endian. There is no length byte, so an entry this decoder does not know
 * cannot be skipped: decoding stops there, the entries before it are kept, and a warning names the channel,
 * type and byte offset (lenient decoding, core/lenient.ts). A frame whose first entry is unknown is an error.
 * Installers can change the application port (85 by default): a frame on another port is decoded when it
 * starts with an entry of the model's table, since the channel/type pairs identify it.
 * Channel 0xff carries device information (versions, serial number, class, power-on); channels
 * 0x20 / 0x21 carry history records that hold their own Unix timestamp.
 *
 * This file holds the parser and the field layouts common to several models; each model's definition
 * (`<model>/index.ts`) lists the entries its document describes.
 */
import { DecodeError } from '../../core/errors.ts';
import { stopAt } from '../../core/lenient.ts';
import { ByteReader } from '../../core/reader.ts';
import type { DecodeInput, DecodeResult, DeviceEvent, Reading } from '../../core/types.ts';
import type { QuantityId } from '../../model/quantities.ts';

/** Milesight's default application port for uplinks (all user guides, "The application port is 85 by default"). */
export const MILESIGHT_FPORT = 85;

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** What an entry's decoder writes to: the vendor-named `data`, canonical readings and events. */
export class TlvContext {
  readonly result: DecodeResult = { data: {}, readings: [], events: [], warnings: [], errors: [] };

  constructor(
    readonly model: string,
    readonly recvTime?: Date,
  ) {}

  get data(): Record<string, unknown> {
    return this.result.data;
  }

  /** Sets a `data` field; a second value for the same field (a repeated entry) is kept as the latest, with a warning. */
  set(field: string, value: unknown): void {
    if (Object.hasOwn(this.result.data, field) && field !== 'history') {
      this.result.warnings.push(`${this.model}: field '${field}' appears twice in the frame; the last value is kept`);
    }
    this.result.data[field] = value;
  }

  reading(quantity: QuantityId, value: number | boolean, opts: { channel?: string; time?: Date } = {}): void {
    const r: Reading = { quantity, value };
    if (opts.channel !== undefined) r.channel = opts.channel;
    if (opts.time !== undefined) r.time = opts.time;
    this.result.readings.push(r);
  }

  event(type: string, message?: string, time?: Date): void {
    const e: DeviceEvent = { type };
    if (message !== undefined) e.message = message;
    if (time !== undefined) e.time = time;
    this.result.events.push(e);
  }

  warn(message: string): void {
    this.result.warnings.push(`${this.model}: ${message}`);
  }

  /** Appends a history record (channels 0x20/0x21) to `data.history`, as Milesight's documents show it. */
  history(record: Record<string, unknown>): void {
    const list = (this.result.data.history as Record<string, unknown>[] | undefined) ?? [];
    list.push(record);
    this.result.data.history = list;
  }
}

/** One channel/type pair of a model's document. */
export interface TlvEntry {
  channel: number;
  type: number;
  /** Exact value length in bytes, as given in the document's "Byte" column. */
  size: number;
  /** Document's item name, used in error messages. */
  name: string;
  decode(r: ByteReader, ctx: TlvContext): void;
}

export type TlvTable = ReadonlyMap<number, TlvEntry>;

/** Builds a lookup table and refuses two entries for the same channel/type (a definition mistake). */
export function tlvTable(entries: readonly TlvEntry[]): TlvTable {
  const map = new Map<number, TlvEntry>();
  for (const e of entries) {
    const key = (e.channel << 8) | e.type;
    if (map.has(key)) throw new Error(`Milesight TLV table: channel 0x${hex2(e.channel)} type 0x${hex2(e.type)} defined twice`);
    map.set(key, e);
  }
  return map;
}

/**
 * Decodes one uplink against a model's table. Throws `DecodeError` for an empty payload, or a frame that does not
 * start with a known entry; stops at an unknown or cut-short entry after that, keeping what came before.
 */
export function decodeTlv(model: string, table: TlvTable, input: DecodeInput, fPorts: readonly number[] = [MILESIGHT_FPORT]): DecodeResult {
  const bytes = input.bytes;
  if (bytes.length === 0) throw new DecodeError(`empty payload, expected at least one channel/type/value entry`);
  if (!fPorts.includes(input.fPort) && !(bytes.length >= 2 && table.has((bytes[0]! << 8) | bytes[1]!))) {
    throw new DecodeError(
      `fPort ${input.fPort} is not an uplink port of this device (expected ${fPorts.join(' or ')}) and the frame does not start with one of its channel/type entries`,
    );
  }
  const ctx = new TlvContext(model, input.recvTime);
  let i = 0;
  while (i < bytes.length) {
    if (i + 2 > bytes.length) {
      stopAt(ctx.result, bytes, i, `a channel/type header needs 2 bytes, the frame ends at byte ${bytes.length}`, model);
      break;
    }
    const channel = bytes[i]!;
    const type = bytes[i + 1]!;
    const entry = table.get((channel << 8) | type);
    if (!entry) {
      stopAt(ctx.result, bytes, i, `unknown channel 0x${hex2(channel)} type 0x${hex2(type)}`, model);
      break;
    }
    const start = i + 2;
    if (start + entry.size > bytes.length) {
      stopAt(
        ctx.result,
        bytes,
        i,
        `field '${entry.name}' (channel 0x${hex2(channel)} type 0x${hex2(type)}) at byte ${start} needs ${entry.size} byte(s), the frame ends at byte ${bytes.length}`,
        model,
      );
      break;
    }
    const r = new ByteReader(bytes.subarray(start, start + entry.size), entry.name);
    entry.decode(r, ctx);
    if (r.remaining !== 0) throw new Error(`${model}: entry '${entry.name}' left ${r.remaining} byte(s) unread`);
    i = start + entry.size;
  }
  return ctx.result;
}

// ---------------------------------------------------------------------------------------------
// Value helpers (resolutions as written in the documents: "INT16/10", "UINT8/2", "UINT16/100").

/** Rounds a scaled integer to the document's resolution without float noise. */
export function scaled(raw: number, divisor: number): number {
  const decimals = Math.round(Math.log10(divisor));
  const f = 10 ** Math.max(decimals, 0);
  return Math.round((raw / divisor) * f) / f;
}

/** Rounds a float32 value (water volume) to 2 decimals, the precision Milesight shows. */
export function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** "Data unix timestamp, UINT32, Unit: s". */
export function readTimestamp(r: ByteReader): Date {
  return new Date(r.u32le('timestamp') * 1000);
}

/** "Example: 03 10 = V3.1": major byte, minor in the high nibble of the second byte. */
export function hardwareVersion(r: ByteReader): string {
  const major = r.u8('hardware major');
  const minor = r.u8('hardware minor');
  return `v${major.toString(16)}.${(minor >> 4).toString(16)}`;
}

/** "Example: 03 01 = V3.1", "01 10 = v1.10": both bytes shown as hex digits. */
export function firmwareVersion(r: ByteReader): string {
  const major = r.u8('firmware major');
  const minor = r.u8('firmware minor');
  return `v${major.toString(16)}.${minor.toString(16)}`;
}

const LORAWAN_CLASS = ['Class A', 'Class B', 'Class C', 'Class C to B'];

// ---------------------------------------------------------------------------------------------
// Entries shared by the models of this folder.

/** Channel 0xff "Basic Information" entries present in every model's document. */
export function deviceInfoEntries(): TlvEntry[] {
  return [
    {
      channel: 0xff, type: 0x0b, size: 1, name: 'power on',
      decode: (r, ctx) => {
        r.skip(1, 'reserved');
        ctx.set('device_status', 'on');
        ctx.event('reboot', 'device powered on / joined the network');
      },
    },
    { channel: 0xff, type: 0x01, size: 1, name: 'protocol version', decode: (r, ctx) => ctx.set('protocol_version', r.u8('protocol version')) },
    { channel: 0xff, type: 0x09, size: 2, name: 'hardware version', decode: (r, ctx) => ctx.set('hardware_version', hardwareVersion(r)) },
    { channel: 0xff, type: 0x0a, size: 2, name: 'software version', decode: (r, ctx) => ctx.set('firmware_version', firmwareVersion(r)) },
    {
      channel: 0xff, type: 0xff, size: 2, name: 'TSL version',
      decode: (r, ctx) => {
        const major = r.u8('tsl major');
        const minor = r.u8('tsl minor');
        ctx.set('tsl_version', `v${major}.${minor}`);
      },
    },
    {
      channel: 0xff, type: 0x0f, size: 1, name: 'device type (LoRaWAN class)',
      decode: (r, ctx) => {
        const v = r.u8('lorawan class');
        ctx.set('lorawan_class', LORAWAN_CLASS[v] ?? `unknown (${v})`);
      },
    },
    {
      channel: 0xff, type: 0x16, size: 8, name: 'serial number',
      decode: (r, ctx) => ctx.set('sn', Array.from(r.slice(8, 'sn'), hex2).join('')),
    },
    {
      channel: 0xff, type: 0xfe, size: 1, name: 'reset event',
      decode: (r, ctx) => {
        const v = r.u8('reset event');
        ctx.set('reset_event', v === 1 ? 'reset' : 'normal');
        if (v === 1) ctx.event('reboot', 'device reset');
      },
    },
  ];
}

/** 01 75: "Battery Level, UINT8, Unit: %". */
export function batteryEntry(): TlvEntry {
  return {
    channel: 0x01, type: 0x75, size: 1, name: 'battery level',
    decode: (r, ctx) => {
      const v = r.u8('battery');
      ctx.set('battery', v);
      if (v <= 100) ctx.reading('batteryLevel', v);
      else ctx.warn(`battery level ${v} % is out of range 0..100; not stored`);
    },
  };
}

/** 03 67 (or another channel): "Temperature, INT16/10, Unit: °C", as air temperature. */
export function airTemperatureEntry(channel = 0x03): TlvEntry {
  return {
    channel, type: 0x67, size: 2, name: 'temperature',
    decode: (r, ctx) => {
      const t = scaled(r.i16le('temperature'), 10);
      ctx.set('temperature', t);
      ctx.reading('air.temperature', t);
    },
  };
}

/** 04 68: "Humidity, UINT8/2, Unit: %RH". */
export function humidityEntry(channel = 0x04): TlvEntry {
  return {
    channel, type: 0x68, size: 1, name: 'humidity',
    decode: (r, ctx) => {
      const h = r.u8('humidity') / 2;
      ctx.set('humidity', h);
      ctx.reading('air.relativeHumidity', h);
    },
  };
}
