/**
 * Axioma Qalcosonic W1 ultrasonic water meter, LoRaWAN.
 * Follows Axioma Metering "W1 LORA PAYLOAD EXTENDED" (Lora Payload (Long) "Extended", V01.8, 2020-04-06),
 * §2 "Decoding the payload" and §3 "Device alarms"; all values little-endian, times UNIX UTC, volumes in litres.
 *  - fPort 100, basic frame (9 bytes): current date/time (4), status code (1), current volume (4).
 *  - fPort 100, extended frame (17 + 2·n bytes): the above + log date/time (4), volume at log time (4),
 *    then n (≤ 15) hourly delta volumes (2 bytes each); a trailing 0x2F is a padding byte.
 *  - fPort 100, "enhanced 24h" frame (51 bytes, first byte 0x01 = frame version): time (4), status (1),
 *    log volume (4), 23 hourly deltas packed as 14-bit little-endian bit fields, then a 6-bit multiplier
 *    (layout from the vendor-contributed TTN codec vendor/axioma/qalcosonic-w1-codec.yaml; the hour
 *    each delta belongs to is not documented, so only the current volume is emitted as a reading).
 *  - fPort 103, alarm frame (5 bytes): date/time (4), status code (1).
 * Status code: 0x04 power low, 0x08 permanent error, 0x10 temporary error; when 0x10 is set, bits 7..5 name it:
 *   0 dry (empty pipe), 1 leakage (0x30), 3 backflow (0x70), 4 low temperature/freeze (0x90), 5 burst (0xB0),
 *   6 manipulation/tamper (0xD0).
 * Lenient decoding: bytes after a frame's documented layout (a basic frame of 10 to 16 bytes, an alarm frame longer
 * than 5, an extended frame ending with an odd byte that is not the 0x2F padding) are named in a warning, the frame
 * itself is decoded. On a port other than 100/103 (changed by the installer), a frame is decoded when its length
 * fits a layout and it starts with the meter's date/time within 31 days before / 1 day after the reception time:
 * the clock identifies it.
 */
import type { DeviceDefinition, DecodeInput, DecodeResult, Reading } from '../../../core/types.ts';
import { emptyResult } from '../../../core/boundary.ts';
import { DecodeError } from '../../../core/errors.ts';
import { stopAt, trailingBytes } from '../../../core/lenient.ts';
import { ByteReader } from '../../../core/reader.ts';

const MODEL = 'Qalcosonic W1';
const HOUR = 3600;

const TEMPORARY: Record<number, string> = { 0: 'dry', 1: 'leakage', 3: 'backflow', 4: 'lowTemperature', 5: 'burst', 6: 'manipulation' };

interface Status {
  statusCode: number;
  alarms: string[];
}

function decodeStatus(code: number, res: DecodeResult, time: Date): Status {
  const alarms: string[] = [];
  if (code & 0x04) alarms.push('powerLow');
  if (code & 0x08) alarms.push('permanentError');
  let temp: string | undefined;
  if (code & 0x10) {
    temp = TEMPORARY[code >> 5];
    if (temp === undefined) {
      alarms.push('temporaryError');
      res.warnings.push(`${MODEL}: temporary error with undocumented code ${code >> 5} (status 0x${code.toString(16)})`);
    } else alarms.push(temp);
  }
  if (code & 0x03) res.warnings.push(`${MODEL}: status bits 0-1 set (0x${code.toString(16)}), not documented`);
  const flag = (q: Reading['quantity'], v: boolean) => res.readings.push({ quantity: q, value: v, time });
  flag('water.alarm.dry', temp === 'dry');
  flag('water.alarm.leak', temp === 'leakage');
  flag('water.alarm.backflow', temp === 'backflow');
  flag('water.alarm.burst', temp === 'burst');
  flag('water.alarm.tamper', temp === 'manipulation');
  const ev = (type: string, message: string) => res.events.push({ type, message, time });
  if (code & 0x04) ev('low_battery', 'Power low');
  if (code & 0x08) ev('alarm', 'Permanent error');
  if (temp === 'dry') ev('dry', 'Dry (no water in the flow sensor)');
  if (temp === 'leakage') ev('leak', 'Leakage');
  if (temp === 'backflow') ev('backflow', 'Backflow');
  if (temp === 'burst') ev('burst', 'Burst');
  if (temp === 'lowTemperature') ev('alarm', 'Low temperature (freeze)');
  if (temp === 'manipulation') ev('tamper', 'Manipulation');
  if ((code & 0x10) && temp === undefined) ev('alarm', 'Temporary error');
  return { statusCode: code, alarms };
}

const unixDate = (s: number) => new Date(s * 1000);
const iso = (d: Date) => d.toISOString();

function basicOrExtended(bytes: Uint8Array, res: DecodeResult): void {
  const r = new ByteReader(bytes, MODEL);
  const ts = r.u32le('current date and time');
  const status = r.u8('status code');
  const volume = r.u32le('current volume');
  const time = unixDate(ts);
  const st = decodeStatus(status, res, time);
  res.data = { frame: 'basic', currentDateTime: iso(time), statusCode: st.statusCode, alarms: st.alarms, currentVolume_L: volume };
  res.readings.push({ quantity: 'metering.water.total', value: volume, time });
  if (bytes.length === 9) return;

  const logTs = r.u32le('log date and time');
  const logVolume = r.u32le('volume at log date and time');
  const deltas: number[] = [];
  while (r.remaining >= 2) deltas.push(r.u16le(`delta volume ${deltas.length + 1}`));
  if (r.remaining === 1 && bytes[r.offset] !== 0x2f) stopAt(res, bytes, r.offset, 'an odd byte after the delta volumes that is not the 0x2F padding', MODEL);
  if (deltas.length > 15) res.warnings.push(`${MODEL}: ${deltas.length} delta volumes, the document describes at most 15`);
  const logTime = unixDate(logTs);
  res.data = { ...res.data, frame: 'extended', logDateTime: iso(logTime), logVolume_L: logVolume, deltaVolumes_L: deltas };
  res.readings.push({ quantity: 'metering.water.total', value: logVolume, time: logTime });
  let v = logVolume;
  deltas.forEach((d, i) => {
    v += d;
    res.readings.push({ quantity: 'metering.water.total', value: v, time: unixDate(logTs + (i + 1) * HOUR) });
  });
}

function bitsLE(bytes: Uint8Array, startByte: number, startBit: number, length: number): number {
  let v = 0;
  for (let i = 0; i < length; i++) {
    const bit = startBit + i;
    const b = bytes[startByte + (bit >> 3)]!;
    if (b & (1 << (bit & 7))) v += 2 ** i;
  }
  return v;
}

function enhanced(bytes: Uint8Array, res: DecodeResult): void {
  const r = new ByteReader(bytes, MODEL);
  const version = r.u8('frame version');
  const ts = r.u32le('date and time');
  const status = r.u8('status code');
  const logVolume = r.u32le('log volume');
  const time = unixDate(ts);
  const st = decodeStatus(status, res, time);
  const deltas = Array.from({ length: 23 }, (_, i) => bitsLE(bytes, 10, i * 14, 14));
  const multiplier = bitsLE(bytes, 10, 23 * 14, 6);
  const history = deltas.reduce((a, b) => a + b, 0);
  res.data = {
    frame: 'enhanced24h',
    frameVersion: version,
    dateTime: iso(time),
    statusCode: st.statusCode,
    alarms: st.alarms,
    logVolume_L: logVolume,
    deltaVolumes_L: deltas,
    historyMultiplier: multiplier,
    historyTotal_L: history,
    currentVolume_L: logVolume + history,
  };
  if (multiplier !== 0) res.warnings.push(`${MODEL}: non-zero history multiplier ${multiplier}, delta scaling is not documented`);
  else res.readings.push({ quantity: 'metering.water.total', value: logVolume + history, time });
}

const MAX_AGE_S = 31 * 86_400;
const MAX_AHEAD_S = 86_400;

/** A meter date/time at `at` close to the reception time: what makes a frame on an unexpected port this meter's. */
function plausibleClock(bytes: Uint8Array, at: number, recv: Date | undefined): boolean {
  if (!recv || bytes.length < at + 4) return false;
  const ts = bytes[at]! + bytes[at + 1]! * 0x100 + bytes[at + 2]! * 0x10000 + bytes[at + 3]! * 0x1000000;
  const now = recv.getTime() / 1000;
  return ts >= now - MAX_AGE_S && ts <= now + MAX_AHEAD_S;
}

type Layout = 'enhanced' | 'basicOrExtended' | 'alarm';

function layoutOf({ bytes, fPort, recvTime }: DecodeInput): Layout | 'configuration' {
  if (fPort === 100) {
    if (bytes.length === 51 && bytes[0] === 0x01) return 'enhanced';
    if (bytes.length >= 9) return 'basicOrExtended';
    throw new DecodeError(`fPort 100 frame of ${bytes.length} bytes (expected 9, 17 + 2·n, or 51)`);
  }
  if (fPort === 103) {
    if (bytes.length < 5) throw new DecodeError(`alarm frame must be 5 bytes, got ${bytes.length}`);
    return 'alarm';
  }
  if (fPort === 101) return 'configuration';
  if (bytes.length === 51 && bytes[0] === 0x01 && plausibleClock(bytes, 1, recvTime)) return 'enhanced';
  if (bytes.length === 5 && plausibleClock(bytes, 0, recvTime)) return 'alarm';
  if (bytes.length >= 9 && plausibleClock(bytes, 0, recvTime)) return 'basicOrExtended';
  throw new DecodeError(
    `unknown fPort ${fPort} (100 data, 101 configuration, 103 alarm) and the frame does not start with a meter date/time close to the reception time`,
  );
}

function decode(input: DecodeInput): DecodeResult {
  const { bytes } = input;
  const res = emptyResult();
  const layout = layoutOf(input);
  if (layout === 'enhanced') enhanced(bytes, res);
  else if (layout === 'basicOrExtended') {
    // 10 to 16 bytes: a basic frame followed by bytes that are not a whole extended part.
    if (bytes.length < 17) {
      basicOrExtended(bytes.subarray(0, 9), res);
      trailingBytes(res, bytes, 9, 'basic frame', MODEL);
    } else basicOrExtended(bytes, res);
  } else if (layout === 'alarm') {
    const r = new ByteReader(bytes, MODEL);
    const time = unixDate(r.u32le('date and time'));
    const st = decodeStatus(r.u8('status code'), res, time);
    res.data = { frame: 'alarm', dateTime: iso(time), statusCode: st.statusCode, alarms: st.alarms };
    trailingBytes(res, bytes, 5, 'alarm frame', MODEL);
  } else {
    res.data = { frame: 'configuration', raw: Buffer.from(bytes).toString('hex') };
    res.warnings.push(`${MODEL}: configuration frame (fPort 101) kept raw, not decoded`);
  }
  return res;
}

export const qalcosonicW1: DeviceDefinition = {
  vendor: 'Axioma',
  model: MODEL,
  description: 'Ultrasonic water meter with LoRaWAN: volume index, hourly history, leak/burst/backflow/dry/tamper alarms',
  category: 'water-meter',
  fPorts: [100, 101, 103],
  exposes: ['metering.water.total', 'water.alarm.leak', 'water.alarm.burst', 'water.alarm.backflow', 'water.alarm.dry', 'water.alarm.tamper'],
  documentation: [
    { title: 'Axioma Metering – Qalcosonic W1 LoRa Payload (Long) "Extended"', url: 'https://vdocuments.mx/ultrasonic-water-meter-qalcosonic-w1.html', version: 'V01.8 (2020-04-06)' },
    { title: 'Axioma Qalcosonic W1 product page', url: 'https://www.axiomametering.com/en/products/water-metering-devices/ultrasonic/qalcosonic-w1' },
  ],
  decode,
};
