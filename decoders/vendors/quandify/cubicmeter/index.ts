/**
 * Quandify CubicMeter 1.1 (Copper / Plastic), ultrasonic clamp-on water meter and leak sensor.
 * Follows Quandify's published uplink description (repository quandify/cubicmeter-1.1, README "Uplinks"
 * and src/examples.json; also the vendor's TTN lorawan-devices entry vendor/quandify):
 *  - fPort 1, status report, exactly 28 bytes, little-endian:
 *      bytes 4-5  error field (bit 15 set = ultrasonic sensor NOT sensing water; bits 0-14 = error code, 384 = reverse flow)
 *      bytes 6-9  totalVolume, litres (all-time)
 *      byte 22    leakState (2 = small [cloud analytics only], 3 = medium, 4 = large)
 *      byte 23/24 batteryActive / batteryRecovered, mV = 1800 + 8 × raw
 *      byte 25/26 waterTemperatureMin / Max since last report, °C = raw × 0.5 − 20
 *      byte 27    ambientTemperature, °C = raw × 0.5 − 20
 *  - fPort 6, downlink response: [fPort of the command][status][type][report…]; report types
 *      1 = statusReport (28 bytes), 2 = hardwareReport (35 bytes), 4 = settingsReport (38 bytes).
 * Low battery: batteryRecovered ≤ 3100 mV (vendor normalizer).
 * Lenient decoding: bytes after a report's documented length are named in a warning, the report is decoded. A
 * downlink response identifies itself (a valid status, a valid report type and a body of that type's length), so it
 * is decoded on another port too; a bare status report does not, and is only read on fPort 1.
 */
import type { DeviceDefinition, DecodeInput, DecodeResult } from '../../../core/types.ts';
import { emptyResult } from '../../../core/boundary.ts';
import { DecodeError } from '../../../core/errors.ts';
import { trailingBytes } from '../../../core/lenient.ts';
import { ByteReader } from '../../../core/reader.ts';

const MODEL = 'CubicMeter';
const REVERSE_FLOW = 384;
const LOW_BATTERY_MV = 3100;

const APP_STATES: Record<number, string> = { 3: 'ready', 4: 'pipeSelection', 5: 'metering' };
const RESPONSE_STATUSES: Record<number, string> = { 0: 'ok', 1: 'commandError', 2: 'payloadError', 3: 'valueError' };
const RESPONSE_TYPES: Record<number, string> = { 0: 'none', 1: 'statusReport', 2: 'hardwareReport', 4: 'settingsReport' };
const PIPES: Record<number, string> = {
  0: 'custom', 1: 'copper15', 2: 'copper18', 3: 'copper22', 4: 'chrome15', 5: 'chrome18', 6: 'chrome22',
  7: 'pal16', 8: 'pal20', 9: 'pal25', 14: 'pex16', 15: 'pex20', 16: 'pex25', 17: 'distpipe',
};
const LEAK_STATES: Record<number, string> = { 2: 'small', 3: 'medium', 4: 'large' };

const battery = (raw: number) => 1800 + raw * 8;
const temperature = (raw: number) => raw * 0.5 - 20;

interface StatusReport {
  errorCode: number;
  isSensing: boolean;
  totalVolume: number;
  leakState: number;
  batteryActive: number;
  batteryRecovered: number;
  waterTemperatureMin: number;
  waterTemperatureMax: number;
  ambientTemperature: number;
}

const REPORT_LENGTH: Record<string, number> = { none: 0, statusReport: 28, hardwareReport: 35, settingsReport: 38 };

function statusReport(bytes: Uint8Array): StatusReport {
  if (bytes.length < 28) throw new DecodeError(`status report must be 28 bytes, got ${bytes.length}`);
  const r = new ByteReader(bytes, MODEL);
  r.skip(4, 'header');
  const error = r.u16le('error');
  const totalVolume = r.u32le('totalVolume');
  r.skip(12, 'reserved');
  return {
    errorCode: error & 0x7fff,
    isSensing: (error & 0x8000) === 0,
    totalVolume,
    leakState: r.u8('leakState'),
    batteryActive: battery(r.u8('batteryActive')),
    batteryRecovered: battery(r.u8('batteryRecovered')),
    waterTemperatureMin: temperature(r.u8('waterTemperatureMin')),
    waterTemperatureMax: temperature(r.u8('waterTemperatureMax')),
    ambientTemperature: temperature(r.u8('ambientTemperature')),
  };
}

function addStatusReadings(res: DecodeResult, s: StatusReport): void {
  res.readings.push(
    { quantity: 'metering.water.total', value: s.totalVolume },
    { quantity: 'water.alarm.leak', value: s.leakState >= 3 },
    { quantity: 'water.alarm.backflow', value: s.errorCode === REVERSE_FLOW },
    { quantity: 'water.alarm.dry', value: !s.isSensing },
    { quantity: 'battery', value: s.batteryRecovered / 1000 },
    { quantity: 'air.temperature', value: s.ambientTemperature },
  );
  if (s.leakState >= 3) res.events.push({ type: 'leak', message: `${LEAK_STATES[s.leakState] ?? 'large'} leak` });
  if (s.errorCode === REVERSE_FLOW) res.events.push({ type: 'backflow', message: 'Reverse flow' });
  else if (s.errorCode !== 0) res.events.push({ type: 'alarm', message: `Contact support, error ${s.errorCode}` });
  if (!s.isSensing) res.events.push({ type: 'dry', message: 'ultrasonic sensor not sensing water' });
  if (s.batteryRecovered <= LOW_BATTERY_MV) res.events.push({ type: 'low_battery', message: 'Low battery' });
}

function response(bytes: Uint8Array, res: DecodeResult): void {
  const r = new ByteReader(bytes, MODEL);
  const port = r.u8('fPort');
  const statusRaw = r.u8('status');
  const typeRaw = r.u8('type');
  const status = RESPONSE_STATUSES[statusRaw];
  if (status === undefined) throw new DecodeError(`invalid response status ${statusRaw}`);
  const type = RESPONSE_TYPES[typeRaw];
  if (type === undefined) throw new DecodeError(`invalid response type ${typeRaw}`);
  const full = bytes.subarray(3);
  const length = REPORT_LENGTH[type]!;
  if (full.length > length) trailingBytes(res, bytes, 3 + length, `${type} response`, MODEL);
  const body = full.subarray(0, length);
  const out: Record<string, unknown> = { fPort: port, status, type };
  if (type === 'statusReport') {
    const s = statusReport(body);
    out.data = s;
    addStatusReadings(res, s);
  } else if (type === 'hardwareReport') {
    if (body.length < 35) throw new DecodeError(`hardware report must be 35 bytes, got ${body.length}`);
    const b = new ByteReader(body, MODEL);
    const fw = b.u32le('firmwareVersion');
    const hardwareVersion = b.u8('hardwareVersion');
    const stateRaw = b.u8('appState');
    const appState = APP_STATES[stateRaw];
    if (appState === undefined) throw new DecodeError(`invalid app state ${stateRaw}`);
    const pipeId = body[28]!;
    const pipe = PIPES[pipeId];
    if (pipe === undefined) throw new DecodeError(`invalid pipe index ${pipeId}`);
    out.data = {
      firmwareVersion: `${Math.floor(fw / 0x1000000)}.${(fw >>> 16) & 0xff}.${fw & 0xffff}`,
      hardwareVersion,
      appState,
      pipe: { id: pipeId, type: pipe },
    };
  } else if (type === 'settingsReport') {
    if (body.length < 38) throw new DecodeError(`settings report must be 38 bytes, got ${body.length}`);
    const b = new ByteReader(body, MODEL);
    b.skip(5, 'settings header');
    out.data = { lorawanReportInterval: b.u32le('lorawanReportInterval') };
  } else {
    out.data = {};
  }
  res.data = out;
}

/** A downlink response: valid status, valid type, and at least that type's report length after the 3-byte head. */
function isResponse(bytes: Uint8Array): boolean {
  if (bytes.length < 3) return false;
  const type = RESPONSE_TYPES[bytes[2]!];
  return RESPONSE_STATUSES[bytes[1]!] !== undefined && type !== undefined && bytes.length >= 3 + REPORT_LENGTH[type]!;
}

function decode({ bytes, fPort }: DecodeInput): DecodeResult {
  const res = emptyResult();
  if (fPort === 1) {
    const s = statusReport(bytes);
    trailingBytes(res, bytes, 28, 'status report', MODEL);
    res.data = { ...s };
    addStatusReadings(res, s);
  } else if (fPort === 6 || isResponse(bytes)) {
    response(bytes, res);
  } else {
    throw new DecodeError(`unknown fPort ${fPort} (uplinks: 1 status report, 6 downlink response) and the frame is not a downlink response`);
  }
  return res;
}

export const cubicMeter: DeviceDefinition = {
  vendor: 'Quandify',
  model: MODEL,
  description: 'CubicMeter 1.1 (Copper / Plastic) clamp-on ultrasonic water meter and leak sensor',
  category: 'water-meter',
  fPorts: [1, 6],
  exposes: ['metering.water.total', 'water.alarm.leak', 'water.alarm.backflow', 'water.alarm.dry', 'battery', 'air.temperature'],
  documentation: [
    { title: 'Quandify CubicMeter 1.1 – LoRaWAN uplinks and decoder description', url: 'https://github.com/quandify/cubicmeter-1.1' },
    { title: 'Quandify CubicMeter product page', url: 'https://quandify.com/cubicmeter' },
  ],
  decode,
};
