/**
 * M-Bus data records (EN 13757-3 DIF/VIF) as carried after the message-format byte in Elvaco CMi41xx
 * LoRaWAN telegrams (Elvaco CMi4110 User's Manual, §6.6 "Message formats", tables "Payload, message
 * format Standard/Compact/Scheduled": every field is "DIF/VIF codes + value", e.g. 0406xxxxxxxx = kWh,
 * 0C14… = BCD volume × 0.01 m³, 0A5A… = BCD flow temperature × 0.1 °C, 0C78… = meter ID, 02FD17… = info bits).
 * One parser for the Elvaco family; the model maps records to readings.
 */
import { ByteReader } from '../../core/reader.ts';
import { DecodeError } from '../../core/errors.ts';
import { stopAt } from '../../core/lenient.ts';

export type MbusKind =
  | 'energy' | 'volume' | 'power' | 'flow' | 'flowTemperature' | 'returnTemperature' | 'temperatureDifference'
  | 'meterId' | 'dateTime' | 'date' | 'errorFlags' | 'onTime' | 'operatingTime' | 'manufacturerSpecific' | 'other';

export interface MbusRecord {
  kind: MbusKind;
  /** Value in the unit of `unit` (the meter's unit, as the Elvaco manual lists it). */
  value: number | string;
  unit: string;
  /** Value in the canonical unit (Wh, L, W, L/h, °C), when the record is a measurement. */
  canonical?: number;
  storage: number;
  tariff: number;
  /** 0 instantaneous, 1 maximum, 2 minimum, 3 during error state. */
  func: number;
  dif: number;
  vif: string;
}

const p10 = (v: number, e: number) => (e >= 0 ? v * 10 ** e : v / 10 ** -e);

function readValue(r: ByteReader, code: number, field: string): number | Uint8Array {
  switch (code) {
    case 0x1: return r.i8(field);
    case 0x2: return r.i16le(field);
    case 0x3: { const v = r.u24le(field); return v & 0x800000 ? v - 0x1000000 : v; }
    case 0x4: return r.i32le(field);
    case 0x5: return r.f32le(field);
    case 0x6: { const lo = r.u32le(field); const hi = r.i16le(field); return hi * 0x100000000 + lo; }
    case 0x7: return r.slice(8, field); // 64-bit: only used by manufacturer-specific blocks here
    case 0x9: return bcd(r.slice(1, field), field);
    case 0xa: return bcd(r.slice(2, field), field);
    case 0xb: return bcd(r.slice(3, field), field);
    case 0xc: return bcd(r.slice(4, field), field);
    case 0xe: return bcd(r.slice(6, field), field);
    case 0xd: {
      // LVAR (EN 13757-3 §6.3.3): below 0xC0 a length in bytes; 0xC0..0xEF a BCD or binary number of (LVAR & 0x0F)
      // bytes (Elvaco's 0DFF21E9 block is 9 binary bytes); 0xF0..0xF4 4×(LVAR−0xEC) bytes.
      const lvar = r.u8(`${field} length`);
      if (lvar > 0xf4) throw new DecodeError(`M-Bus: LVAR 0x${lvar.toString(16)} of ${field} is reserved`);
      const len = lvar < 0xc0 ? lvar : lvar < 0xf0 ? lvar & 0x0f : 4 * (lvar - 0xec);
      return r.slice(len, field);
    }
    default: throw new DecodeError(`M-Bus: data field 0x${code.toString(16)} of ${field} is not supported`);
  }
}

/** BCD, least significant byte first; a high nibble 0xF in the last byte marks a negative value. */
function bcd(b: Uint8Array, field: string): number {
  let v = 0;
  let negative = false;
  for (let i = b.length - 1; i >= 0; i--) {
    let hi = b[i]! >> 4;
    const lo = b[i]! & 0x0f;
    if (i === b.length - 1 && hi === 0xf) { negative = true; hi = 0; }
    if (hi > 9 || lo > 9) throw new DecodeError(`M-Bus: ${field} is not valid BCD (byte 0x${b[i]!.toString(16)})`);
    v = v * 100 + hi * 10 + lo;
  }
  return negative ? -v : v;
}

/** Type F date-time (VIF 0x6D, 4 bytes): "YYYY-MM-DD hh:mm" local meter time, or "invalid". */
function typeF(raw: number): string {
  if (raw & 0x80) return 'invalid';
  const min = raw & 0x3f;
  const hour = (raw >> 8) & 0x1f;
  const day = (raw >> 16) & 0x1f;
  const month = (raw >> 24) & 0x0f;
  const year = 2000 + (((raw >> 21) & 0x07) | ((raw >>> 28) << 3));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${year}-${p(month)}-${p(day)} ${p(hour)}:${p(min)}`;
}

function typeG(raw: number): string {
  const day = raw & 0x1f;
  const month = (raw >> 8) & 0x0f;
  const year = 2000 + (((raw >> 5) & 0x07) | ((raw >> 12) << 3));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${year}-${p(month)}-${p(day)}`;
}

/**
 * Reads M-Bus data records until the end, or until one that cannot be read (manufacturer data block, value cut
 * short, data field not supported): the records before it are kept and a warning names its byte offset in the
 * frame (`frameOffset` is where `bytes` starts in the frame; lenient decoding, core/lenient.ts).
 */
export function parseMbusRecords(
  bytes: Uint8Array,
  context: string,
  frameOffset = 0,
): { records: MbusRecord[]; warnings: string[]; undecodedFrom?: number } {
  const r = new ByteReader(bytes, context);
  const records: MbusRecord[] = [];
  const warnings: string[] = [];
  const out: { records: MbusRecord[]; warnings: string[]; undecodedFrom?: number } = { records, warnings };
  while (r.remaining > 0) {
    const at = r.offset;
    try {
      if (!readRecord(r)) continue;
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      const partial = { warnings, undecodedFrom: undefined as number | undefined };
      const frame = new Uint8Array(frameOffset + bytes.length);
      frame.set(bytes, frameOffset);
      stopAt(partial, frame, frameOffset + at, err.message.replace(`${context}: `, ''), context);
      if (partial.undecodedFrom !== undefined) out.undecodedFrom = partial.undecodedFrom;
      break;
    }
  }
  return out;

  /** One record; false for the idle filler. */
  function readRecord(r: ByteReader): boolean {
    const dif = r.u8('DIF');
    if (dif === 0x2f) return false; // idle filler
    if (dif === 0x0f || dif === 0x1f) throw new DecodeError(`${context}: manufacturer data block (DIF 0x${dif.toString(16)}) is not supported`);
    let storage = (dif >> 6) & 1;
    let tariff = 0;
    let ext = dif & 0x80;
    let n = 0;
    while (ext) {
      const dife = r.u8('DIFE');
      storage |= (dife & 0x0f) << (1 + 4 * n);
      tariff |= ((dife >> 4) & 0x03) << (2 * n);
      ext = dife & 0x80;
      if (++n > 10) throw new DecodeError(`${context}: too many DIFE`);
    }
    const vifBytes = [r.u8('VIF')];
    while (vifBytes[vifBytes.length - 1]! & 0x80) {
      vifBytes.push(r.u8('VIFE'));
      if (vifBytes.length > 11) throw new DecodeError(`${context}: too many VIFE`);
    }
    const vif = vifBytes.map((b) => b.toString(16).padStart(2, '0')).join('');
    const raw = readValue(r, dif & 0x0f, `record 0x${dif.toString(16)}/${vif}`);
    const base = { storage, tariff, func: (dif >> 4) & 0x03, dif, vif };
    const v0 = vifBytes[0]! & 0x7f;
    const primary = vifBytes[0]!;
    const num = typeof raw === 'number' ? raw : undefined;
    const push = (kind: MbusKind, value: number | string, unit: string, canonical?: number) =>
      records.push({ kind, value, unit, ...(canonical !== undefined ? { canonical } : {}), ...base });

    if (num === undefined || primary === 0xff || primary === 0x7f) {
      // A manufacturer-specific VIF can carry an integer (DIF 0x01..0x06) as well as bytes: keep either as hex.
      const hex = typeof raw === 'number' ? raw.toString(16) : Buffer.from(raw).toString('hex');
      push('manufacturerSpecific', hex, '');
      warnings.push(`${context}: record DIF 0x${dif.toString(16)} VIF ${vif} kept raw`);
      return true;
    }
    if (primary === 0xfd && (vifBytes[1]! & 0x7f) === 0x17) { push('errorFlags', num, ''); return true; }
    if (primary === 0xfb) {
      const e = vifBytes[1]! & 0x7f;
      if (e === 0x00 || e === 0x01) { const mwh = p10(num, e - 1); push('energy', mwh, 'MWh', p10(num, e - 1 + 6)); return true; }
      if (e === 0x08 || e === 0x09) { const gj = p10(num, e - 9); push('energy', gj, 'GJ', (p10(num, e - 9) * 1e9) / 3600); return true; }
      if (e >= 0x0d && e <= 0x0f) { const mcal = p10(num, e - 0x0d); push('energy', mcal, 'MCal', mcal * 1163); return true; }
      push('other', num, ''); warnings.push(`${context}: VIF FB${vif.slice(2)} not interpreted`); return true;
    }
    if (primary === 0xfd) { push('other', num, ''); warnings.push(`${context}: VIF ${vif} not interpreted`); return true; }
    if (v0 <= 0x07) {
      const e = v0 - 3;
      if (e >= 3) push('energy', p10(num, e - 3), 'kWh', p10(num, e));
      else push('energy', p10(num, e), 'Wh', p10(num, e));
    } else if (v0 <= 0x0f) {
      const e = v0 & 7;
      if (e >= 6) push('energy', p10(num, e - 6), 'MJ', p10(num, e) / 3600);
      else push('energy', p10(num, e), 'J', p10(num, e) / 3600);
    }
    else if (v0 <= 0x17) { const e = (v0 & 7) - 6; push('volume', p10(num, e), 'm3', p10(num, e + 3)); }
    else if (v0 >= 0x20 && v0 <= 0x23) push('onTime', num, ['s', 'min', 'h', 'd'][v0 & 3]!);
    else if (v0 >= 0x24 && v0 <= 0x27) push('operatingTime', num, ['s', 'min', 'h', 'd'][v0 & 3]!);
    else if (v0 >= 0x28 && v0 <= 0x2f) { const e = (v0 & 7) - 3; push('power', p10(num, e), 'W', p10(num, e)); }
    else if (v0 >= 0x38 && v0 <= 0x3f) { const e = (v0 & 7) - 6; push('flow', p10(num, e), 'm3/h', p10(num, e + 3)); }
    else if (v0 >= 0x58 && v0 <= 0x5b) { const t = p10(num, (v0 & 3) - 3); push('flowTemperature', t, '°C', t); }
    else if (v0 >= 0x5c && v0 <= 0x5f) { const t = p10(num, (v0 & 3) - 3); push('returnTemperature', t, '°C', t); }
    else if (v0 >= 0x60 && v0 <= 0x63) { const t = p10(num, (v0 & 3) - 3); push('temperatureDifference', t, 'K'); }
    else if (v0 === 0x6d) push('dateTime', typeF(num >>> 0), 'local');
    else if (v0 === 0x6c) push('date', typeG(num & 0xffff), 'local');
    else if (v0 === 0x78) push('meterId', num, '');
    else { push('other', num, ''); warnings.push(`${context}: VIF ${vif} not interpreted`); }
    return true;
  }
}
