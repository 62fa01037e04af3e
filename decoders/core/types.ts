import type { QuantityId } from '../model/quantities.ts';

/** What a decoder receives: the FRMPayload bytes, the LoRaWAN port and the network server's reception time. */
export interface DecodeInput {
  bytes: Uint8Array;
  fPort: number;
  recvTime?: Date;
}

/** One canonical measurement, in the unit of its quantity (see model/quantities.ts). */
export interface Reading {
  quantity: QuantityId;
  value: number | boolean;
  /** Input, phase or tariff period on multi-channel devices ("1", "A", "L2", "HCHC"); bounded per device. */
  channel?: string;
  /** The device's own timestamp (history frames); the reception time applies when absent. */
  time?: Date;
}

/** Something that happened on the device, worth keeping apart from the readings (alarm, tamper, reboot). */
export interface DeviceEvent {
  /** Stable, bounded identifier, e.g. "leak", "tamper", "reboot", "low_battery". */
  type: string;
  /** Human text, in the vendor's words where possible. */
  message?: string;
  time?: Date;
}

/**
 * Output of a decoder; `data` mirrors the vendor's document (field names and units) so operators can compare.
 *
 * Lenient decoding: a decoder decodes the records it knows and stops at the first one it does not understand,
 * keeping what it decoded. It then names the byte offset and what it did not understand in `warnings` (see
 * core/lenient.ts, `stopAt`) and sets `undecodedFrom`. `errors` are only for frames that cannot be parsed at all:
 * any error means the uplink was not decoded and is kept raw, to be decoded again later.
 */
export interface DecodeResult {
  data: Record<string, unknown>;
  readings: Reading[];
  events: DeviceEvent[];
  /** Human-readable, stored with the uplink (`uplink.decode_warnings`): what was not understood, and where. */
  warnings: string[];
  errors: string[];
  /**
   * Optional. Byte offset of the first byte the decoder did not decode, when it stopped before the end of the
   * frame (unknown record, record cut short, bytes beyond the documented layout). Counted in metrics as a partial
   * decode; `uplink.undecoded_bytes` stores how many bytes were left.
   */
  undecodedFrom?: number;
  /**
   * Optional, set by the boundary (core/boundary.ts): the frame came on a port that is not one of the model's
   * `fPorts` and was decoded because it identifies itself; a warning says so.
   */
  unlistedPort?: boolean;
}

/** What a decoder may return: every field but `data` and `readings` may be left out (no warnings, no events). */
export type DecoderOutput = Pick<DecodeResult, 'data' | 'readings'> & Partial<Omit<DecodeResult, 'data' | 'readings'>>;

export type DeviceCategory = 'water-leak' | 'water-meter' | 'pulse-counter' | 'energy-meter' | 'heat-meter' | 'indoor-climate';

export interface VendorDocument {
  title: string;
  url: string;
  /** Version or date of the document the decoder follows. */
  version?: string;
}

export interface DeviceDefinition {
  vendor: string;
  model: string;
  description: string;
  category: DeviceCategory;
  /**
   * The model's documented uplink ports. A decoder may also accept a frame on another application port when the
   * frame identifies itself (installers can change the port on several products); the boundary then adds a warning.
   */
  fPorts: number[];
  /** Canonical quantities this device can produce. */
  exposes: QuantityId[];
  documentation: VendorDocument[];
  /** Pure: never does I/O; called only through `decodeUplink` (core/boundary.ts), which catches what it throws. */
  decode(input: DecodeInput): DecodeResult | DecoderOutput;
}
