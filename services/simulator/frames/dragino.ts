/**
 * Dragino frame builder: LHT65 sensor data on port 2 (LHT65 manual §2.4 "Uplink Payload", the inverse of
 * decoders/vendors/dragino/lht65-format.ts), big endian, the 7-byte form without external sensor (Ext # = 0):
 *   BAT (2: bits 15–14 status, bits 13–0 mV) | temperature (2, signed, 0.01 °C) | humidity (2, 0.1 %RH) | Ext # (1).
 * The BAT status bits follow the voltage as the manual defines them: 11 good ≥ 2.65 V, 10 OK ≥ 2.55 V,
 * 01 low > 2.50 V, 00 ultra low. Fields absent from the state are sent as 0 (the layout is fixed).
 */
import { frame, scaledInt, u16be, u8 } from './bytes.ts';
import type { FrameBuilder } from './types.ts';

const LHT65_PORT = 2;
const EXT_NONE = 0x00;

function batteryStatus(mV: number): number {
  if (mV >= 2650) return 0b11;
  if (mV >= 2550) return 0b10;
  if (mV > 2500) return 0b01;
  return 0b00;
}

/** BAT word: status in bits 15–14, voltage in mV in bits 13–0. */
function batWord(volts: number): number {
  const mV = scaledInt(volts, 1000, 0, 0x3fff);
  return (batteryStatus(mV) << 14) | mV;
}

export const lht65: FrameBuilder = {
  decoder: 'dragino/lht65',
  build: (s) =>
    frame(
      LHT65_PORT,
      u16be(batWord(s.batteryV ?? 0)),
      u16be(scaledInt(s.temperatureC ?? 0, 100, -32768, 32767)),
      u16be(scaledInt(s.humidityPct ?? 0, 10, 0, 1000)),
      u8(EXT_NONE),
    ),
};

export const draginoBuilders: FrameBuilder[] = [lht65];
