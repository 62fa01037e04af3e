/**
 * Netvox frame builder: R718WA ReportDataCmd on port 6, the inverse of decoders/vendors/netvox/frame.ts and
 * water-leak.ts: Version 0x01 | DeviceType 0x32 | ReportType 0x01 | Battery (bits 0–6 in 0.1 V, bit 7 low
 * flag, sent clear) | WaterLeak (0 / 1) | 6 reserved bytes.
 * Fields absent from the state are sent as 0 (the layout is fixed).
 */
import { frame, scaledInt, u8 } from './bytes.ts';
import type { FrameBuilder } from './types.ts';

const NETVOX_REPORT_PORT = 6;
const R718WA_DEVICE_TYPE = 0x32;

/** Battery byte: 0.1 V steps, 7 bits (0 – 12.7 V). */
const batteryByte = (volts: number): number[] => u8(scaledInt(volts, 10, 0, 0x7f));

export const r718wa: FrameBuilder = {
  decoder: 'netvox/r718wa',
  build: (s) =>
    frame(NETVOX_REPORT_PORT, [0x01, R718WA_DEVICE_TYPE, 0x01], batteryByte(s.batteryV ?? 0), u8(s.leak ? 1 : 0), [0, 0, 0, 0, 0, 0]),
};

export const netvoxBuilders: FrameBuilder[] = [r718wa];
