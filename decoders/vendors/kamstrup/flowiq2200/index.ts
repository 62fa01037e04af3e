/**
 * Kamstrup flowIQ 2200 water meter, "OMS over LoRaWAN" (configuration 02K73A): the LoRaWAN payload is an OMS /
 * EN 13757-3 application layer.
 *
 * Byte 0 is the CI field: 0x78 (no header), 0x7A (short header: access number, status, configuration word) or 0x72
 * (long header: meter ID BCD8, manufacturer, version, device type, then the short header). Then M-Bus data records
 * (DIF/VIF + value, parser shared with the Elvaco modules, ../../elvaco/mbus.ts):
 *   446D  date/time of the latest logged values (type F, the meter's clock; the frame does not say its time zone);
 *   4413  volume at that time (litres); 0413 the current volume when the meter sends it;
 *   4D9313 + LVAR  hourly volume profile going back from that time (VIF 0x93 volume in litres, VIFE 0x13 inverse
 *         compact profile): a spacing control byte (bits 7-6 increment mode, 01 = increments; bits 5-4 unit,
 *         10 = hours; bits 3-0 element size as a DIF code, 1 = 8-bit, 2 = 16-bit), the spacing value, then one
 *         element per step, each the volume used during the step before;
 *   52FF25  info codes (2 bytes); bits 0-3 are DRY, REVERSE, LEAK, BURST (flowIQ 3100 technical description, "Info
 *         register", the same order as The Things Network's codec for this meter); the other bits are kept raw;
 *   623B / 523B  minimum / maximum flow (L/h), 615B / 515B minimum / maximum water temperature (0x80: invalid),
 *   42FF1C, 04FF16  Kamstrup registers (kept raw).
 * Examples: The Things Network device repository, vendor/kamstrup/mbusparser.yaml (one "from the Integration Guide").
 *
 * Readings: the latest volume index (current register, else the logged one) and the four alarms, at the reception
 * time, since the meter's clock zone is not in the frame; the hourly profile is kept in `data.profile` with the
 * meter's own times. Encrypted application layers (configuration word mode ≠ 0) cannot be read without the meter's
 * key: an error, the uplink is kept raw. Lenient decoding: records are read until one that cannot be (those before
 * it are kept, a warning names the byte); on another port than 1 a frame is decoded when its CI field is one of the
 * three above and its records read to the end.
 */
import { emptyResult } from '../../../core/boundary.ts';
import { DecodeError } from '../../../core/errors.ts';
import type { DecodeInput, DecodeResult, DeviceDefinition } from '../../../core/types.ts';
import { parseMbusRecords, type MbusRecord } from '../../elvaco/mbus.ts';

const MODEL = 'flowIQ 2200';
const FPORT = 1;
const HEADER: Record<number, number> = { 0x78: 0, 0x7a: 4, 0x72: 12 };
const INFO_BITS = ['dry', 'reverse', 'leak', 'burst'] as const;
const ALARM = { dry: 'water.alarm.dry', reverse: 'water.alarm.backflow', leak: 'water.alarm.leak', burst: 'water.alarm.burst' } as const;

function bcd(bytes: Uint8Array): number | string {
  let v = 0;
  for (let i = bytes.length - 1; i >= 0; i--) {
    const hi = bytes[i]! >> 4;
    const lo = bytes[i]! & 0x0f;
    if (hi > 9 || lo > 9) return Buffer.from(bytes).toString('hex');
    v = v * 100 + hi * 10 + lo;
  }
  return v;
}

function manufacturer(code: number): string {
  return [(code >> 10) & 0x1f, (code >> 5) & 0x1f, code & 0x1f].map((c) => String.fromCharCode(64 + c)).join('');
}

/** Short header fields (EN 13757-3): access number, status byte, configuration word (encryption mode in bits 8..12). */
function shortHeader(b: Uint8Array, at: number, data: Record<string, unknown>, res: DecodeResult): void {
  const status = b[at + 1]!;
  const config = b[at + 2]! | (b[at + 3]! << 8);
  data.accessNumber = b[at];
  data.status = status;
  const mode = (config >> 8) & 0x1f;
  if (mode !== 0) throw new DecodeError(`application layer encrypted (security mode ${mode}); the meter's key is needed to read it`);
  if (status & 0x04) res.events.push({ type: 'low_battery', message: 'M-Bus status: power low' });
  if (status & 0x18) res.events.push({ type: 'alarm', message: `M-Bus status 0x${status.toString(16)}: ${status & 0x08 ? 'permanent' : 'temporary'} error` });
}

/** "YYYY-MM-DD hh:mm" (meter time) minus `steps` spacings, in the same naive form. */
function stepBack(base: string, minutes: number): string {
  const t = new Date(`${base.replace(' ', 'T')}:00Z`).getTime() - minutes * 60_000;
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

/** Inverse compact profile of a volume register (VIF 93 13), from the base value and time going back. */
function volumeProfile(rec: MbusRecord, baseLitres: number | undefined, baseTime: string | undefined, res: DecodeResult): Record<string, unknown>[] | undefined {
  const b = Uint8Array.from(Buffer.from(String(rec.value), 'hex'));
  if (b.length < 2) return undefined;
  const control = b[0]!;
  const spacing = b[1]!;
  const mode = control >> 6;
  const unit = (control >> 4) & 0x03;
  const size = [0, 1, 2, 3, 4][control & 0x0f];
  if (mode !== 1 || unit === 3 || !size) {
    res.warnings.push(`${MODEL}: volume profile with spacing control byte 0x${control.toString(16)} (only increments with a seconds, minutes or hours spacing and 1..4-byte elements are read); kept raw`);
    return undefined;
  }
  if (baseLitres === undefined || baseTime === undefined || baseTime === 'invalid') {
    res.warnings.push(`${MODEL}: volume profile without its base value and time (4413 and 446D records); kept raw`);
    return undefined;
  }
  const minutes = spacing * [1 / 60, 1, 60][unit]!;
  const out: Record<string, unknown>[] = [];
  let v = baseLitres;
  let t = baseTime;
  for (let i = 2; i + size <= b.length; i += size) {
    let e = 0;
    for (let k = size - 1; k >= 0; k--) e = e * 256 + b[i + k]!;
    v -= e;
    t = stepBack(t, minutes);
    out.push({ time: t, volume_m3: v / 1000 });
  }
  return out;
}

function decode({ bytes, fPort }: DecodeInput): DecodeResult {
  if (bytes.length === 0) throw new DecodeError('empty payload');
  const ci = bytes[0]!;
  const hdr = HEADER[ci];
  if (hdr === undefined) throw new DecodeError(`CI field 0x${ci.toString(16)} is not an OMS application layer (0x72, 0x78 or 0x7A)`);
  if (bytes.length < 1 + hdr) throw new DecodeError(`payload ends at byte ${bytes.length}, the ${hdr}-byte header after CI 0x${ci.toString(16)} does not fit`);
  const res = emptyResult();
  const data: Record<string, unknown> = {};
  if (ci === 0x72) {
    data.meterId = bcd(bytes.subarray(1, 5));
    data.manufacturer = manufacturer(bytes[5]! | (bytes[6]! << 8));
    data.version = bytes[7];
    data.deviceType = bytes[8];
    shortHeader(bytes, 9, data, res);
  } else if (ci === 0x7a) {
    shortHeader(bytes, 1, data, res);
  }
  const start = 1 + hdr;
  const { records, warnings, undecodedFrom } = parseMbusRecords(bytes.subarray(start), MODEL, start);
  if (fPort !== FPORT && (records.length === 0 || undecodedFrom !== undefined)) {
    throw new DecodeError(`fPort ${fPort} is not the documented port (${FPORT}) and the frame's M-Bus records do not read to the end`);
  }
  if (records.length === 0 && undecodedFrom !== undefined) throw new DecodeError(warnings[warnings.length - 1]!.replace(`${MODEL}: `, ''));
  const plain = (r: MbusRecord) => r.tariff === 0 && r.func === 0;
  const current = records.find((r) => r.kind === 'volume' && r.storage === 0 && plain(r));
  const logged = records.find((r) => r.kind === 'volume' && r.storage === 1 && plain(r));
  const logTime = records.find((r) => r.kind === 'dateTime' && r.storage === 1)?.value as string | undefined;
  if (logTime !== undefined) data.logTime = logTime;
  if (current) data.volume_m3 = (current.canonical ?? 0) / 1000;
  if (logged) data.loggedVolume_m3 = (logged.canonical ?? 0) / 1000;
  const index = current ?? logged;
  if (index?.canonical !== undefined) res.readings.push({ quantity: 'metering.water.total', value: index.canonical });
  const raw = new Set<string>();
  for (const rec of records) {
    if (rec === current || rec === logged || (rec.kind === 'dateTime' && rec.storage === 1)) continue;
    if (rec.vif === '9313') {
      const profile = volumeProfile(rec, logged?.canonical, logTime, res);
      if (profile) {
        data.profile = profile;
        raw.add(`record DIF 0x${rec.dif.toString(16)} VIF ${rec.vif} kept raw`);
        continue;
      }
    }
    if (rec.vif === 'ff25' && typeof rec.value === 'string') {
      const code = parseInt(rec.value, 16);
      const info: Record<string, unknown> = { raw: code };
      INFO_BITS.forEach((name, bit) => {
        const on = (code & (1 << bit)) !== 0;
        info[name] = on;
        res.readings.push({ quantity: ALARM[name], value: on });
      });
      data.infoCodes = info;
      raw.add(`record DIF 0x${rec.dif.toString(16)} VIF ${rec.vif} kept raw`);
      continue;
    }
    if ((rec.kind === 'flow' || rec.kind === 'flowTemperature') && rec.func !== 0) {
      const name = `${rec.func === 2 ? 'min' : rec.func === 1 ? 'max' : 'errorState'}${rec.kind === 'flow' ? 'Flow_l_h' : 'WaterTemperature_c'}`;
      // 0x80 (−128 in one byte) marks a temperature the meter could not measure.
      data[name] = rec.kind === 'flowTemperature' && rec.dif % 16 === 1 && rec.value === -128 ? null : rec.canonical ?? rec.value;
      continue;
    }
    const list = (data.records as unknown[] | undefined) ?? [];
    list.push({ kind: rec.kind, value: rec.value, unit: rec.unit, storage: rec.storage, tariff: rec.tariff, function: rec.func, vif: rec.vif });
    data.records = list;
  }
  res.warnings.push(...warnings.filter((w) => ![...raw].some((x) => w.endsWith(x))));
  if (undecodedFrom !== undefined) res.undecodedFrom = undecodedFrom;
  res.data = data;
  return res;
}

export const flowIq2200: DeviceDefinition = {
  vendor: 'Kamstrup',
  model: MODEL,
  description: 'Ultrasonic water meter, OMS over LoRaWAN: volume index, hourly profile, dry / reverse / leak / burst alarms',
  category: 'water-meter',
  fPorts: [FPORT],
  exposes: ['metering.water.total', 'water.alarm.dry', 'water.alarm.backflow', 'water.alarm.leak', 'water.alarm.burst'],
  documentation: [
    { title: 'Kamstrup flowIQ 2200 OMS over LoRaWAN in The Things Network device repository (device and M-Bus parser examples, one from the Integration Guide)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/kamstrup/mbusparser.yaml' },
    { title: 'Kamstrup flowIQ 2200 data sheet', url: 'https://documentation.kamstrup.com/docs/flowIQ_2200_EU/en-GB/Data_sheet/CONT86024E18ECB94BD6B9510C582087F03F/' },
    { title: 'Kamstrup flowIQ 3100 technical description, "Info register" (info code bits DRY, REVERSE, LEAK, BURST)', url: 'https://www.easymanua.ls/kamstrup/flowiq-3100/manual?p=40', version: '5512-1242_D1_GB, 09.2016' },
  ],
  decode,
};
