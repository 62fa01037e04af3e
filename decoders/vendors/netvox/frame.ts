/**
 * Netvox LoRaWAN Application Command frame format, shared by every Netvox device.
 *
 * Follows the "Netvox LoRaWAN Application Command" document and §5 "Data Report" of each device's user manual
 * (e.g. R718WA, R311W, R809A, R718N3 user manuals, netvox.com.tw/um/<model>/):
 *
 * - fPort 6, ReportDataCmd: Version (1 byte, 0x01) | DeviceType (1) | ReportType (1) | NetvoxPayLoadData (fixed 8 bytes).
 *   ReportType 0x00 is the version packet: SoftwareVersion (1, 0x0A = V1.0) | HardwareVersion (1) | DateCode (4, BCD
 *   such as 0x20170503) | reserved (2). Other report types are device-specific.
 * - fPort 7, ConfigureCmd responses: CmdID (1) | DeviceType (1) | NetvoxPayLoadData (fixed 9 bytes).
 *   0x81 ConfigReportRsp: Status (0x00 success) | reserved; 0x82 ReadConfigReportRsp: MinTime (2, s) | MaxTime (2, s) |
 *   device-specific reportable changes.
 * - Battery byte ("Tips 1. Battery Voltage"): bits 0–6 = voltage in 0.1 V, bit 7 = 1 means low voltage.
 *
 * Multi-byte values are big-endian. Data field names follow the Netvox-contributed TTN codec examples
 * (TheThingsNetwork/lorawan-devices vendor/netvox/*-codec.yaml), which name fields after the manual.
 */
import { ByteReader } from '../../core/reader.ts';
import { DecodeError } from '../../core/errors.ts';
import { trailingBytes } from '../../core/lenient.ts';
import { emptyResult } from '../../core/boundary.ts';
import type { DecodeInput, DecodeResult } from '../../core/types.ts';

/** Netvox LoRaWAN Application Devicetype list (excerpt). */
export const NETVOX_DEVICE_TYPES: Readonly<Record<number, string>> = {
  0x06: 'R311W',
  0x0e: 'R809A',
  0x32: 'R718WA',
  0x46: 'R718WA2',
  0x4a: 'R718N3',
};

export const NETVOX_REPORT_PORT = 6;
export const NETVOX_CONFIG_PORT = 7;
const FRAME_LENGTH = 11;

export interface NetvoxBattery {
  /** Volts, 0.1 V resolution (bits 0–6). */
  volts: number;
  /** Bit 7: low-voltage flag set by the device. */
  low: boolean;
}

export function netvoxBattery(raw: number): NetvoxBattery {
  return { volts: (raw & 0x7f) / 10, low: (raw & 0x80) !== 0 };
}

/** Adds battery data, the canonical reading and a low_battery event. */
export function addBattery(out: DecodeResult, raw: number): void {
  const b = netvoxBattery(raw);
  out.data.Volt = b.volts;
  out.data.LowBattery = b.low;
  out.readings.push({ quantity: 'battery', value: b.volts });
  if (b.low) out.events.push({ type: 'low_battery', message: `battery low (${b.volts} V)` });
}

export interface NetvoxDeviceSpec {
  /** Model as in the Devicetype list. */
  model: string;
  deviceType: number;
  /** Decodes NetvoxPayLoadData (8 bytes) of a fPort-6 report whose ReportType is not 0x00. */
  report(reportType: number, r: ByteReader, out: DecodeResult): void;
  /** Decodes the device-specific part of a ReadConfigReportRsp after MinTime/MaxTime (5 bytes). */
  readConfig(r: ByteReader, out: DecodeResult): void;
}

const hex2 = (n: number) => `0x${n.toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Which kind of frame this is. On ports 6 and 7 the port says; on another port (changed by the installer) the frame
 * must identify itself: Version 0x01 then this model's DeviceType for a report, CmdID 0x81/0x82 then the DeviceType
 * for a configuration response.
 */
function frameKind(spec: NetvoxDeviceSpec, { bytes, fPort }: DecodeInput): 'report' | 'config' {
  if (fPort === NETVOX_REPORT_PORT) return 'report';
  if (fPort === NETVOX_CONFIG_PORT) return 'config';
  if (bytes.length >= 2 && bytes[1] === spec.deviceType) {
    if (bytes[0] === 0x01) return 'report';
    if (bytes[0] === 0x81 || bytes[0] === 0x82) return 'config';
  }
  throw new DecodeError(
    `${spec.model}: unknown fPort ${fPort}, expected 6 (ReportDataCmd) or 7 (ConfigureCmd response), and the frame does not start with Version 0x01 or CmdID 0x81/0x82 and DeviceType ${hex2(spec.deviceType)}`,
  );
}

/** One decoder for every Netvox device: ports, DeviceType check, version packet, configuration responses. */
export function decodeNetvox(spec: NetvoxDeviceSpec, input: DecodeInput): DecodeResult {
  const { bytes } = input;
  const kind = frameKind(spec, input);
  if (bytes.length < FRAME_LENGTH) {
    throw new DecodeError(`${spec.model}: frame has ${bytes.length} bytes, Netvox frames have ${FRAME_LENGTH}`);
  }
  const out = emptyResult();
  trailingBytes(out, bytes, FRAME_LENGTH, 'Netvox frame', spec.model);
  const r = new ByteReader(bytes.subarray(0, FRAME_LENGTH), spec.model);

  if (kind === 'report') {
    const version = r.u8('Version');
    if (version !== 0x01) throw new DecodeError(`${spec.model}: Version ${hex2(version)}, expected 0x01`);
    checkDeviceType(spec, r.u8('DeviceType'));
    const reportType = r.u8('ReportType');
    out.data.Device = spec.model;
    if (reportType === 0x00) {
      const sw = r.u8('SoftwareVersion');
      const hw = r.u8('HardwareVersion');
      const date = r.slice(4, 'DateCode');
      out.data.SWver = sw / 10;
      out.data.HWver = hw;
      out.data.Datecode = Array.from(date, (b) => b.toString(16).padStart(2, '0')).join('');
      return out;
    }
    spec.report(reportType, r, out);
    return out;
  }

  const cmd = r.u8('CmdID');
  checkDeviceType(spec, r.u8('DeviceType'));
  if (cmd === 0x81) {
    const status = r.u8('Status');
    out.data.Cmd = 'ConfigReportRsp';
    out.data.Device = spec.model;
    out.data.Status = status === 0x00 ? 'Success' : 'Failure';
    return out;
  }
  if (cmd === 0x82) {
    out.data.Cmd = 'ReadConfigReportRsp';
    out.data.Device = spec.model;
    out.data.MinTime = r.u16be('MinTime');
    out.data.MaxTime = r.u16be('MaxTime');
    spec.readConfig(r, out);
    return out;
  }
  throw new DecodeError(`${spec.model}: unknown CmdID ${hex2(cmd)} on fPort 7, expected 0x81 or 0x82`);
}

function checkDeviceType(spec: NetvoxDeviceSpec, type: number): void {
  if (type !== spec.deviceType) {
    const known = NETVOX_DEVICE_TYPES[type];
    throw new DecodeError(
      `${spec.model}: DeviceType ${hex2(type)}${known ? ` (${known})` : ''}, expected ${hex2(spec.deviceType)} (${spec.model})`,
    );
  }
}

export function unknownReportType(model: string, reportType: number): never {
  throw new DecodeError(`${model}: unknown ReportType ${hex2(reportType)}`);
}

/** BatteryChange (1 byte, 0.1 V) as in the leak sensors' ReadConfigReportRsp. */
export function readBatteryChange(r: ByteReader, out: DecodeResult): void {
  out.data.BatteryChange = r.u8('BatteryChange') / 10;
}
