/**
 * YOBIIQ iQ Electricity EM2101, single-phase DIN-rail energy meter with LoRaWAN.
 * Follows YOBIIQ's published EM2101 payload description (register tables of the vendor codec package
 * Yobiiq-BV/codecs Codec_EM2101, mirrored in TTN lorawan-devices vendor/yobiiq/em2101): every uplink is a
 * list of [channel (1 byte)][type (1 byte)][value, big-endian, size fixed by the type].
 *  - fPort 1..10, measurements: 0x00 index, 0x01 timestamp (UNIX), 0x03 datalogger timestamp,
 *    0x04/0x05 active energy import T1/T2 (Wh), 0x06/0x07 export T1/T2 (Wh), 0x08-0x0B reactive energy (varh),
 *    0x0C voltage L1-N (×0.1 V, signed), 0x10 current L1 (mA, signed), 0x14 active power L1 (W, signed),
 *    0x17 reactive power (×0.001 kvar), 0x1A apparent power (×0.001 kVA), 0x1D power factor (×0.01, 1 byte),
 *    0x20 phase angle (×0.01°), 0x23 frequency (×0.01 Hz), 0x24-0x26 system powers, 0x27 max current demand (mA),
 *    0x2A average power (W), 0x2B MID year, 0xF0 manufactured year (BCD), 0xF1/0xF2 firmware/hardware version.
 *  - fPort 11, change of state: 0x01 relay status, 0x02 digital input status (0 OPEN, 1 CLOSED).
 *  - fPort 50, device information (channel 0xFF): 0x09/0x0A hardware/firmware version, 0x16 serial number,
 *    0x0F device class, 0x0B power event, 0x00 relay status, CT/VT ratios, limits; 0x28 device model (rest of frame, ASCII).
 *  - fPort 60, event logging (channel 0xFD): relay switch-off/enable reasons and times, values at switch-off.
 *  - a 1-byte frame on any of these ports answers a downlink: 0 succeeded, 1 failed.
 *  - measurement frames may carry, on channel 0x0B, type 0x0A: a 1-byte Modbus error code (the module could not
 *    read the meter; the vendor's TTN codec vendor/yobiiq/em2101.js decodes it as `modbusErrorCode`), in place of
 *    the registers it could not read.
 * Lenient decoding: records are read until one with an unknown type or cut short; those before it are kept and a
 * warning names the byte. Channels 0xFF (device information) and 0xFD (event logging) identify their records, so a
 * frame starting with one is decoded with that table whatever its port (with a warning when the port says
 * otherwise): the vendor's own example of device information, in TTN lorawan-devices vendor/yobiiq/em2101-codec.yaml,
 * is given on fPort 8.
 */
import type { DeviceDefinition, DecodeInput, DecodeResult, Reading } from '../../../core/types.ts';
import { emptyResult } from '../../../core/boundary.ts';
import { DecodeError } from '../../../core/errors.ts';
import { stopAt } from '../../../core/lenient.ts';
import { ByteReader } from '../../../core/reader.ts';

const MODEL = 'EM2101';

type Kind = 'uint' | 'int' | 'version' | 'bcd';
interface Reg { size: number; name: string; kind?: Kind; scale?: number; values?: Record<number, string> }

const MEASUREMENTS: Record<number, Reg> = {
  0x00: { size: 4, name: 'index' },
  0x01: { size: 4, name: 'timestamp' },
  0x03: { size: 4, name: 'dataloggerTimestamp' },
  0x04: { size: 4, name: 'activeEnergyImportL1T1' },
  0x05: { size: 4, name: 'activeEnergyImportL1T2' },
  0x06: { size: 4, name: 'activeEnergyExportL1T1' },
  0x07: { size: 4, name: 'activeEnergyExportL1T2' },
  0x08: { size: 4, name: 'reactiveEnergyImportL1T1' },
  0x09: { size: 4, name: 'reactiveEnergyImportL1T2' },
  0x0a: { size: 4, name: 'reactiveEnergyExportL1T1' },
  0x0b: { size: 4, name: 'reactiveEnergyExportL1T2' },
  0x0c: { size: 4, name: 'voltageL1N', kind: 'int', scale: 0.1 },
  0x10: { size: 4, name: 'currentL1', kind: 'int' },
  0x14: { size: 4, name: 'activePowerL1', kind: 'int' },
  0x17: { size: 4, name: 'reactivePowerL1', kind: 'int', scale: 0.001 },
  0x1a: { size: 4, name: 'apparentPowerL1', kind: 'int', scale: 0.001 },
  0x1d: { size: 1, name: 'powerFactorL1', kind: 'int', scale: 0.01 },
  0x20: { size: 2, name: 'phaseAngleL1', kind: 'int', scale: 0.01 },
  0x23: { size: 2, name: 'frequency', kind: 'int', scale: 0.01 },
  0x24: { size: 4, name: 'totalSystemActivePower' },
  0x25: { size: 4, name: 'totalSystemReactivePower', scale: 0.001 },
  0x26: { size: 4, name: 'totalSystemApparentPower', scale: 0.001 },
  0x27: { size: 4, name: 'maximumL1CurrentDemand', kind: 'int' },
  0x2a: { size: 4, name: 'averagePower', kind: 'int' },
  0x2b: { size: 4, name: 'midYearOfCertification' },
  0xf0: { size: 2, name: 'manufacturedYear', kind: 'bcd' },
  0xf1: { size: 2, name: 'firmwareVersion', kind: 'version' },
  0xf2: { size: 2, name: 'hardwareVersion', kind: 'version' },
};

const OPEN_CLOSED = { 0: 'OPEN', 1: 'CLOSED' };
const STATES: Record<number, Reg> = {
  0x01: { size: 1, name: 'relayStatus', values: OPEN_CLOSED },
  0x02: { size: 1, name: 'digitalInputStatus', values: OPEN_CLOSED },
};

const INFO: Record<number, Reg> = {
  0x09: { size: 2, name: 'hardwareVersion', kind: 'version' },
  0x0a: { size: 2, name: 'firmwareVersion', kind: 'version' },
  0x16: { size: 4, name: 'deviceSerialNumber' },
  0x0f: { size: 1, name: 'deviceClass', values: { 0: 'Class A', 1: 'Class B', 2: 'Class C' } },
  0x0b: { size: 1, name: 'powerEvent', values: { 0: 'AC Power Off', 1: 'AC Power On' } },
  0x00: { size: 1, name: 'relayStatus', values: { 0: 'LOW', 1: 'HIGH' } },
  0x1e: { size: 2, name: 'primaryCurrentTransformerRatio' },
  0x1f: { size: 1, name: 'secondaryCurrentTransformerRatio' },
  0x20: { size: 4, name: 'primaryVoltageTransformerRatio' },
  0x21: { size: 2, name: 'secondaryVoltageTransformerRatio' },
  0x28: { size: 0, name: 'deviceModel' },
  0x3c: { size: 2, name: 'currentLimitFallback', scale: 0.1 },
  0x3d: { size: 2, name: 'voltageLimitFallback' },
  0x3e: { size: 2, name: 'powerLimitFallback' },
  0x3f: { size: 2, name: 'deactivationDelayFallback' },
  0x40: { size: 2, name: 'activationDelayFallback' },
  0x41: { size: 2, name: 'offsetCurrentFallback', scale: 0.1 },
  0x42: { size: 2, name: 'offsetDelayFallback' },
  0x43: { size: 2, name: 'resetTimeFallback' },
  0x44: { size: 1, name: 'resetAmountFallback' },
  0x50: { size: 2, name: 'currentLimitDynamic', scale: 0.1 },
  0x51: { size: 2, name: 'voltageLimitDynamic' },
  0x52: { size: 2, name: 'powerLimitDynamic' },
  0x53: { size: 2, name: 'deactivationDelayDynamic' },
  0x54: { size: 2, name: 'activationDelayDynamic' },
  0x55: { size: 2, name: 'offsetCurrentDynamic', scale: 0.1 },
  0x56: { size: 2, name: 'offsetDelayDynamic' },
  0x57: { size: 2, name: 'resetTimeDynamic' },
  0x58: { size: 1, name: 'resetAmountDynamic' },
};

const LOGGING: Record<number, Reg> = {
  0x01: { size: 1, name: 'relaySwitchingOffReason', values: { 0: 'Invalid', 1: 'Due to too high current limit', 2: 'By control from the Lora network', 3: 'By operation via display' } },
  0x02: { size: 1, name: 'relayEnableReason', values: { 0: 'Invalid', 1: 'By reset based on time', 2: 'By reset from the Lora network', 3: 'By operation via display', 4: 'By control from the Lora network' } },
  0x03: { size: 4, name: 'relaySwitchOffTime' },
  0x04: { size: 4, name: 'relayEnableTime' },
  0x05: { size: 4, name: 'currentWhenRelaySwitchingOff' },
  0x06: { size: 4, name: 'voltageWhenRelaySwitchingOff' },
  0x07: { size: 4, name: 'activePowerWhenRelaySwitchingOff' },
  0x08: { size: 1, name: 'resetAmountStatus', values: { 1: 'Current reset count is less than the reset amount', 2: 'Current reset count exceeds the reset amount' } },
};

const round = (v: number, scale: number) => {
  const digits = Math.max(0, Math.round(-Math.log10(scale)));
  return Number((v * scale).toFixed(digits));
};

/** Measurement channel 0x0B, type 0x0A: Modbus error code (1 byte) of the meter read. */
const MODBUS_ERROR_CHANNEL = 0x0b;
const MODBUS_ERROR_TYPE = 0x0a;

function readRecords(bytes: Uint8Array, table: Record<number, Reg>, what: string, res: DecodeResult): Record<string, unknown> {
  const r = new ByteReader(bytes, MODEL);
  const out: Record<string, unknown> = {};
  while (r.remaining > 0) {
    const at = r.offset;
    if (r.remaining < 2) {
      stopAt(res, bytes, at, 'a channel/type header needs 2 bytes', MODEL);
      break;
    }
    const channel = r.u8('channel');
    const type = r.u8('type');
    if (table === MEASUREMENTS && channel === MODBUS_ERROR_CHANNEL && type === MODBUS_ERROR_TYPE) {
      if (r.remaining < 1) {
        stopAt(res, bytes, at, 'Modbus error code cut short', MODEL);
        break;
      }
      out.modbusErrorCode = r.u8('modbus error code');
      continue;
    }
    const reg = table[type];
    if (!reg) {
      stopAt(res, bytes, at, `unknown ${what} type 0x${type.toString(16).padStart(2, '0')} (channel 0x${channel.toString(16).padStart(2, '0')})`, MODEL);
      break;
    }
    if (reg.size === 0) {
      out[reg.name] = Buffer.from(r.slice(r.remaining, reg.name)).toString('latin1').replace(/\0+$/, '');
      continue;
    }
    if (r.remaining < reg.size) {
      stopAt(res, bytes, at, `${reg.name} needs ${reg.size} byte(s), the frame ends at byte ${bytes.length}`, MODEL);
      break;
    }
    const raw = r.slice(reg.size, reg.name);
    let value: number | string;
    if (reg.values) {
      value = reg.values[raw[0]!] ?? `unknown (${raw[0]})`;
    } else if (reg.kind === 'version') {
      value = `V${raw[0]!.toString(16)}.${raw[1]!.toString(16)}`;
    } else if (reg.kind === 'bcd') {
      value = Number(Array.from(raw, (b) => b.toString(16).padStart(2, '0')).join(''));
      if (!Number.isFinite(value)) {
        stopAt(res, bytes, at, `${reg.name} is not BCD`, MODEL);
        break;
      }
    } else {
      let v = 0;
      for (const b of raw) v = v * 256 + b;
      if (reg.kind === 'int' && v >= 2 ** (8 * reg.size - 1)) v -= 2 ** (8 * reg.size);
      value = reg.scale ? round(v, reg.scale) : v;
    }
    out[reg.name] = value;
  }
  return out;
}

const PLAUSIBLE_UNIX = 1_577_836_800; // 2020-01-01: an RTC below this is not set

function measurementReadings(d: Record<string, unknown>, res: DecodeResult): void {
  const n = (k: string) => (typeof d[k] === 'number' ? (d[k] as number) : undefined);
  const ts = n('dataloggerTimestamp') ?? n('timestamp');
  const time = ts !== undefined && ts >= PLAUSIBLE_UNIX ? new Date(ts * 1000) : undefined;
  const add = (quantity: Reading['quantity'], value: number | undefined, channel?: string) => {
    if (value === undefined) return;
    res.readings.push({ quantity, value, ...(channel ? { channel } : {}), ...(time ? { time } : {}) });
  };
  add('metering.electricity.activeEnergy', n('activeEnergyImportL1T1'), 'T1');
  add('metering.electricity.activeEnergy', n('activeEnergyImportL1T2'), 'T2');
  add('metering.electricity.activeEnergyExport', n('activeEnergyExportL1T1'), 'T1');
  add('metering.electricity.activeEnergyExport', n('activeEnergyExportL1T2'), 'T2');
  add('metering.electricity.reactiveEnergy', n('reactiveEnergyImportL1T1'), 'T1');
  add('metering.electricity.reactiveEnergy', n('reactiveEnergyImportL1T2'), 'T2');
  add('electricity.voltage', n('voltageL1N'));
  const mA = n('currentL1');
  add('electricity.current', mA === undefined ? undefined : mA / 1000);
  add('electricity.activePower', n('activePowerL1'));
  const kvar = n('reactivePowerL1');
  add('electricity.reactivePower', kvar === undefined ? undefined : Math.round(kvar * 1000));
  const kva = n('apparentPowerL1');
  add('electricity.apparentPower', kva === undefined ? undefined : Math.round(kva * 1000));
  add('electricity.powerFactor', n('powerFactorL1'));
  add('electricity.frequency', n('frequency'));
}

type FrameKind = 'measurement' | 'state' | 'info' | 'logging';
const PORT_KIND = (fPort: number): FrameKind | undefined =>
  fPort >= 1 && fPort <= 10 ? 'measurement' : fPort === 11 ? 'state' : fPort === 50 ? 'info' : fPort === 60 ? 'logging' : undefined;
const KIND_NAME: Record<FrameKind, string> = {
  measurement: 'measurement',
  state: 'change of state',
  info: 'device information',
  logging: 'event logging',
};

function decode({ bytes, fPort }: DecodeInput): DecodeResult {
  if (bytes.length === 0) throw new DecodeError(`empty payload`);
  const byPort = PORT_KIND(fPort);
  // Channels 0xFF and 0xFD name their table; otherwise the port does.
  const byChannel: FrameKind | undefined = bytes.length > 1 ? (bytes[0] === 0xff ? 'info' : bytes[0] === 0xfd ? 'logging' : undefined) : undefined;
  const kind = byChannel ?? byPort;
  if (!kind) throw new DecodeError(`unknown fPort ${fPort} (1-10 measurements, 11 change of state, 50 device information, 60 event logging)`);
  const res = emptyResult();
  if (bytes.length === 1) {
    if (bytes[0] === 0) res.data = { info: 'Downlink command succeeded' };
    else if (bytes[0] === 1) res.data = { warning: 'Downlink command failed' };
    else throw new DecodeError(`1-byte frame 0x${bytes[0]!.toString(16)} is not a downlink answer (0 or 1)`);
    return res;
  }
  if (byPort && kind !== byPort) {
    res.warnings.push(`${MODEL}: channel 0x${bytes[0]!.toString(16)} records (${KIND_NAME[kind]}) on fPort ${fPort}, a ${KIND_NAME[byPort]} port: decoded as ${KIND_NAME[kind]}`);
  }
  if (kind === 'measurement') {
    res.data = readRecords(bytes, MEASUREMENTS, 'measurement', res);
    measurementReadings(res.data, res);
    if (typeof res.data.modbusErrorCode === 'number') {
      res.events.push({ type: 'alarm', message: `meter not read (Modbus error code ${res.data.modbusErrorCode})` });
    }
  } else if (kind === 'state') {
    res.data = readRecords(bytes, STATES, 'change-of-state', res);
  } else if (kind === 'info') {
    res.data = readRecords(bytes, INFO, 'device information', res);
    if (res.data.powerEvent === 'AC Power Off') res.events.push({ type: 'power_off', message: 'AC Power Off' });
    if (res.data.powerEvent === 'AC Power On') res.events.push({ type: 'reboot', message: 'AC Power On' });
  } else {
    res.data = readRecords(bytes, LOGGING, 'event logging', res);
    if (typeof res.data.relaySwitchingOffReason === 'string') res.events.push({ type: 'alarm', message: `relay switched off: ${res.data.relaySwitchingOffReason}` });
  }
  return res;
}

export const em2101: DeviceDefinition = {
  vendor: 'YOBIIQ',
  model: MODEL,
  description: 'Single-phase DIN-rail energy meter (MID) with relay: energy T1/T2, voltage, current, powers, power factor, frequency',
  category: 'energy-meter',
  fPorts: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 50, 60],
  exposes: [
    'metering.electricity.activeEnergy', 'metering.electricity.activeEnergyExport', 'metering.electricity.reactiveEnergy',
    'electricity.voltage', 'electricity.current', 'electricity.activePower', 'electricity.reactivePower',
    'electricity.apparentPower', 'electricity.powerFactor', 'electricity.frequency',
  ],
  documentation: [
    { title: 'YOBIIQ codecs – EM2101 payload registers (vendor package)', url: 'https://github.com/Yobiiq-BV/codecs/tree/main/Codec_EM2101' },
    { title: 'YOBIIQ iQ EM2101 electricity meter product page', url: 'https://yobiiq.com/products/electricity-meters/iq-em2101-electricity-meter/' },
  ],
  decode,
};
