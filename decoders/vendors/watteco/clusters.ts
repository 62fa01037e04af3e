/**
 * Watteco cluster interpreters, shared by every Watteco model: each turns one parsed ZCL attribute
 * (see zcl.ts) into vendor-named `data` fields, canonical readings and events.
 *
 * Sources (Watteco support documentation, https://support.watteco.com/):
 *   - Basic cluster 0x0000, attribute 0x0002 firmware version (major, minor, revision, 3-byte RC build)
 *   - On/Off cluster 0x0006, attribute 0x0000: relay state (0x01 ON / 0x00 OFF)
 *   - Binary input cluster 0x000F: 0x0055 present value (case violation on TH), 0x0402 count
 *   - Configuration cluster 0x0050, attribute 0x0006 node power descriptor: length, current power mode,
 *     available power sources (bits 0x01 constant, 0x02 rechargeable battery, 0x04 disposable battery,
 *     0x08 solar harvesting, 0x10 TIC harvesting), one voltage in mV per available source, current source
 *   - Simple metering like cluster 0x0052, attribute 0x0000: active energy (s24, Wh), reactive energy
 *     (s24, varh), number of samples (u16), active power (s16, W), reactive power (s16, var)
 *   - Temperature measurement 0x0402 (s16, °C × 100), relative humidity 0x0405 (u16, % × 100)
 *   - LoRaWAN cluster 0x8004, attribute 0x0000 message type (0 unconfirmed, 1 confirmed)
 *   - TIC clusters 0x0053–0x0057 (see tic.ts)
 */
import { DecodeError } from '../../core/errors.ts';
import { stopAt } from '../../core/lenient.ts';
import { ByteReader } from '../../core/reader.ts';
import type { DecodeInput, DecodeResult, Reading } from '../../core/types.ts';
import { emptyResult } from '../../core/boundary.ts';
import { decodeTic, TIC_CLUSTERS } from './tic.ts';
import { COMMAND_NAMES, WATTECO_PORT, hex, hex16, parseZclFrame, type ZclAttribute, type ZclValue } from './zcl.ts';

export type ClusterId = number;

const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

function asNumber(v: ZclValue | undefined, what: string): number {
  if (typeof v !== 'number') throw new DecodeError(`${what}: expected a numeric attribute type`);
  return v;
}

function asBytes(v: ZclValue | undefined, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new DecodeError(`${what}: expected a byte string attribute (type 0x41)`);
  return v;
}

const POWER_SOURCES: readonly [bit: number, name: string][] = [
  [0x01, 'constant_power_voltage'],
  [0x02, 'rechargeable_battery_voltage'],
  [0x04, 'disposable_battery_voltage'],
  [0x08, 'solar_harvesting_voltage'],
  [0x10, 'tic_harvesting_voltage'],
];

/** TIC labels that are whole-meter totals: stored without a channel, so sums over channels never count them twice. */
const TIC_TOTALS = new Set(['EAST', 'BASE']);

/** TIC labels that are active-energy indexes (Wh), reported with the label as channel unless a total. */
const TIC_ACTIVE_ENERGY = new Set([
  'BASE', 'HCHC', 'HCHP', 'EJPHN', 'EJPHPM', 'BBRHCJB', 'BBRHPJB', 'BBRHCJW', 'BBRHPJW', 'BBRHCJR', 'BBRHPJR',
  'EAST', 'EASF01', 'EASF02', 'EASF03', 'EASF04', 'EASF05', 'EASF06', 'EASF07', 'EASF08', 'EASF09', 'EASF10',
  'EASD01', 'EASD02', 'EASD03', 'EASD04',
]);
const TIC_CURRENT: Record<string, string | undefined> = { IINST: undefined, IINST1: 'L1', IINST2: 'L2', IINST3: 'L3', IRMS1: 'L1', IRMS2: 'L2', IRMS3: 'L3' };
const TIC_VOLTAGE: Record<string, string> = { URMS1: 'L1', URMS2: 'L2', URMS3: 'L3' };
const TIC_APPARENT_POWER: Record<string, string | undefined> = { PAPP: undefined, SINSTS: undefined, SINSTS1: 'L1', SINSTS2: 'L2', SINSTS3: 'L3' };

/** Applies one attribute to the result; returns false when the cluster/attribute is not known. */
function applyAttribute(a: ZclAttribute, out: DecodeResult, frame: Uint8Array): boolean {
  const what = `cluster ${hex16(a.clusterId)} attribute ${hex16(a.attributeId)}`;
  const { data, readings, events } = out;
  const v = a.value;
  const push = (r: Reading) => readings.push(r);

  if (a.clusterId === 0x0000 && a.attributeId === 0x0002) {
    const b = asBytes(v, what);
    if (b.length !== 6) throw new DecodeError(`${what}: firmware version needs 6 bytes, got ${b.length}`);
    data.firmware = `${b[0]}.${b[1]}.${b[2]}.${(b[3]! << 16) | (b[4]! << 8) | b[5]!}`;
    return true;
  }
  if (a.clusterId === 0x0006 && a.attributeId === 0x0000) {
    if (typeof v !== 'boolean') throw new DecodeError(`${what}: relay state must be a boolean (type 0x10)`);
    data.output = v ? 'ON' : 'OFF';
    return true;
  }
  if (a.clusterId === 0x000f && a.attributeId === 0x0055) {
    if (typeof v !== 'boolean') throw new DecodeError(`${what}: present value must be a boolean (type 0x10)`);
    data.violation_detection = v;
    if (v) events.push({ type: 'tamper', message: 'case opened (violation detection)' });
    return true;
  }
  if (a.clusterId === 0x000f && a.attributeId === 0x0402) {
    data.index = asNumber(v, what);
    return true;
  }
  if (a.clusterId === 0x0050 && a.attributeId === 0x0006) {
    const r = new ByteReader(asBytes(v, what), 'node power descriptor');
    data.power_mode = r.u8('current power mode');
    const sources = r.u8('available power sources');
    for (const [bit, name] of POWER_SOURCES) {
      if (!(sources & bit)) continue;
      const volts = r3(r.u16be(name) / 1000);
      data[name] = volts;
      if (bit === 0x02 || bit === 0x04) push({ quantity: 'battery', value: volts });
    }
    data.current_power_source = r.u8('current power source');
    return true;
  }
  if (a.clusterId === 0x0052 && a.attributeId === 0x0000) {
    const r = new ByteReader(asBytes(v, what), 'current metering');
    const u24 = (f: string) => {
      const x = r.u24be(f);
      return x >= 0x800000 ? x - 0x1000000 : x;
    };
    data.active_energy = u24('active energy');
    data.reactive_energy = u24('reactive energy');
    data.nb_samples = r.u16be('number of samples');
    data.active_power = r.i16be('active power');
    data.reactive_power = r.i16be('reactive power');
    push({ quantity: 'metering.electricity.activeEnergy', value: data.active_energy as number });
    push({ quantity: 'metering.electricity.reactiveEnergy', value: data.reactive_energy as number });
    push({ quantity: 'electricity.activePower', value: data.active_power as number });
    push({ quantity: 'electricity.reactivePower', value: data.reactive_power as number });
    return true;
  }
  // ZCL: 0x8000 (temperature, s16) and 0xFFFF (humidity, u16) mean "invalid measurement", not a value.
  if (a.clusterId === 0x0402 && a.attributeId <= 0x0002) {
    const raw = asNumber(v, what);
    const key = ['temperature', 'temperature_min_measured', 'temperature_max_measured'][a.attributeId]!;
    data[key] = raw === -0x8000 ? 'invalid' : r2(raw / 100);
    if (a.attributeId === 0 && raw !== -0x8000) push({ quantity: 'air.temperature', value: r2(raw / 100) });
    return true;
  }
  if (a.clusterId === 0x0405 && a.attributeId <= 0x0002) {
    const raw = asNumber(v, what);
    const key = ['humidity', 'humidity_min_measured', 'humidity_max_measured'][a.attributeId]!;
    data[key] = raw === 0xffff ? 'invalid' : r2(raw / 100);
    if (a.attributeId === 0 && raw !== 0xffff) push({ quantity: 'air.relativeHumidity', value: r2(raw / 100) });
    return true;
  }
  if (a.clusterId === 0x8004 && a.attributeId === 0x0000) {
    const t = asNumber(v, what);
    data.message_type = t === 0 ? 'unconfirmed' : t === 1 ? 'confirmed' : t;
    return true;
  }
  if (TIC_CLUSTERS[a.clusterId] && (a.attributeId & 0xff) === 0x00) {
    const tic = decodeTic(a.clusterId, asBytes(v, what));
    if (tic.stopped) {
      // No field read at all: the TIC content cannot be parsed.
      if (Object.keys(tic.fields).length === 0) throw new DecodeError(tic.stopped.what);
      stopAt(out, frame, (a.valueOffset ?? 0) + tic.stopped.offset, tic.stopped.what);
    }
    data.TICFrameType = tic.frameType;
    data.TICInstance = a.attributeId >> 8;
    data.Descriptor = tic.descriptor;
    Object.assign(data, tic.fields);
    for (const [label, value] of Object.entries(tic.fields)) {
      if (typeof value !== 'number') continue;
      // Totals (EAST, BASE, EAIT) carry no channel; tariff-period registers carry their label (model/quantities.ts).
      if (TIC_ACTIVE_ENERGY.has(label)) push({ quantity: 'metering.electricity.activeEnergy', value, ...(TIC_TOTALS.has(label) ? {} : { channel: label }) });
      else if (label === 'EAIT') push({ quantity: 'metering.electricity.activeEnergyExport', value });
      else if (label in TIC_CURRENT) push({ quantity: 'electricity.current', value, ...(TIC_CURRENT[label] ? { channel: TIC_CURRENT[label] } : {}) });
      else if (label in TIC_VOLTAGE) push({ quantity: 'electricity.voltage', value, channel: TIC_VOLTAGE[label]! });
      else if (label in TIC_APPARENT_POWER) {
        push({ quantity: 'electricity.apparentPower', value, ...(TIC_APPARENT_POWER[label] ? { channel: TIC_APPARENT_POWER[label] } : {}) });
      }
    }
    return true;
  }
  return false;
}

export interface WattecoModel {
  model: string;
  /** Clusters this model documents; others are reported as warnings, not decoded. */
  clusters: readonly ClusterId[];
}

/**
 * Decodes one Watteco uplink for a model: ZCL frame, cluster interpretation. A standard frame identifies itself, so
 * a port other than 125 is accepted for it (the boundary adds a warning); a batch frame on another port is refused.
 */
export function decodeWatteco(input: DecodeInput, m: WattecoModel): DecodeResult {
  if (input.fPort !== WATTECO_PORT && (input.bytes.length < 1 || (input.bytes[0]! & 0x01) === 0)) {
    throw new DecodeError(`unknown fPort ${input.fPort} (Watteco reports use fPort ${WATTECO_PORT}) and the frame is not a standard report`);
  }
  const out = emptyResult();
  const { result, warnings, undecodedFrom } = parseZclFrame(input.bytes, 'Watteco frame');
  out.warnings.push(...warnings);
  if (undecodedFrom !== undefined) out.undecodedFrom = undecodedFrom;
  const f = result.frame;
  out.data.endpoint = f.endpoint;
  out.data.command = COMMAND_NAMES[f.commandId] ?? `0x${f.commandId.toString(16)}`;
  out.data.cluster = hex16(f.clusterId);
  if (result.kind === 'other') {
    out.data.payload = hex(result.frame.payload);
    if (result.frame.payload.length > 0) out.data.status = result.frame.payload[0];
    return out;
  }
  const a = result.frame;
  out.data.attribute = hex16(a.attributeId);
  if (a.status !== undefined) {
    out.data.status = a.status;
    if (a.status !== 0) return out;
  }
  if (!m.clusters.includes(a.clusterId) || !applyAttribute(a, out, input.bytes)) {
    out.warnings.push(`cluster ${hex16(a.clusterId)} attribute ${hex16(a.attributeId)} is not decoded for this model`);
    const v = a.value;
    out.data.value = v instanceof Uint8Array ? hex(v) : v;
  }
  if (a.commandId === 0x8a) {
    out.data.alarm = true;
    if (a.alarmCause) out.data.alarm_cause = hex(a.alarmCause);
    out.events.push({ type: 'alarm', message: `alarm report on cluster ${hex16(a.clusterId)}` });
  }
  return out;
}
