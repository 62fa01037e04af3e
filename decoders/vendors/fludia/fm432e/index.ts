/**
 * Fludia FM432e, optical reader for electricity meters (electromechanical disc or electronic LED).
 * Follows Fludia "FM432 – User Guide" (ref FLD10068 v1.1.0), §5 "Decoding FM432e_nc_1mn messages" and
 * §6 "Decoding FM432e_nc_10mn and FM432e_nc_15mn messages", and Fludia's published decoder notes
 * (github.com/Fludia-IoT/LoRaWAN-decoders README: fPort is always 129; `index` starts at 0 when the sensor starts).
 * All values big-endian. Energy in Wh, power in W.
 *  - 0x20 / 0x21 / 0x22, 20 bytes: T1 data, time step 10 / 15 / 60 min: index (3 bytes) then 8 increments (2 bytes);
 *    increment i covers [recv − (8−i)·step, recv − (7−i)·step], index is the value at reception.
 *  - 0x5B, 45 bytes: T1 of the 1-minute product: index (4 bytes) then 20 one-minute powers (2 bytes, W);
 *    power i is stamped recv − (20−i) min − 10 min (the product sends with a 10-minute delay).
 *  - 0x0E (10/15 min products) or 0x51 (1 min product), 12 bytes: T2 service message: number of starts (byte 1),
 *    param id (3), byte 4 = firmware version (bits 7..2) | meter type (bit 1: 0 electromechanical, 1 electronic)
 *    | low battery (bit 0), index (bytes 5-8), time step code (byte 11: 0 = 10 min, 3 = 15 min, 1 = 60 min).
 *  - 0x12 (37 or 19 bytes), 0x13 (30 or 11 bytes): technical messages TT1/TT2 (meter type only).
 *  - 0x01 (3 bytes) / 0x5F (9 bytes): start message.
 * FM432e "_ap" firmware (v60, decoder fm432e_ap-decoder.js of Fludia-IoT/LoRaWAN-decoders, whose README gives the
 * example T1 input [105, 1, 0, 0, 255, 255, 0, 1, 0, 2, 0, 3]):
 *  - 0x69, 8 to 46 bytes: T1 data: time step in minutes (byte 1), index (bytes 2-5, Wh), then N = (length − 6) / 2
 *    increments (2 bytes, Wh); increment i covers the step starting at recv − (N−i)·step, the index is the value
 *    at reception and earlier indexes are taken back increment by increment.
 *  - 0x6A, 16 bytes: T2 service message: number of starts (1), param id (4), firmware version (5), meter type (6:
 *    0 electromechanical, 1 electronic), low battery (7), index (8-11), time step (12), number of values per T1
 *    (13), redundancy (14: previous increments repeated), sensitivity (15).
 * The frames carry no clock: history readings are timed from the network reception time (recvTime).
 * Lenient decoding: the header and the length identify a message, so a frame on another port than 129 is decoded
 * (with a warning); bytes beyond a message's documented length are named in a warning.
 */
import type { DeviceDefinition, DecodeInput, DecodeResult } from '../../../core/types.ts';
import { emptyResult } from '../../../core/boundary.ts';
import { DecodeError } from '../../../core/errors.ts';
import { stopAt } from '../../../core/lenient.ts';
import { ByteReader } from '../../../core/reader.ts';

const MODEL = 'FM432e';
const MIN = 60_000;
const STEPS: Record<number, number> = { 0x20: 10, 0x21: 15, 0x22: 60 };
const T2_STEPS: Record<number, number> = { 0: 10, 3: 15, 1: 60 };
const meterType = (bit: number) => (bit ? 'Electronic (Position B)' : 'Electromechanical (Position A)');

function t1(bytes: Uint8Array, step: number, recv: Date | undefined, res: DecodeResult): void {
  const r = new ByteReader(bytes, MODEL);
  r.skip(1, 'header');
  const index = r.u24be('index');
  const increments = Array.from({ length: 8 }, (_, i) => r.u16be(`increment ${i + 1}`));
  const powers = increments.map((inc) => (inc * 60) / step);
  const indexes: number[] = [index];
  for (let i = 7; i >= 0; i--) indexes.unshift(indexes[0]! - increments[i]!);
  res.data = { message_type: `T1_${step === 60 ? '1H' : `${step}MN`}`, time_step: step, index, increments, powers, indexes };
  if (!recv) {
    res.readings.push({ quantity: 'metering.electricity.activeEnergy', value: index });
    res.warnings.push(`${MODEL}: no reception time, the ${increments.length} history steps are not timestamped`);
    return;
  }
  indexes.forEach((v, i) => {
    if (v >= 0) res.readings.push({ quantity: 'metering.electricity.activeEnergy', value: v, time: new Date(recv.getTime() - (8 - i) * step * MIN) });
  });
  powers.forEach((p, i) =>
    res.readings.push({ quantity: 'electricity.activePower', value: p, time: new Date(recv.getTime() - (8 - i) * step * MIN) }),
  );
}

function t1OneMinute(bytes: Uint8Array, recv: Date | undefined, res: DecodeResult): void {
  const r = new ByteReader(bytes, MODEL);
  r.skip(1, 'header');
  const index = r.u32be('index');
  const powers = Array.from({ length: 20 }, (_, i) => r.u16be(`power ${i + 1}`));
  res.data = { message_type: 'T1', time_step: 1, index, powers };
  res.readings.push({ quantity: 'metering.electricity.activeEnergy', value: index });
  if (!recv) {
    res.warnings.push(`${MODEL}: no reception time, the 20 one-minute powers are not timestamped`);
    return;
  }
  powers.forEach((p, i) =>
    res.readings.push({ quantity: 'electricity.activePower', value: p, time: new Date(recv.getTime() - (20 - i) * MIN - 10 * MIN) }),
  );
}

function t2(bytes: Uint8Array, oneMinute: boolean, res: DecodeResult): void {
  const r = new ByteReader(bytes, MODEL);
  r.skip(1, 'header');
  const number_of_starts = r.u8('number of starts');
  r.skip(1, 'reserved');
  const param_id = r.u8('param id');
  const b4 = r.u8('status');
  const index = r.u32be('index');
  r.skip(2, 'reserved');
  const stepCode = r.u8('time step');
  const low_battery = b4 & 1;
  res.data = {
    message_type: 'T2',
    index,
    meter_type: meterType((b4 >> 1) & 1),
    low_battery,
    firmware_version: b4 >> 2,
    number_of_starts,
    param_id,
    time_step: oneMinute ? 1 : (T2_STEPS[stepCode] ?? stepCode),
  };
  res.readings.push({ quantity: 'metering.electricity.activeEnergy', value: index });
  if (low_battery) res.events.push({ type: 'low_battery', message: 'battery is low' });
}

/** T1 of the "_ap" firmware (header 0x69): step, index, then as many increments as the frame carries. */
function t1Ap(bytes: Uint8Array, recv: Date | undefined, res: DecodeResult): void {
  const r = new ByteReader(bytes, MODEL);
  r.skip(1, 'header');
  const step = r.u8('time step');
  if (step === 0) throw new DecodeError(`T1 message with a time step of 0 minutes`);
  const index = r.u32be('index');
  const n = Math.floor(r.remaining / 2);
  const increments = Array.from({ length: n }, (_, i) => r.u16be(`increment ${i + 1}`));
  const powers = increments.map((inc) => (inc * 60) / step);
  const indexes: number[] = [index];
  for (let i = n - 1; i >= 0; i--) indexes.unshift(indexes[0]! - increments[i]!);
  res.data = { message_type: 'T1', time_step: step, index, increments, powers, indexes };
  if (!recv) {
    res.readings.push({ quantity: 'metering.electricity.activeEnergy', value: index });
    res.warnings.push(`${MODEL}: no reception time, the ${n} history steps are not timestamped`);
    return;
  }
  const at = (i: number) => new Date(recv.getTime() - (n - i) * step * MIN);
  indexes.forEach((v, i) => {
    if (v >= 0) res.readings.push({ quantity: 'metering.electricity.activeEnergy', value: v, time: at(i) });
  });
  powers.forEach((p, i) => res.readings.push({ quantity: 'electricity.activePower', value: p, time: at(i) }));
}

/** T2 of the "_ap" firmware (header 0x6A, 16 bytes). */
function t2Ap(bytes: Uint8Array, res: DecodeResult): void {
  const r = new ByteReader(bytes, MODEL);
  r.skip(1, 'header');
  const number_of_starts = r.u8('number of starts');
  r.skip(2, 'reserved');
  const param_id = r.u8('param id');
  const firmware_version = r.u8('firmware version');
  const meter = r.u8('meter type');
  const low_battery = r.u8('low battery');
  const index = r.u32be('index');
  res.data = {
    message_type: 'T2',
    index,
    meter_type: meter === 0 ? meterType(0) : meter === 1 ? meterType(1) : meter,
    low_battery,
    firmware_version,
    number_of_starts,
    param_id,
    time_step: r.u8('time step'),
    number_of_values: r.u8('number of values'),
    redundancy: r.u8('redundancy'),
    sensitivity: r.u8('sensitivity'),
  };
  res.readings.push({ quantity: 'metering.electricity.activeEnergy', value: index });
  if (low_battery) res.events.push({ type: 'low_battery', message: 'battery is low' });
}

/** Documented length of a message, from its header (and, for technical messages, the frame length). */
function messageLength(h: number, len: number): { name: string; min: number; max: number } | undefined {
  if (STEPS[h] !== undefined) return { name: 'T1', min: 20, max: 20 };
  if (h === 0x5b) return { name: 'T1 (1 min)', min: 45, max: 45 };
  if (h === 0x0e || h === 0x51) return { name: 'T2', min: 12, max: 12 };
  if (h === 0x69) return { name: 'T1 (_ap firmware)', min: 8, max: 46 };
  if (h === 0x6a) return { name: 'T2 (_ap firmware)', min: 16, max: 16 };
  if (h === 0x01) return { name: 'START', min: 3, max: 3 };
  if (h === 0x5f) return { name: 'START', min: 9, max: 9 };
  if (h === 0x12) return len === 19 ? { name: 'TT1', min: 19, max: 19 } : { name: 'TT1', min: 37, max: 37 };
  if (h === 0x13) return len === 11 ? { name: 'TT2', min: 11, max: 11 } : { name: 'TT2', min: 30, max: 30 };
  return undefined;
}

function decode({ bytes, fPort, recvTime }: DecodeInput): DecodeResult {
  if (bytes.length === 0) throw new DecodeError(`empty payload`);
  const res = emptyResult();
  const h = bytes[0]!;
  const len = bytes.length;
  const spec = messageLength(h, len);
  if (!spec) {
    throw new DecodeError(`unknown message header 0x${h.toString(16)}${fPort === 129 ? '' : ` on fPort ${fPort} (Fludia sensors always use fPort 129)`}`);
  }
  // Technical messages are told apart by their exact length (electromechanical or electronic meter).
  const exact = h === 0x12 || h === 0x13;
  if (len < spec.min || (exact && len !== spec.max)) {
    const want = exact ? (h === 0x12 ? '37 or 19' : '30 or 11') : spec.min === spec.max ? `${spec.min}` : `${spec.min} to ${spec.max}`;
    throw new DecodeError(`${spec.name} message (header 0x${h.toString(16)}) must be ${want} bytes, got ${len}`);
  }
  // The _ap T1 carries whole 2-byte increments after its 6-byte head.
  const end = h === 0x69 ? Math.min(spec.max, 6 + 2 * Math.floor((len - 6) / 2)) : spec.max;
  if (len > end) stopAt(res, bytes, end, `bytes after the ${end}-byte ${spec.name} message are not part of its documented layout`, MODEL);
  const msg = bytes.subarray(0, end);
  if (STEPS[h] !== undefined) t1(msg, STEPS[h]!, recvTime, res);
  else if (h === 0x5b) t1OneMinute(msg, recvTime, res);
  else if (h === 0x0e || h === 0x51) t2(msg, h === 0x51, res);
  else if (h === 0x69) t1Ap(msg, recvTime, res);
  else if (h === 0x6a) t2Ap(msg, res);
  else if (exact) {
    const meca = h === 0x12 ? 37 : 30;
    res.data = { message_type: `${h === 0x12 ? 'TT1' : 'TT2'}_${len === meca ? 'MECA' : 'ELEC'}`, meter_type: meterType(len === meca ? 0 : 1) };
  } else {
    res.data = { message_type: 'START' };
    res.events.push({ type: 'reboot', message: 'sensor started' });
  }
  return res;
}

export const fm432e: DeviceDefinition = {
  vendor: 'Fludia',
  model: MODEL,
  description: 'Optical reader for electricity meters: energy index, 10/15/60-min increments or 1-min load curve',
  category: 'energy-meter',
  fPorts: [129],
  exposes: ['metering.electricity.activeEnergy', 'electricity.activePower'],
  documentation: [
    { title: 'Fludia FM432 – User Guide (FLD10068), §5–6 FM432e messages', url: 'https://www.manualslib.com/manual/3154387/Fludia-Fm432.html', version: '1.1.0' },
    { title: 'Fludia LoRaWAN decoders – output description and example input (README), FM432e v60 "_ap" message layout (fm432e_ap-decoder.js)', url: 'https://github.com/Fludia-IoT/LoRaWAN-decoders' },
  ],
  decode,
};
