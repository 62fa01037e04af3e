// What decoding one uplink gave, as the storage layer records it (the `uplink` point, raw frames kept with their
// reason). Here rather than in pipeline/ so that storage/ imports nothing above it (docs/architecture.md).
import type { DecodeResult } from '../../decoders/index.ts';

export type DecodeOutcome =
  | { kind: 'decoded'; by: string; result: DecodeResult }
  | { kind: 'lns-object'; fields: Record<string, number> }
  | { kind: 'empty' }
  | { kind: 'undecoded'; reason: 'no_decoder' | 'decoder_error'; detail: string };

/** Longest `uplink.decode_warnings` stored: warnings name offsets and records, a few hundred characters at most. */
const MAX_WARNINGS_CHARS = 1000;

/** The uplink's decode warnings as stored in `uplink.decode_warnings` (joined with " | ", bounded). */
export function storedWarnings(result: DecodeResult): string | undefined {
  if (result.warnings.length === 0) return undefined;
  const text = result.warnings.join(' | ');
  return text.length > MAX_WARNINGS_CHARS ? `${text.slice(0, MAX_WARNINGS_CHARS - 1)}…` : text;
}

/** Bytes at the end of the frame the decoder did not decode (`uplink.undecoded_bytes`). */
export function undecodedBytes(result: DecodeResult, payloadLength: number): number | undefined {
  return result.undecodedFrom === undefined ? undefined : Math.max(payloadLength - result.undecodedFrom, 0);
}
