/**
 * Adeunis common frame header: every uplink starts with a frame code byte and a status byte,
 * followed by the product payload; multi-byte values are MSB first; LoRaWAN frames use port 1.
 *
 * Follows the "Radio protocol / Status byte" section shared by the Adeunis Technical Reference
 * Manuals (e.g. PULSE V3 TRM APP >= 2.0.0, §2 "Radio protocol", §1.4 "Status byte": "Its format is
 * identical for all IoT Adeunis products"):
 *
 *   bit 7..5  frame counter (0..7)
 *   bit 4     AppFlag2 (product specific)
 *   bit 3     AppFlag1 (product specific)
 *   bit 2     HW: hardware error
 *   bit 1     Low Bat: battery below threshold (permanent)
 *   bit 0     Config: a configuration was applied by the last downlink
 *
 * Products of the timestamping generation (PULSE 4 / V4, COMFORT 2, COMFORT CO2, APP with register
 * S318 "Time stamping") use bit 2 to say that the frame ends with a 4-byte timestamp, in seconds since
 * 2013-01-01T00:00:00Z (the vendor's TTN examples: status 0x67/0x96 with bit 2 set carry
 * 0x14ABA3E9 = 2023-12-28T19:22:17Z). In that layout this parser does not report a hardware-error bit.
 *
 * Frame timestamps are the device's clock: until the network sets it, it counts from the 2013 origin, so a
 * frame can say "2013-01-03" or, after a bad setting, a date in the future. Readings take the device time only
 * when it is plausible against the network reception time (not more than 30 days before it, not more than 10
 * minutes after it); otherwise `data.timestamp` still shows what the device sent, the readings take the reception
 * time, and a warning says why (readings dated 2013 would fall outside every retention and rollup).
 *
 * Lenient decoding: any port is accepted (installers can change it; the frame code and status byte identify the
 * frame), bytes after a fixed-size frame are reported as not understood (with a timestamp, it follows the
 * documented payload), and a sample list keeps its whole samples.
 *
 * This is written from the documents' field descriptions; no vendor code is used.
 */
import { DecodeError } from '../../core/errors.ts';
import { stopAt } from '../../core/lenient.ts';
import { ByteReader } from '../../core/reader.ts';
import type { DecodeInput, DecodeResult, DeviceEvent } from '../../core/types.ts';

export const ADEUNIS_PORT = 1;

/** Seconds between 1970-01-01 and 2013-01-01 (UTC), the origin of Adeunis timestamps. */
export const ADEUNIS_EPOCH_S = 1_356_998_400;

export type StatusLayout =
  /** bit 2 = hardware error (PULSE v2/v3, TIC, COMFORT first generation). */
  | 'classic'
  /** bit 2 = a 4-byte timestamp ends the frame (PULSE 4, COMFORT 2, COMFORT CO2). */
  | 'timestamped';

export interface HeaderOptions {
  layout: StatusLayout;
  /** Vendor's name for AppFlag1 on this product (default 'appFlag1'). */
  appFlag1?: string;
  /** Vendor's name for AppFlag2 on this product (default 'appFlag2'). */
  appFlag2?: string;
  /** Network reception time: the reference a device timestamp is checked against. */
  recvTime?: Date;
}

export interface AdeunisHeader {
  code: number;
  status: Record<string, number | boolean>;
  lowBattery: boolean;
  hardwareError: boolean;
  /** True when the frame ends with a 4-byte device timestamp (timestamped layout only). */
  hasTimestamp: boolean;
  /** Positioned on the first payload byte (byte 2). */
  reader: ByteReader;
  /** Index one past the last payload byte (excludes a trailing timestamp). */
  payloadEnd: number;
  /** Device timestamp when present, as the device sent it. */
  timestamp?: Date;
  /** The time readings take: the device timestamp when plausible (see the header comment), else absent. */
  time?: Date;
  /** Why a device timestamp was not used for the readings. */
  clockWarning?: string;
  recvTime?: Date;
}

const MAX_AGE_MS = 30 * 86_400_000;
const MAX_AHEAD_MS = 10 * 60_000;
/** Without a reception time, a device time before this (2015-01-01) is a clock that was never set. */
const EARLIEST_MS = Date.UTC(2015, 0, 1);

/** Reads the 4-byte device timestamp at `at` and decides whether readings may use it. */
function readTimestamp(h: AdeunisHeader, bytes: Uint8Array, at: number): void {
  const t = new ByteReader(bytes.subarray(at, at + 4), 'payload').u32be('timestamp');
  const ts = new Date((t + ADEUNIS_EPOCH_S) * 1000);
  h.timestamp = ts;
  delete h.time;
  delete h.clockWarning;
  const recv = h.recvTime?.getTime();
  const plausible = recv === undefined ? ts.getTime() >= EARLIEST_MS : ts.getTime() >= recv - MAX_AGE_MS && ts.getTime() <= recv + MAX_AHEAD_MS;
  if (plausible) h.time = ts;
  else {
    h.clockWarning = `device timestamp ${isoSeconds(ts)} is not plausible${h.recvTime ? ` against the reception time ${isoSeconds(h.recvTime)}` : ''} (clock not set by the network?); readings use the reception time`;
  }
}

/** Parses frame code + status byte, and the trailing timestamp when the status says there is one. */
export function parseHeader(bytes: Uint8Array, opts: HeaderOptions): AdeunisHeader {
  const reader = new ByteReader(bytes, 'payload');
  const code = reader.u8('frame code');
  const s = reader.u8('status');
  const status: Record<string, number | boolean> = { frameCounter: s >> 5 };
  const lowBattery = (s & 0x02) !== 0;
  let hardwareError = false;
  let hasTimestamp = false;
  if (opts.layout === 'classic') {
    hardwareError = (s & 0x04) !== 0;
    status.hardwareError = hardwareError;
  }
  status.lowBattery = lowBattery;
  status.configurationDone = (s & 0x01) !== 0;
  status[opts.appFlag1 ?? 'appFlag1'] = (s & 0x08) !== 0;
  status[opts.appFlag2 ?? 'appFlag2'] = (s & 0x10) !== 0;
  if (opts.layout === 'timestamped') {
    hasTimestamp = (s & 0x04) !== 0;
    status.timestamp = hasTimestamp;
  }
  const h: AdeunisHeader = { code, status, lowBattery, hardwareError, hasTimestamp, reader, payloadEnd: bytes.length };
  if (opts.recvTime) h.recvTime = opts.recvTime;
  if (hasTimestamp) {
    if (bytes.length < 6) {
      throw new DecodeError(`status says a 4-byte timestamp ends the frame, but the frame has only ${bytes.length} byte(s)`);
    }
    h.payloadEnd = bytes.length - 4;
    readTimestamp(h, bytes, h.payloadEnd);
  }
  return h;
}

/**
 * End of a fixed-size frame: more bytes than its layout are reported as not understood (they are kept out of the
 * readings); with a timestamp, it is the 4 bytes right after the layout, and what follows it is not understood.
 */
export function endFixedFrame(h: AdeunisHeader, bytes: Uint8Array, result: DecodeResult, frame: string): void {
  const left = h.payloadEnd - h.reader.offset;
  if (left < 0) throw new DecodeError(`${frame} needs ${-left} more byte(s) before its timestamp`);
  if (left === 0) return;
  if (!h.hasTimestamp) {
    stopAt(result, bytes, h.reader.offset, `bytes after the ${frame} are not part of its documented layout`);
    return;
  }
  const at = h.reader.offset;
  readTimestamp(h, bytes, at);
  h.payloadEnd = at;
  stopAt(result, bytes, at + 4, `bytes after the ${frame} and its timestamp are not part of its documented layout`);
}

/** Data timestamp, clock warning: the same for every frame that may carry a timestamp. */
export function applyTimestamp(h: AdeunisHeader, result: DecodeResult): void {
  if (h.timestamp) result.data.timestamp = h.timestamp.toISOString();
  if (h.clockWarning) result.warnings.push(h.clockWarning);
}

/** "2023-12-28T19:22:17.000Z" → "2023-12-28T19:22:17Z" style used in data (UTC, seconds). */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

export function frameHex(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')}`;
}


/** Status-derived events, common to all products. */
export function statusEvents(h: AdeunisHeader): DeviceEvent[] {
  const events: DeviceEvent[] = [];
  if (h.lowBattery) events.push({ type: 'low_battery', message: 'Low Bat bit set in status byte' });
  if (h.hardwareError) events.push({ type: 'hardware_error', message: 'HW bit set in status byte' });
  return events;
}

/** Reads `n` bytes as ASCII, dropping NUL padding. */
export function ascii(r: ByteReader, n: number, field: string): string {
  const b = r.slice(n, field);
  let s = '';
  for (const c of b) if (c !== 0) s += String.fromCharCode(c);
  return s;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/**
 * Frames common to the Adeunis range that carry configuration rather than measurements:
 * 0x10..0x12 product configuration, 0x1F digital input configuration, 0x20 network configuration,
 * 0x31 register values (reply to downlink 0x40), 0x33 set-register status. Their register map is
 * product and firmware specific; they are reported with their raw payload and no readings.
 */
export const CONFIG_FRAMES: Record<number, string> = {
  0x10: 'product configuration',
  0x11: 'product configuration (part 2)',
  0x12: 'product configuration (part 3)',
  0x1f: 'digital input configuration',
  0x20: 'network configuration',
  0x31: 'register values',
  0x33: 'set register status',
};

/** Fills `result` for a configuration frame; returns false when `code` is not one. */
export function decodeConfigFrame(h: AdeunisHeader, bytes: Uint8Array, result: DecodeResult): boolean {
  const name = CONFIG_FRAMES[h.code];
  if (!name) return false;
  result.data.type = `${frameHex(h.code)} ${name}`;
  result.data.status = h.status;
  result.data.payload = hex(bytes.subarray(2));
  result.warnings.push(`${frameHex(h.code)} ${name}: register values are kept raw in data.payload`);
  return true;
}

export function unknownFrame(code: number, input: DecodeInput): never {
  const port = input.fPort === ADEUNIS_PORT ? '' : ` on fPort ${input.fPort} (Adeunis LoRaWAN uplinks use port ${ADEUNIS_PORT})`;
  throw new DecodeError(`unknown frame code ${frameHex(code)}${port}`);
}

/**
 * Whole n-byte samples in the payload (at least one). A remainder that does not make a whole sample is reported
 * as not understood, after the samples.
 */
export function sampleCount(h: AdeunisHeader, bytes: Uint8Array, result: DecodeResult, sampleSize: number, field: string): number {
  const n = h.payloadEnd - h.reader.offset;
  if (n < sampleSize) {
    throw new DecodeError(`${field} needs a whole number (>= 1) of ${sampleSize}-byte samples, got ${Math.max(n, 0)} byte(s)`);
  }
  const count = Math.floor(n / sampleSize);
  if (n % sampleSize !== 0) {
    stopAt(result, bytes.subarray(0, h.payloadEnd), h.reader.offset + count * sampleSize, `${n % sampleSize} byte(s) after the last whole ${sampleSize}-byte sample of ${field}`);
  }
  return count;
}
