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

/** Output of a decoder; `data` mirrors the vendor's document (field names and units) so operators can compare. */
export interface DecodeResult {
  data: Record<string, unknown>;
  readings: Reading[];
  events: DeviceEvent[];
  warnings: string[];
  errors: string[];
}

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
  /** Uplink ports the decoder understands. */
  fPorts: number[];
  /** Canonical quantities this device can produce. */
  exposes: QuantityId[];
  documentation: VendorDocument[];
  /** Pure: never does I/O, never throws past `decodeUplink` (the boundary in core/define.ts). */
  decode(input: DecodeInput): DecodeResult;
}
