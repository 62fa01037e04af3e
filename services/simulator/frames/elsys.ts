/**
 * Elsys frame builder: ERS CO2 uplink in the Elsys type / value format ("Elsys LoRa payload", table
 * "Payload types"; the inverse of decoders/vendors/elsys/tlv.ts), big endian, on the default port 5:
 *   0x01 temperature (2, signed, 0.1 °C) | 0x02 humidity (1, %RH) | 0x06 CO2 (2, ppm) | 0x07 VDD (2, mV).
 * The real sensor also sends light (0x04) and motion (0x05); the state has neither, so they are left out,
 * as is any item whose state field is absent (the format allows any subset).
 */
import { frame, scaledInt, u16be, u8 } from './bytes.ts';
import type { DeviceState, FrameBuilder } from './types.ts';

const ELSYS_PORT = 5;

type Item = number[];

const temperature = (c: number): Item => [0x01, ...u16be(scaledInt(c, 10, -32768, 32767))];
const humidity = (pct: number): Item => [0x02, ...u8(scaledInt(pct, 1, 0, 100))];
const co2 = (ppm: number): Item => [0x06, ...u16be(scaledInt(ppm, 1, 0, 0xffff))];
const vdd = (volts: number): Item => [0x07, ...u16be(scaledInt(volts, 1000, 0, 0xffff))];

/** The item for a state field, or none when the state does not have it. */
function when<T>(value: T | undefined, encode: (v: T) => Item): Item[] {
  return value === undefined ? [] : [encode(value)];
}

function items(s: DeviceState): Item[] {
  return [...when(s.temperatureC, temperature), ...when(s.humidityPct, humidity), ...when(s.co2Ppm, co2), ...when(s.batteryV, vdd)];
}

export const ersCo2: FrameBuilder = {
  decoder: 'elsys/ers co2',
  build: (s) => frame(ELSYS_PORT, ...items(s)),
};

export const elsysBuilders: FrameBuilder[] = [ersCo2];
