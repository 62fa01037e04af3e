/**
 * Elvaco CMi4110, M-Bus to LoRaWAN module for Landis+Gyr UH50/UC50 (T550) heat meters.
 * Follows Elvaco "CMi4110 User's Manual" (v1.3, §6.6 "Message formats", Table 5 "Message type field"
 * and Tables 6–9 "Payload, message format …"): uplinks on fPort 2; byte 0 is the message format
 * (0 Standard, 1 Compact, 2 JSON, 3 Scheduled – daily redundant, 4 Scheduled – extended), then for the
 * binary formats a series of M-Bus data records (DIF/VIF + value, see ../mbus.ts): energy, volume,
 * power, flow, forward/return temperature, meter ID, info (error) bits, meter date/time.
 * JSON format: ASCII text such as {"E":12345678,"U":"kWh","ID":87654321}.
 * Only the current (storage 0, tariff 0, instantaneous) registers become canonical readings; stored or
 * tariff registers are kept in `data.records`. Lenient decoding: records are read until one that cannot be (the
 * ones before it are kept, a warning names the byte); a frame on another port is decoded when it identifies
 * itself (a documented message format, then M-Bus records that read to the end, or JSON).
 */
import type { DeviceDefinition, DecodeInput, DecodeResult, Reading } from '../../../core/types.ts';
import { emptyResult } from '../../../core/boundary.ts';
import { DecodeError } from '../../../core/errors.ts';
import { parseMbusRecords, type MbusKind } from '../mbus.ts';

const MODEL = 'CMi4110';
const FORMATS: Record<number, string> = {
  0: 'Standard',
  1: 'Compact',
  2: 'JSON',
  3: 'Scheduled - daily redundant',
  4: 'Scheduled - extended',
};

const CANONICAL: Partial<Record<MbusKind, Reading['quantity']>> = {
  energy: 'metering.heat.total',
  volume: 'metering.heat.volume',
  power: 'heat.power',
  flow: 'heat.flow',
  flowTemperature: 'heat.flowTemperature',
  returnTemperature: 'heat.returnTemperature',
};

const JSON_UNITS: Record<string, number> = {
  Wh: 1, kWh: 1e3, MWh: 1e6, GWh: 1e9,
  J: 1 / 3600, kJ: 1 / 3.6, MJ: 1e6 / 3600, GJ: 1e9 / 3600,
  Cal: 1.163e-3, kCal: 1.163, MCal: 1163, GCal: 1.163e6,
};

function decodeJson(bytes: Uint8Array, res: DecodeResult): void {
  const text = Buffer.from(bytes).toString('latin1');
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new DecodeError(`JSON message format is not valid JSON`);
  }
  if (typeof obj !== 'object' || obj === null) throw new DecodeError(`JSON message is not an object`);
  const o = obj as Record<string, unknown>;
  const e = o.E;
  const u = o.U;
  res.data = { messageFormat: 'JSON', energy: e, unit: u, meterId: o.ID };
  if (typeof e === 'number' && Number.isFinite(e) && typeof u === 'string' && JSON_UNITS[u] !== undefined) {
    res.readings.push({ quantity: 'metering.heat.total', value: Math.round(e * JSON_UNITS[u]! * 1000) / 1000 });
  } else {
    res.warnings.push(`${MODEL}: JSON message without a usable energy value/unit`);
  }
}

function decode({ bytes, fPort }: DecodeInput): DecodeResult {
  if (bytes.length < 2) throw new DecodeError(`payload of ${bytes.length} byte(s) is too short (message format + records)`);
  const res = emptyResult();
  const fmt = bytes[0]!;
  const name = FORMATS[fmt];
  // On another port (changed by the installer), the frame must identify itself: a message format of the manual
  // followed by M-Bus records that read to the end.
  const identified = () => name !== undefined && (fmt === 2 ? bytes[1] === 0x7b : (() => {
    const p = parseMbusRecords(bytes.subarray(1), MODEL, 1);
    return p.records.length > 0 && p.undecodedFrom === undefined;
  })());
  if (fPort !== 2 && !identified()) {
    throw new DecodeError(`unknown fPort ${fPort} (data uplinks use fPort 2) and the frame is not a message format of the manual followed by M-Bus records`);
  }
  if (fmt === 2) {
    decodeJson(bytes.subarray(1), res);
    return res;
  }
  if (name === undefined) res.warnings.push(`${MODEL}: message format 0x${fmt.toString(16)} not listed in the manual; records decoded generically`);
  const { records, warnings, undecodedFrom } = parseMbusRecords(bytes.subarray(1), MODEL, 1);
  // Only the format byte read: nothing to keep, the frame cannot be parsed.
  if (records.length === 0 && undecodedFrom !== undefined) throw new DecodeError(warnings[warnings.length - 1]!.replace(`${MODEL}: `, ''));
  res.warnings.push(...warnings);
  if (undecodedFrom !== undefined) res.undecodedFrom = undecodedFrom;
  const data: Record<string, unknown> = { messageFormat: name ?? `0x${fmt.toString(16)}` };
  const seen = new Set<MbusKind>();
  for (const rec of records) {
    const current = rec.storage === 0 && rec.tariff === 0 && rec.func === 0;
    if (current && !seen.has(rec.kind)) {
      seen.add(rec.kind);
      data[rec.kind] = rec.unit ? { value: rec.value, unit: rec.unit } : rec.value;
      const q = CANONICAL[rec.kind];
      if (q && rec.canonical !== undefined) res.readings.push({ quantity: q, value: rec.canonical });
      if (rec.kind === 'errorFlags' && rec.value !== 0) {
        res.events.push({ type: 'alarm', message: `meter info/error bits 0x${Number(rec.value).toString(16)}` });
      }
    } else {
      const list = (data.records as unknown[] | undefined) ?? [];
      list.push({ kind: rec.kind, value: rec.value, unit: rec.unit, storage: rec.storage, tariff: rec.tariff, function: rec.func });
      data.records = list;
    }
  }
  res.data = data;
  return res;
}

export const cmi4110: DeviceDefinition = {
  vendor: 'Elvaco',
  model: MODEL,
  description: 'M-Bus to LoRaWAN module for Landis+Gyr UH50/UC50 heat meters (energy, volume, power, flow, temperatures)',
  category: 'heat-meter',
  fPorts: [2],
  exposes: ['metering.heat.total', 'metering.heat.volume', 'heat.power', 'heat.flow', 'heat.flowTemperature', 'heat.returnTemperature'],
  documentation: [
    { title: "Elvaco CMi4110 User's Manual (message formats, §6.6)", url: 'https://manualshive.com/en/manual/elvaco/cmi4110/cmi4110_user-manual_2397685-14.html', version: 'v1.3 (2018-06)' },
    { title: 'Elvaco CMi4110 User Manual', url: "https://manuzoid.com/manuals/YJyMp-Elvaco%20CMi4110%20Owner's%20manual", version: '1.6 (2023-11-15)' },
  ],
  decode,
};
