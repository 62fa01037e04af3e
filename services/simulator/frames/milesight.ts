/**
 * Milesight frame builders: periodic reports in the channel / type / value format read by
 * decoders/vendors/milesight/tlv.ts (port 85, values little endian). The format has no fixed layout, so an
 * entry is sent only when the state has its field.
 *   01 75 battery UINT8 %            03 67 temperature INT16/10 °C    04 68 humidity UINT8/2 %RH
 *   05 c8 pulse counter UINT32 (EM300-DI)     05 00 water leakage 00/01 (EM300-ZLD)
 *   07 7d CO2 UINT16 ppm (AM319)
 *   04 80 active power UINT32 W, 06 83 power consumption UINT32 Wh (WS523 periodic report)
 */
import { frame, scaledInt, u16le, u32le, u8, wrapCounter } from './bytes.ts';
import type { DeviceState, Frame, FrameBuilder } from './types.ts';

const MILESIGHT_PORT = 85;

type Entry = number[];

const entry = (channel: number, type: number, value: number[]): Entry => [channel, type, ...value];

const battery = (pct: number): Entry => entry(0x01, 0x75, u8(scaledInt(pct, 1, 0, 100)));
const temperature = (c: number): Entry => entry(0x03, 0x67, u16le(scaledInt(c, 10, -32768, 32767)));
const humidity = (pct: number): Entry => entry(0x04, 0x68, u8(scaledInt(pct, 2, 0, 200)));
const co2 = (ppm: number): Entry => entry(0x07, 0x7d, u16le(scaledInt(ppm, 1, 0, 0xffff)));

const pulseCounter = (pulses: number): Entry => entry(0x05, 0xc8, u32le(wrapCounter(pulses, 32)));
const leakage = (leak: boolean): Entry => entry(0x05, 0x00, u8(leak ? 1 : 0));
const activePower = (w: number): Entry => entry(0x04, 0x80, u32le(scaledInt(w, 1, 0, 0xffffffff)));
const energyIndex = (wh: number): Entry => entry(0x06, 0x83, u32le(wrapCounter(wh, 32)));

/** The entry for a state field, or none when the state does not have it. */
function when<T>(value: T | undefined, encode: (v: T) => Entry): Entry[] {
  return value === undefined ? [] : [encode(value)];
}

/** Climate entries common to the EM300 and AM300 series. */
function climate(s: DeviceState): Entry[] {
  return [...when(s.batteryPct, battery), ...when(s.temperatureC, temperature), ...when(s.humidityPct, humidity)];
}

const tlvFrame = (entries: Entry[]): Frame => frame(MILESIGHT_PORT, ...entries);

export const em300Di: FrameBuilder = {
  decoder: 'milesight/em300-di',
  build: (s) => tlvFrame([...climate(s), ...when(s.pulsesA, pulseCounter)]),
};

export const em300Zld: FrameBuilder = {
  decoder: 'milesight/em300-zld',
  build: (s) => tlvFrame([...climate(s), ...when(s.leak, leakage)]),
};

/** AM319: the decoder also reads 01 75 battery; it is sent only when the state has batteryPct. */
export const am319: FrameBuilder = {
  decoder: 'milesight/am319',
  build: (s) => tlvFrame([...climate(s), ...when(s.co2Ppm, co2)]),
};

/** WS523 smart socket: active power and energy index (voltage, current, power factor are optional entries). */
export const ws523: FrameBuilder = {
  decoder: 'milesight/ws523',
  build: (s) => tlvFrame([...when(s.powerW, activePower), ...when(s.energyWh, energyIndex)]),
};

export const milesightBuilders: FrameBuilder[] = [em300Di, em300Zld, am319, ws523];
