/**
 * Watteco (nke Watteco) ZCL-like "standard report" frame parser, shared by every Watteco model.
 *
 * Follows Watteco's public support documentation (https://support.watteco.com/), cluster pages
 * (On/Off, Simple Metering Like, Configuration, Basic, Temperature/Relative Humidity Measurement…):
 *   byte 0      Fctrl: bit 0 = 1 for a standard report, 0 for a batch report; the 7 upper bits carry
 *               the endpoint (0x11 → endpoint 0, 0x31 → endpoint 1, 0x51 → 2, 0x71 → 3).
 *   byte 1      CmdID: 0x0A report attributes, 0x8A report attributes with alarm,
 *               0x01 read attribute response, 0x07 configure reporting response,
 *               0x09 read reporting configuration response, 0x04 write attribute response.
 *   bytes 2-3   ClusterID (big endian)
 *   bytes 4-5   AttributeID (big endian)             [report / read response]
 *   byte  6     Status (read attribute response only; 0x00 = OK, value follows only then)
 *   next        Attribute type (ZCL data type), then the value. Multi-byte values are big endian.
 * A 0x8A report ends with the alarm cause bytes (criteria that triggered the alarm).
 *
 * Batch reports (Fctrl bit 0 = 0) use Watteco's compressed format and are not decoded here: they
 * are rejected with a clear error.
 *
 * A standard frame identifies itself (Fctrl, command id, cluster, attribute, ZCL type), so it is decoded on any
 * port (installers can change Watteco's default 125). Bytes after the attribute value of a report that is not an
 * alarm are named in a warning (lenient decoding).
 */
import { DecodeError } from '../../core/errors.ts';
import { stopAt } from '../../core/lenient.ts';
import { ByteReader } from '../../core/reader.ts';

export const WATTECO_PORT = 125;

export type ZclValue = number | boolean | string | Uint8Array;

export interface ZclAttribute {
  endpoint: number;
  commandId: number;
  clusterId: number;
  attributeId: number;
  /** Read attribute response status (0 = success); absent in reports. */
  status?: number;
  attributeType?: number;
  /** Decoded value; absent when a read attribute response carries an error status. */
  value?: ZclValue;
  /** Offset in the frame of the value's first byte (after the length of a byte string). */
  valueOffset?: number;
  /** Trailing alarm cause bytes of a 0x8A report. */
  alarmCause?: Uint8Array;
}

export interface ZclOtherCommand {
  endpoint: number;
  commandId: number;
  clusterId: number;
  /** Bytes after the cluster id, kept as they are (configuration acknowledgements). */
  payload: Uint8Array;
}

export type ZclFrame = { kind: 'attribute'; frame: ZclAttribute } | { kind: 'other'; frame: ZclOtherCommand };

export const COMMAND_NAMES: Record<number, string> = {
  0x01: 'read attribute response',
  0x04: 'write attribute response',
  0x07: 'configure reporting response',
  0x09: 'read reporting configuration response',
  0x0a: 'report attributes',
  0x8a: 'report attributes alarm',
};

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function hex16(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

/** Endpoint from the 7 upper bits of Fctrl (Watteco layout: 0x11 → 0, 0x31 → 1, …). */
export function endpointFromFctrl(fctrl: number): number {
  const v = fctrl >> 1;
  return ((v & 0x70) >> 4) | ((v & 0x03) << 3);
}

function signed(v: number, bits: number): number {
  const half = 2 ** (bits - 1);
  return v >= half ? v - 2 ** bits : v;
}

/** Reads one ZCL-typed value (Watteco's subset of ZCL data types). */
export function readZclValue(r: ByteReader, type: number, field: string): ZclValue {
  switch (type) {
    case 0x10:
      return r.u8(field) !== 0;
    case 0x08:
    case 0x18:
    case 0x20:
    case 0x30:
      return r.u8(field);
    case 0x09:
    case 0x19:
    case 0x21:
    case 0x31:
      return r.u16be(field);
    case 0x0a:
    case 0x1a:
    case 0x22:
      return r.u24be(field);
    case 0x0b:
    case 0x1b:
    case 0x23:
      return r.u32be(field);
    case 0x28:
      return r.i8(field);
    case 0x29:
      return r.i16be(field);
    case 0x2a:
      return signed(r.u24be(field), 24);
    case 0x2b:
      return r.i32be(field);
    case 0x39:
      return r.f32be(field);
    case 0x0c:
      return r.slice(5, field);
    case 0x0d:
      return r.slice(6, field);
    case 0x0e:
      return r.slice(7, field);
    case 0x0f:
      return r.slice(8, field);
    case 0x41:
      return r.slice(r.u8(`${field} length`), field);
    case 0x42:
      return Buffer.from(r.slice(r.u8(`${field} length`), field)).toString('latin1');
    case 0x43:
    case 0x4c:
      return r.slice(r.u16be(`${field} length`), field);
    default:
      throw new DecodeError(`${field}: unknown ZCL attribute type 0x${type.toString(16).padStart(2, '0')}`);
  }
}

/** Parses one Watteco standard frame; throws DecodeError for batch frames and malformed content. */
export function parseZclFrame(bytes: Uint8Array, context: string): { result: ZclFrame; warnings: string[]; undecodedFrom?: number } {
  const r = new ByteReader(bytes, context);
  const warnings: string[] = [];
  const partial: { warnings: string[]; undecodedFrom?: number } = { warnings };
  const fctrl = r.u8('Fctrl');
  if ((fctrl & 0x01) === 0) {
    throw new DecodeError(`batch frames not supported yet (Fctrl 0x${fctrl.toString(16).padStart(2, '0')} has the batch bit)`);
  }
  const endpoint = endpointFromFctrl(fctrl);
  const commandId = r.u8('CmdID');
  const clusterId = r.u16be('ClusterID');

  if (commandId === 0x0a || commandId === 0x8a || commandId === 0x01) {
    const attributeId = r.u16be('AttributeID');
    const frame: ZclAttribute = { endpoint, commandId, clusterId, attributeId };
    if (commandId === 0x01) {
      frame.status = r.u8('Status');
      if (frame.status !== 0) {
        if (r.remaining > 0) warnings.push(`${r.remaining} trailing byte(s) after read attribute error status ignored`);
        return { result: { kind: 'attribute', frame }, warnings };
      }
    }
    frame.attributeType = r.u8('Attribute type');
    const valueStart = r.offset;
    frame.value = readZclValue(r, frame.attributeType, `cluster ${hex16(clusterId)} attribute ${hex16(attributeId)} value`);
    frame.valueOffset = frame.value instanceof Uint8Array ? r.offset - frame.value.length : valueStart;
    if (r.remaining > 0) {
      if (commandId === 0x8a) frame.alarmCause = r.slice(r.remaining, 'alarm cause');
      else stopAt(partial, bytes, r.offset, 'bytes after the attribute value are not part of a standard report');
    }
    return { result: { kind: 'attribute', frame }, ...partial };
  }
  if (commandId === 0x04 || commandId === 0x07 || commandId === 0x09) {
    return { result: { kind: 'other', frame: { endpoint, commandId, clusterId, payload: r.slice(r.remaining, 'payload') } }, warnings };
  }
  throw new DecodeError(`unknown command id 0x${commandId.toString(16).padStart(2, '0')} (expected 0x0A, 0x8A, 0x01, 0x04, 0x07 or 0x09)`);
}
