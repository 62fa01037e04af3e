/**
 * Helpers for lenient decoding: decode what can be decoded, keep it, and say precisely what was not.
 *
 * A frame whose first record is already unknown decodes nothing: `stopAt(…, 0, …)` makes the boundary turn it
 * into an error, so the uplink is kept raw (and can be decoded again once the decoder knows that record).
 */
import type { DecodeResult } from './types.ts';

const PREVIEW = 8;

function preview(bytes: Uint8Array, offset: number): string {
  const shown = Buffer.from(bytes.subarray(offset, offset + PREVIEW)).toString('hex');
  return bytes.length - offset > PREVIEW ? `${shown}…` : shown;
}

/**
 * Decoding stopped at `offset` on something not understood (`what`: "unknown channel 0x0a type 0x00",
 * "field 'temperature' cut short"). What was decoded before stays; a warning names the offset, the reason and
 * the bytes left, and `undecodedFrom` records the offset for metrics and storage.
 */
export function stopAt(result: Pick<DecodeResult, 'warnings' | 'undecodedFrom'>, bytes: Uint8Array, offset: number, what: string, context?: string): void {
  const left = bytes.length - offset;
  const prefix = context ? `${context}: ` : '';
  result.warnings.push(`${prefix}byte ${offset}: ${what}; ${left} byte(s) from there not decoded (${preview(bytes, offset)})`);
  if (result.undecodedFrom === undefined || offset < result.undecodedFrom) result.undecodedFrom = offset;
}

/** Bytes beyond a frame of documented length `end`: decoded up to `end`, the rest named in a warning. */
export function trailingBytes(result: Pick<DecodeResult, 'warnings' | 'undecodedFrom'>, bytes: Uint8Array, end: number, frame: string, context?: string): void {
  if (bytes.length > end) stopAt(result, bytes, end, `bytes after the ${end}-byte ${frame} are not part of its documented layout`, context);
}

/** "0x0a", as the vendors' documents write bytes. */
export function hexByte(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}
