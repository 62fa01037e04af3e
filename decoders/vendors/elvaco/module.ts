/**
 * Decoder shared by the Elvaco CMi41xx meter connectivity modules added after the CMi4110 (CMi4111, CMi4130,
 * CMi4140, CMi4160). Each module's user's manual (§6.7 "Message formats") describes the same structure: byte 0 is a
 * message format identifier, whose values differ per module (CMi4130: 0x0F..0x14, CMi4140: 0x15..0x1B, CMi4160:
 * 0x1E..0x23); the JSON format is ASCII such as {"E":12345678,"U":"kWh","ID":87654321}; every other format is a
 * series of M-Bus data records (EN 13757-3 DIF/VIF + value, ../mbus.ts). Scheduled formats also send a daily clock
 * message, identifier 0xFA, holding the meter date/time (046D).
 *
 * Besides the standard records, the manuals define:
 *   - 0779 + 8 bytes: meter address (EN 13757-3 enhanced identification): meter ID BCD8, manufacturer (2 bytes,
 *     three letters), version, device type (CMi4160 Standard and Compact);
 *   - 07FFA0 + scaling byte + 8 bytes (Compact and Scheduled-Extended): forward and return temperatures (°C,
 *     2 decimals), flow and power, scaled by the byte after A0 (power: 10^(n−3) W with n = bits 6..4). The
 *     manuals give two different exponents for the flow (10^(m−3) and 10^(m−6) m³/h), so the flow of this block is
 *     kept in `data` as its raw integer and scale bits, and gives no reading.
 *   - the Scheduled-Extended error flags and meter ID block, whose layout differs per module: 0DFF21E9 + error flags,
 *     meter ID BCD8, manufacturer, version, device type (CMi4160); 07FF21 + info bits (4 bytes) + meter ID (4 bytes,
 *     binary) (CMi4140); 06FF21 + alarm codes (2 bytes) + meter ID (4 bytes, binary) (CMi4130).
 * Any other manufacturer block is kept as hex in `data.records`.
 *
 * Only the current (storage 0, tariff 0, instantaneous) register of each kind becomes a reading; stored and tariff
 * registers, cooling energy (VIFE FF 02) and the 24:00 energy of the Scheduled formats stay in `data.records`.
 * Lenient decoding: records are read until one that cannot be (those before it are kept, a warning names the byte);
 * a frame on another port than 2 is decoded when it identifies itself (a format identifier of the module's manual
 * followed by M-Bus records that read to the end, or JSON). On port 2 a format identifier the manual does not list
 * is decoded generically, with a warning.
 */
import { emptyResult } from '../../core/boundary.ts';
import { DecodeError } from '../../core/errors.ts';
import type { DecodeInput, DecodeResult, Reading } from '../../core/types.ts';
import { parseMbusRecords, type MbusKind, type MbusRecord } from './mbus.ts';

export const ELVACO_FPORT = 2;
export const CLOCK_MESSAGE = 0xfa;

export interface ModuleFormats {
  /** Identifier → name, from the module's table "message formats". */
  formats: Record<number, string>;
  /** Identifier of the JSON format, when the manual gives it. */
  json?: number;
}

const CANONICAL: Partial<Record<MbusKind, Reading['quantity']>> = {
  energy: 'metering.heat.total',
  volume: 'metering.heat.volume',
  power: 'heat.power',
  flow: 'heat.flow',
  flowTemperature: 'heat.flowTemperature',
  returnTemperature: 'heat.returnTemperature',
};

/** Energy units of the JSON format, in Wh. */
const JSON_UNITS: Record<string, number> = {
  Wh: 1, kWh: 1e3, MWh: 1e6, GWh: 1e9,
  J: 1 / 3600, kJ: 1 / 3.6, MJ: 1e6 / 3600, GJ: 1e9 / 3600,
  Cal: 1.163e-3, kCal: 1.163, MCal: 1163, GCal: 1.163e6,
};

const round = (v: number, decimals: number) => Math.round(v * 10 ** decimals) / 10 ** decimals;

/** EN 13757-3 manufacturer code: three letters of 5 bits each, 'A' = 1. */
function manufacturer(code: number): string {
  return [(code >> 10) & 0x1f, (code >> 5) & 0x1f, code & 0x1f].map((c) => String.fromCharCode(64 + c)).join('');
}

function bcdLe(bytes: Uint8Array): number | undefined {
  let v = 0;
  for (let i = bytes.length - 1; i >= 0; i--) {
    const hi = bytes[i]! >> 4;
    const lo = bytes[i]! & 0x0f;
    if (hi > 9 || lo > 9) return undefined;
    v = v * 100 + hi * 10 + lo;
  }
  return v;
}

const fromHex = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

/** Interprets the manufacturer blocks the manuals document; returns false when the record stays raw. */
function interpret(model: string, rec: MbusRecord, data: Record<string, unknown>, res: DecodeResult, current: boolean): boolean {
  if (rec.kind !== 'manufacturerSpecific' || typeof rec.value !== 'string') return false;
  const b = fromHex(rec.value);
  if (rec.vif === '79' && b.length === 8) {
    const id = bcdLe(b.subarray(0, 4));
    data.meterAddress = {
      meterId: id ?? Buffer.from(b.subarray(0, 4)).toString('hex'),
      manufacturer: manufacturer(b[4]! | (b[5]! << 8)),
      version: b[6],
      deviceType: b[7],
    };
    return true;
  }
  if (rec.vif === 'ff21') {
    // Error/info flags and meter ID in one manufacturer block; its layout depends on the module, told apart by the DIF.
    let flags: number | undefined;
    if ((rec.dif & 0x0f) === 0x0d && b.length === 9) {
      // CMi4160 Scheduled-Extended, 0DFF21E9: error flags (1 byte), meter ID BCD8, manufacturer, version, device type.
      flags = b[0]!;
      data.meterAddress = {
        meterId: bcdLe(b.subarray(1, 5)) ?? Buffer.from(b.subarray(1, 5)).toString('hex'),
        manufacturer: manufacturer(b[5]! | (b[6]! << 8)),
        version: b[7],
        deviceType: b[8],
      };
    } else if ((rec.dif & 0x0f) === 0x07 && b.length === 8) {
      // CMi4140 Scheduled-Extended, 07FF21: info bits (4 bytes), meter ID (4 bytes, binary).
      flags = (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x1000000;
      data.meterId = (b[4]! | (b[5]! << 8) | (b[6]! << 16)) + b[7]! * 0x1000000;
    } else if ((rec.dif & 0x0f) === 0x06) {
      // CMi4130 Scheduled-Extended, 06FF21: alarm codes (2 bytes), meter ID (4 bytes, binary), as one 48-bit integer.
      const n = parseInt(rec.value, 16);
      flags = n % 0x10000;
      data.meterId = Math.floor(n / 0x10000);
    } else {
      return false;
    }
    data.errorFlags = flags;
    if (flags !== 0) res.events.push({ type: 'alarm', message: `meter error/info flags 0x${flags.toString(16)}` });
    return true;
  }
  if (/^ffa0[0-7][0-7]$/.test(rec.vif) && b.length === 8 && current) {
    const scale = parseInt(rec.vif.slice(4), 16);
    const n = (scale >> 4) & 0x07;
    const m = scale & 0x07;
    const u16 = (i: number) => b[i]! | (b[i + 1]! << 8);
    const i16 = (i: number) => (u16(i) > 0x7fff ? u16(i) - 0x10000 : u16(i));
    const forward = i16(0) / 100;
    const ret = i16(2) / 100;
    const power = round(u16(6) * 10 ** (n - 3), 3);
    data.powerFlowTemperatures = { forwardTemperature: forward, returnTemperature: ret, power, powerUnit: 'W', flowRaw: u16(4), flowScale: m };
    res.readings.push(
      { quantity: 'heat.flowTemperature', value: forward },
      { quantity: 'heat.returnTemperature', value: ret },
      { quantity: 'heat.power', value: power },
    );
    res.warnings.push(`${model}: flow of the 07FFA0 block kept raw (${u16(4)}, scale bits ${m}): the manual gives two different exponents for it`);
    return true;
  }
  return false;
}

function decodeJson(model: string, bytes: Uint8Array, res: DecodeResult, name: string): void {
  let obj: unknown;
  try {
    obj = JSON.parse(Buffer.from(bytes).toString('latin1'));
  } catch {
    throw new DecodeError(`${name} message is not valid JSON`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new DecodeError(`${name} message is not a JSON object`);
  const o = obj as Record<string, unknown>;
  res.data = { messageFormat: name, energy: o.E, unit: o.U, meterId: o.ID };
  const factor = typeof o.U === 'string' && Object.hasOwn(JSON_UNITS, o.U) ? JSON_UNITS[o.U] : undefined;
  if (typeof o.E === 'number' && Number.isFinite(o.E) && factor !== undefined) {
    res.readings.push({ quantity: 'metering.heat.total', value: round(o.E * factor, 3) });
  } else {
    res.warnings.push(`${model}: JSON message without a usable energy value and unit`);
  }
}

export function elvacoModuleDecoder(model: string, spec: ModuleFormats): (input: DecodeInput) => DecodeResult {
  const formats: Record<number, string> = { ...spec.formats, [CLOCK_MESSAGE]: 'Clock message' };
  return ({ bytes, fPort }) => {
    if (bytes.length < 2) throw new DecodeError(`payload of ${bytes.length} byte(s) is too short (message format + records)`);
    const fmt = bytes[0]!;
    const name = formats[fmt];
    const isJson = spec.json !== undefined && fmt === spec.json;
    const parsed = isJson ? undefined : parseMbusRecords(bytes.subarray(1), model, 1);
    if (fPort !== ELVACO_FPORT) {
      const identified = name !== undefined && (isJson ? bytes[1] === 0x7b : parsed!.records.length > 0 && parsed!.undecodedFrom === undefined);
      if (!identified) {
        throw new DecodeError(
          `fPort ${fPort} is not the data port (${ELVACO_FPORT}) and the frame is not a message format of the ${model} manual followed by M-Bus records`,
        );
      }
    }
    const res = emptyResult();
    if (isJson) {
      decodeJson(model, bytes.subarray(1), res, name!);
      return res;
    }
    const { records, warnings, undecodedFrom } = parsed!;
    if (records.length === 0 && undecodedFrom !== undefined) throw new DecodeError(warnings[warnings.length - 1]!.replace(`${model}: `, ''));
    if (name === undefined) res.warnings.push(`${model}: message format 0x${fmt.toString(16).padStart(2, '0')} is not listed in the manual; records decoded generically`);
    const data: Record<string, unknown> = { messageFormat: name ?? `0x${fmt.toString(16).padStart(2, '0')}` };
    const seen = new Set<MbusKind>();
    const interpreted = new Set<string>();
    for (const rec of records) {
      const current = rec.storage === 0 && rec.tariff === 0 && rec.func === 0;
      if (interpret(model, rec, data, res, current)) {
        interpreted.add(`record DIF 0x${rec.dif.toString(16)} VIF ${rec.vif} kept raw`);
        continue;
      }
      // A VIF with extensions on an energy (FF 02: cooling energy E3) is not the heat energy register.
      const plain = rec.kind !== 'energy' || rec.vif.length === 2 || rec.vif.startsWith('fb');
      if (current && plain && !seen.has(rec.kind) && rec.kind !== 'manufacturerSpecific' && rec.kind !== 'other') {
        seen.add(rec.kind);
        data[rec.kind] = rec.unit ? { value: rec.value, unit: rec.unit } : rec.value;
        const q = CANONICAL[rec.kind];
        if (q && rec.canonical !== undefined) res.readings.push({ quantity: q, value: rec.canonical });
        if (rec.kind === 'errorFlags' && rec.value !== 0) {
          res.events.push({ type: 'alarm', message: `meter error/info flags 0x${Number(rec.value).toString(16)}` });
        }
      } else {
        const list = (data.records as unknown[] | undefined) ?? [];
        list.push({ kind: rec.kind, value: rec.value, unit: rec.unit, storage: rec.storage, tariff: rec.tariff, function: rec.func, vif: rec.vif });
        data.records = list;
      }
    }
    // The 07FFA0 block and a standard record may both give a temperature or the power: keep the standard record's.
    res.readings = res.readings.filter((r, i) => res.readings.findIndex((o) => o.quantity === r.quantity) === i);
    res.warnings.push(...warnings.filter((w) => ![...interpreted].some((x) => w.endsWith(x))));
    if (undecodedFrom !== undefined) res.undecodedFrom = undecodedFrom;
    res.data = data;
    return res;
  };
}

export function manualDocument(model: string, url: string, version: string) {
  return { title: `Elvaco ${model} User's Manual (§6.7 message formats)`, url, version };
}
