/**
 * Dragino LWL03A — LoRaWAN none-position rope type water leak controller.
 *
 * Follows the Dragino "LWL03A – LoRaWAN None-Position Rope Type Water Leak Controller User Manual" (wiki.dragino.com),
 * §2 uplink payloads, with field names and value strings as in Dragino's codec examples (TTN lorawan-devices
 * vendor/dragino/lwl03a-codec.yaml):
 * - fPort 2, real-time status (11 bytes): Status & Alarm (1: bit2 TDC periodic-uplink flag, bit1 ALARM = leak lasted
 *   longer than the alarm timeout, bit0 water leak status) | Total water leak events (3) | Last water leak duration
 *   (3, minutes) | Unix timestamp (4, UTC).
 * - fPort 3, datalog: n × 11-byte records, same layout (bits 1 and 0 only).
 * - fPort 4, configuration (8 bytes): TDC (3) | DISALARM (1, bit0) | KEEP_STATUS (1, bit0) | KEEP_TIME (2) | LEAK_ALARM_TIME (1).
 * - fPort 5, device status (7 bytes): Sensor model (1, 0x14 = LWL03A) | Firmware version (2) | Frequency band (1) |
 *   Sub-band (1, 0xFF = none) | BAT (2, mV).
 * All multi-byte values are big-endian. The counters (leak events, duration) have no canonical quantity: `data` only.
 * Lenient decoding: bytes beyond a port's layout (and a datalog remainder that is not a whole record) are named in a
 * warning. On another port, a device status (7 bytes, Sensor Model 0x14) or an 11-byte status whose device time is
 * close to the reception time identifies itself and is decoded (with a warning).
 */
import { ByteReader } from '../../../core/reader.ts';
import { DecodeError } from '../../../core/errors.ts';
import { stopAt, trailingBytes } from '../../../core/lenient.ts';
import { emptyResult } from '../../../core/boundary.ts';
import type { DecodeInput, DecodeResult, DeviceDefinition } from '../../../core/types.ts';
import { draginoTimeString, plausibleTime } from '../time.ts';

const MODEL = 'LWL03A';
const RECORD = 11;

const BANDS: Readonly<Record<number, string>> = {
  0x01: 'EU868', 0x02: 'US915', 0x03: 'IN865', 0x04: 'AU915', 0x05: 'KZ865', 0x06: 'RU864', 0x07: 'AS923',
  0x08: 'AS923_1', 0x09: 'AS923_2', 0x0a: 'AS923_3', 0x0b: 'CN470', 0x0c: 'EU433', 0x0d: 'KR920', 0x0e: 'MA869',
};

interface LeakRecord {
  flags: number;
  times: number;
  duration: number;
  unix: number;
}

function readRecord(r: ByteReader): LeakRecord {
  return {
    flags: r.u8('Status & Alarm'),
    times: r.u24be('Total water leak events'),
    duration: r.u24be('Last water leak duration'),
    unix: r.u32be('Timestamp'),
  };
}

function recordData(rec: LeakRecord): Record<string, unknown> {
  return {
    ALARM: rec.flags & 0x02 ? 'TRUE' : 'FALSE',
    WATER_LEAK_STATUS: rec.flags & 0x01 ? 'LEAK' : 'NO LEAK',
    WATER_LEAK_TIMES: rec.times,
    LAST_WATER_LEAK_DURATION: rec.duration,
    TIME: draginoTimeString(rec.unix),
  };
}

/** Documented length of each port's frame (fPort 3: one record; the datalog holds whole records). */
const LENGTH: Readonly<Record<number, number>> = { 2: RECORD, 3: RECORD, 4: 8, 5: 7 };
const SENSOR_MODEL = 0x14;
/** A status on an unexpected port is this device's when its clock reads within a month before reception (a day after). */
const CLOCK_MATCH_BEFORE_MS = 31 * 86_400_000;
const CLOCK_MATCH_AFTER_MS = 86_400_000;

/**
 * The port the frame belongs to. On a port other than 2-5 (changed by the installer) the frame must identify
 * itself: the 7-byte device status starts with Sensor Model 0x14, and an 11-byte status ends with the device time,
 * plausible against the reception time.
 */
function portOf({ bytes, fPort, recvTime }: DecodeInput): number {
  if (LENGTH[fPort] !== undefined) return fPort;
  if (bytes.length === 7 && bytes[0] === SENSOR_MODEL) return 5;
  if (bytes.length === RECORD && recvTime) {
    const ms = (bytes[7]! * 0x1000000 + (bytes[8]! << 16) + (bytes[9]! << 8) + bytes[10]!) * 1000;
    if (ms >= recvTime.getTime() - CLOCK_MATCH_BEFORE_MS && ms <= recvTime.getTime() + CLOCK_MATCH_AFTER_MS) return 2;
  }
  throw new DecodeError(
    `${MODEL}: unknown fPort ${fPort}, expected 2 (status), 3 (datalog), 4 (configuration) or 5 (device status), and the frame is neither a device status (Sensor Model 0x14) nor a status with a plausible device time`,
  );
}

function decode(input: DecodeInput): DecodeResult {
  const { recvTime } = input;
  const out = emptyResult();
  const port = portOf(input);
  const documented = LENGTH[port]!;
  let bytes = input.bytes;
  if (port === 3) {
    // Whole records only; a remainder that is not a whole record is named in a warning.
    const whole = bytes.length - (bytes.length % RECORD);
    if (whole < bytes.length && whole > 0) stopAt(out, bytes, whole, `${bytes.length - whole} byte(s) after the last whole ${RECORD}-byte datalog record`, MODEL);
    bytes = bytes.subarray(0, whole);
  } else if (bytes.length > documented) {
    trailingBytes(out, bytes, documented, `fPort ${port} frame`, MODEL);
    bytes = bytes.subarray(0, documented);
  }
  const r = new ByteReader(bytes, MODEL);
  switch (port) {
    case 2: {
      if (bytes.length !== RECORD) throw new DecodeError(`${MODEL}: fPort 2 status has ${bytes.length} bytes, expected ${RECORD}`);
      const rec = readRecord(r);
      out.data = { TDC: rec.flags & 0x04 ? 'YES' : 'NO', ...recordData(rec) };
      const leak = (rec.flags & 0x01) !== 0;
      const time = plausibleTime(rec.unix, recvTime);
      if (!time) out.warnings.push(`${MODEL}: device time ${draginoTimeString(rec.unix)} is not plausible (clock not synchronised?); reception time applies`);
      out.readings.push(time ? { quantity: 'water.leak', value: leak, time } : { quantity: 'water.leak', value: leak });
      if (leak) out.events.push({ type: 'leak', message: 'water leak detected', ...(time ? { time } : {}) });
      if (rec.flags & 0x02) out.events.push({ type: 'alarm', message: 'water leak lasted longer than the alarm timeout', ...(time ? { time } : {}) });
      return out;
    }
    case 3: {
      if (bytes.length === 0) {
        throw new DecodeError(`${MODEL}: fPort 3 datalog has ${input.bytes.length} bytes, expected a multiple of ${RECORD}`);
      }
      const log: Record<string, unknown>[] = [];
      while (r.remaining > 0) {
        const rec = readRecord(r);
        log.push(recordData(rec));
        const time = plausibleTime(rec.unix, recvTime);
        if (time) out.readings.push({ quantity: 'water.leak', value: (rec.flags & 0x01) !== 0, time });
        else out.warnings.push(`${MODEL}: datalog record at ${draginoTimeString(rec.unix)} has an implausible time; no reading kept`);
      }
      out.data = { DATALOG: log };
      return out;
    }
    case 4: {
      if (bytes.length !== 8) throw new DecodeError(`${MODEL}: fPort 4 configuration has ${bytes.length} bytes, expected 8`);
      out.data = {
        TDC: r.u24be('TDC'),
        DISALARM: r.u8('DISALARM') & 0x01,
        KEEP_STATUS: r.u8('KEEP_STATUS') & 0x01,
        KEEP_TIME: r.u16be('KEEP_TIME'),
        LEAK_ALARM_TIME: r.u8('LEAK_ALARM_TIME'),
      };
      return out;
    }
    case 5: {
      if (bytes.length !== 7) throw new DecodeError(`${MODEL}: fPort 5 device status has ${bytes.length} bytes, expected 7`);
      const model = r.u8('Sensor Model');
      const fw1 = r.u8('Firmware Version');
      const fw2 = r.u8('Firmware Version');
      const band = r.u8('Frequency Band');
      const sub = r.u8('Sub-band');
      const mv = r.u16be('BAT');
      if (model !== SENSOR_MODEL) out.warnings.push(`${MODEL}: Sensor Model 0x${model.toString(16)} is not 0x14 (LWL03A)`);
      out.data = {
        SENSOR_MODEL: model === SENSOR_MODEL ? 'LWL03A' : `0x${model.toString(16).padStart(2, '0')}`,
        FIRMWARE_VERSION: `${fw1 & 0x0f}.${(fw2 >> 4) & 0x0f}.${fw2 & 0x0f}`,
        FREQUENCY_BAND: BANDS[band] ?? `0x${band.toString(16).padStart(2, '0')}`,
        SUB_BAND: sub === 0xff ? 'NULL' : sub,
        BAT: mv / 1000,
      };
      out.readings.push({ quantity: 'battery', value: mv / 1000 });
      return out;
    }
    default:
      throw new Error(`${MODEL}: port ${port} has no layout`);
  }
}

export const lwl03a: DeviceDefinition = {
  vendor: 'Dragino',
  model: MODEL,
  description: 'Rope-type water leak controller: leak status, leak count, last leak duration, timeout alarm',
  category: 'water-leak',
  fPorts: [2, 3, 4, 5],
  exposes: ['water.leak', 'battery'],
  documentation: [
    {
      title: 'Dragino LWL03A – LoRaWAN None-Position Rope Type Water Leak Controller User Manual',
      url: 'http://wiki.dragino.com/xwiki/bin/view/Main/User%20Manual%20for%20LoRaWAN%20End%20Nodes/LWL03A%20%E2%80%93%20LoRaWAN%20None-Position%20Rope%20Type%20Water%20Leak%20Controller%20User%20Manual',
    },
    {
      title: 'Dragino LWL03A codec examples (TTN Device Repository)',
      url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/dragino/lwl03a-codec.yaml',
    },
  ],
  decode,
};
