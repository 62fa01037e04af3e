/**
 * Small encoding helpers shared by the frame builders: scaling a physical value to the integer a format
 * carries (rounded to the format's resolution, clamped to its range), wrapping counters, and writing
 * integers as little- or big-endian bytes. The decoders read these integers back with core/reader.ts.
 */
import type { Frame } from './types.ts';

/** The integer a format stores for `value` at `scale` units per step (°C × 10, %RH × 2…), clamped to [min, max]. */
export function scaledInt(value: number, scale: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(value * scale)));
}

/** A cumulative counter as a register that rolls over at `modulus` (10^9 for a 9-digit index): rounded, then wrapped. */
export function wrapAt(value: number, modulus: number): number {
  return ((Math.round(value) % modulus) + modulus) % modulus;
}

/** A cumulative counter as an unsigned register of `bits` bits (2^32 → 0 for bits = 32). */
export function wrapCounter(value: number, bits: number): number {
  return wrapAt(value, 2 ** bits);
}

// Writers: each returns the bytes of one integer. Negative values are written in two's complement.

export const u8 = (v: number): number[] => [v & 0xff];
export const u16le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
export const u16be = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
export const u32le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
export const u32be = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

/** ASCII text padded with NUL (or cut) to exactly `size` bytes. */
export function ascii(text: string, size: number): number[] {
  return Array.from({ length: size }, (_, i) => (i < text.length ? text.charCodeAt(i) & 0x7f : 0));
}

/** Assembles a frame from byte groups. */
export function frame(fPort: number, ...parts: number[][]): Frame {
  return { fPort, bytes: Uint8Array.from(parts.flat()) };
}
