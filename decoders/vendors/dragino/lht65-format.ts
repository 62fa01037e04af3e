/**
 * Dragino LHT65 / LHT65N temperature & humidity sensor uplink format (one parser for both models).
 *
 * Follows the LHT65 user manual §2.4 "Uplink Payload" and the LHT65N manual §2.4 (wiki.dragino.com); field names and
 * strings follow Dragino's codec examples (TTN lorawan-devices vendor/dragino/lht65-codec.yaml, lht65n-codec.yaml).
 * fPort 2, 11 bytes, big-endian:
 *   BAT (2: bits 15–14 BAT status 00 ultra low ≤2.50 V, 01 low, 10 OK, 11 good ≥2.65 V; bits 13–0 voltage in mV) |
 *   Built-in temperature (2, signed, 0.01 °C) | Built-in humidity (2, 0.1 %RH; LHT65N uses bits 11–0) |
 *   Ext # (1: bits 3–0 external sensor type, bit 7 poll-message/datalog flag) | Ext value (4, per type).
 * Ext types: 0 none; 1 E1 DS18B20 temperature (2, signed 0.01 °C, 0x7FFF = probe not connected; last 2 bytes
 * meaningless); 2 TMP117 temperature; 4 interrupt (pin level, status); 5 illumination (2, lux); 6 ADC (2, mV);
 * 7 counting (2); 8 counting (4); 9 E3 DS18B20 with timestamp (temperature moves to bytes 0–1, BAT status to
 * bits 7–6 of byte 4, Unix time in the Ext value); 15 DS18B20 ID (no temperature/humidity).
 * Datalog / poll replies (Ext bit 7 set): n × 11-byte records = Ext value (2) | temperature (2) | humidity (2) |
 * Ext # (1) | Unix timestamp (4).
 */
import { ByteReader } from '../../core/reader.ts';
import { DecodeError } from '../../core/errors.ts';
import { stopAt, trailingBytes } from '../../core/lenient.ts';
import { emptyResult } from '../../core/boundary.ts';
import type { DecodeInput, DecodeResult, DeviceDefinition, Reading } from '../../core/types.ts';
import { draginoTimeString, plausibleTime } from './time.ts';

const RECORD = 11;
const PROBE_DISCONNECTED = 0x7fff;
const EXT_CHANNEL = 'external';

const hundredths = (raw: number) => raw / 100;
const tenths = (raw: number) => raw / 10;

function pushClimate(out: DecodeResult, model: string, temp: number, hum: number, time?: Date): void {
  const t = time ? { time } : {};
  out.readings.push({ quantity: 'air.temperature', value: temp, ...t });
  if (hum <= 100) out.readings.push({ quantity: 'air.relativeHumidity', value: hum, ...t });
  else out.warnings.push(`${model}: humidity ${hum} % is out of range; no reading`);
}

function pushProbe(out: DecodeResult, model: string, raw16: number, value: number, time?: Date): void {
  if (raw16 === PROBE_DISCONNECTED) {
    out.warnings.push(`${model}: external temperature 0x7FFF (327.67 °C) means the probe is not connected; no reading`);
    return;
  }
  const r: Reading = { quantity: 'air.temperature', value, channel: EXT_CHANNEL };
  if (time) r.time = time;
  out.readings.push(r);
}

function realTime(model: string, bytes: Uint8Array, recvTime: Date | undefined, out: DecodeResult): void {
  const r = new ByteReader(bytes, model);
  const b01 = r.u16be('BAT');
  const temp = r.i16be('Built-in Temperature');
  const humRaw = r.u16be('Built-in Humidity');
  const extByte = r.u8('Ext #');
  const ext = extByte & 0x0f;
  const hasExtValue = bytes.length >= RECORD;
  const e1 = hasExtValue ? r.u16be('Ext value') : 0;
  const e2 = hasExtValue ? r.u16be('Ext value') : 0;
  const e32 = e1 * 0x10000 + e2;
  const d = out.data;
  let time: Date | undefined;

  if (ext === 9) {
    d.TempC_DS = hundredths(b01 > 0x7fff ? b01 - 0x10000 : b01);
    d.Bat_status = bytes[4]! >> 6;
  } else {
    d.BatV = (b01 & 0x3fff) / 1000;
    d.Bat_status = b01 >> 14;
    out.readings.push({ quantity: 'battery', value: d.BatV as number });
  }
  if ((d.Bat_status as number) <= 1) out.events.push({ type: 'low_battery', message: `BAT status ${d.Bat_status === 0 ? 'ultra low' : 'low'}` });
  if (ext !== 15) {
    d.TempC_SHT = hundredths(temp);
    d.Hum_SHT = tenths(humRaw & 0x0fff);
  }
  switch (ext) {
    case 0:
      d.Ext_sensor = 'No external sensor';
      break;
    case 1:
      d.Ext_sensor = 'Temperature Sensor';
      d.TempC_DS = hundredths(e1 > 0x7fff ? e1 - 0x10000 : e1);
      pushProbe(out, model, e1, d.TempC_DS as number);
      break;
    case 2:
      d.Ext_sensor = 'Temperature Sensor';
      d.TempC_TMP117 = hundredths(e1 > 0x7fff ? e1 - 0x10000 : e1);
      pushProbe(out, model, e1, d.TempC_TMP117 as number);
      break;
    case 4:
      d.Work_mode = 'Interrupt Sensor send';
      d.Exti_pin_level = bytes[7] ? 'High' : 'Low';
      d.Exti_status = bytes[8] ? 'True' : 'False';
      break;
    case 5:
      d.Work_mode = 'Illumination Sensor';
      d.ILL_lx = e1;
      out.readings.push({ quantity: 'air.lightIntensity', value: e1 });
      break;
    case 6:
      d.Work_mode = 'ADC Sensor';
      d.ADC_V = e1 / 1000;
      break;
    case 7:
      d.Work_mode = 'Interrupt Sensor count';
      d.Exit_count = e1;
      out.readings.push({ quantity: 'metering.pulse.total', value: e1 });
      break;
    case 8:
      d.Work_mode = 'Interrupt Sensor count';
      d.Exit_count = e32;
      out.readings.push({ quantity: 'metering.pulse.total', value: e32 });
      break;
    case 9: {
      d.Work_mode = 'DS18B20 & timestamp';
      d.Systimestamp = e32;
      time = plausibleTime(e32, recvTime);
      if (!time) out.warnings.push(`${model}: device time ${draginoTimeString(e32)} is not plausible; reception time applies`);
      pushProbe(out, model, b01, d.TempC_DS as number, time);
      break;
    }
    case 15:
      d.Work_mode = 'DS18B20ID';
      d.ID = Array.from([...bytes.subarray(2, 6), ...bytes.subarray(7, 11)], (b) => b.toString(16).padStart(2, '0')).join(' ');
      break;
    default:
      d.Ext = ext;
      out.warnings.push(`${model}: external sensor type ${ext} is not documented; Ext value not decoded`);
  }
  if (ext !== 15) pushClimate(out, model, d.TempC_SHT as number, d.Hum_SHT as number, time);
}

function datalog(model: string, frame: Uint8Array, recvTime: Date | undefined, out: DecodeResult): void {
  const whole = frame.length - (frame.length % RECORD);
  if (whole === 0) throw new DecodeError(`${model}: datalog of ${frame.length} bytes, expected a multiple of ${RECORD}`);
  if (whole < frame.length) stopAt(out, frame, whole, `${frame.length - whole} byte(s) after the last whole ${RECORD}-byte datalog record`, model);
  const bytes = frame.subarray(0, whole);
  const r = new ByteReader(bytes, model);
  const log: Record<string, unknown>[] = [];
  while (r.remaining > 0) {
    const extValue = r.u16be('Ext value');
    const temp = hundredths(r.i16be('Built-in Temperature'));
    const hum = tenths(r.u16be('Built-in Humidity') & 0x0fff);
    const ext = r.u8('Ext #') & 0x0f;
    const unix = r.u32be('Timestamp');
    const rec: Record<string, unknown> = { Ext: ext, TempC_SHT: temp, Hum_SHT: hum, Time: draginoTimeString(unix) };
    const time = plausibleTime(unix, recvTime);
    const signedExt = hundredths(extValue > 0x7fff ? extValue - 0x10000 : extValue);
    if (ext === 1 || ext === 9) rec.TempC_DS = signedExt;
    else if (ext === 2) rec.TempC_TMP117 = signedExt;
    else if (ext === 5) rec.ILL_lx = extValue;
    else if (ext === 6) rec.ADC_V = extValue / 1000;
    else if (ext === 7 || ext === 8) rec.Exit_count = extValue;
    log.push(rec);
    if (!time) {
      out.warnings.push(`${model}: datalog record at ${draginoTimeString(unix)} has an implausible time; no reading kept`);
      continue;
    }
    pushClimate(out, model, temp, hum, time);
    if (ext === 1 || ext === 2 || ext === 9) pushProbe(out, model, extValue, signedExt, time);
    else if (ext === 5) out.readings.push({ quantity: 'air.lightIntensity', value: extValue, time });
  }
  out.data.DATALOG = log;
}

export function decodeLht65(model: string, input: DecodeInput): DecodeResult {
  const { bytes, fPort, recvTime } = input;
  if (fPort !== 2 && fPort !== 3) throw new DecodeError(`${model}: unknown fPort ${fPort}, expected 2 (sensor data) or 3 (datalog)`);
  if (bytes.length < 7) throw new DecodeError(`${model}: payload has ${bytes.length} bytes, expected ${RECORD} (or 7 without external sensor)`);
  const out = emptyResult();
  const poll = (bytes[6]! & 0x80) !== 0;
  if (poll) {
    datalog(model, bytes, recvTime, out);
    return out;
  }
  if (fPort === 3) throw new DecodeError(`${model}: fPort 3 frame without the poll-message flag (Ext # bit 7) is not a supported datalog layout`);
  const ext = bytes[6]! & 0x0f;
  if (bytes.length < RECORD && !(bytes.length === 7 && ext === 0)) {
    throw new DecodeError(`${model}: sensor data has ${bytes.length} bytes, expected ${RECORD} (7 only when Ext # is 0)`);
  }
  const end = bytes.length === 7 ? 7 : RECORD;
  trailingBytes(out, bytes, end, 'sensor data frame', model);
  realTime(model, bytes.subarray(0, end), recvTime, out);
  return out;
}

export function lht65Definition(model: string, meta: Pick<DeviceDefinition, 'description' | 'documentation'>): DeviceDefinition {
  return {
    vendor: 'Dragino',
    model,
    description: meta.description,
    category: 'indoor-climate',
    fPorts: [2, 3],
    exposes: ['air.temperature', 'air.relativeHumidity', 'battery', 'air.lightIntensity', 'metering.pulse.total'],
    documentation: meta.documentation,
    decode: (input) => decodeLht65(model, input),
  };
}
