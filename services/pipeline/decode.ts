/**
 * The decoding hook: which decoder turns an uplink's bytes into canonical readings. Built-in decoders are chosen by
 * the registry (DevEUI, then LNS device profile); custom TS013 codecs plug in through the same `PayloadDecoder`
 * interface. Without a decoder, the object the network server decoded itself is stored as it is; otherwise the
 * uplink is kept raw with its reason, to be decoded again later.
 */
import { decodeUplink, findDevice } from '../../decoders/index.ts';
import type { DecodeInput, DecodeResult, Reading } from '../../decoders/index.ts';
import type { Uplink } from '../lns/uplink.ts';
import type { DeviceMeta } from '../registry/registry.ts';
import type { DecodeOutcome } from '../storage/outcome.ts';

export interface PayloadDecoder {
  /** 'vendor/model' for built-ins, 'codec:<name>' for custom codecs: stored in `uplink.decoded_by`. */
  id: string;
  /**
   * Built-ins answer at once; custom codecs run in a worker and answer with a promise (never rejected), so that a
   * slow codec never holds the main thread. `devEui` lets a codec engine suspend one device whose frames make it loop.
   */
  decode(input: DecodeInput, devEui?: string): DecodeResult | Promise<DecodeResult>;
}

export type DecoderResolver = (uplink: Uplink, meta: DeviceMeta) => PayloadDecoder | undefined;

// The outcome type lives in storage/ (which records it); re-exported for the pipeline's modules.
export type { DecodeOutcome };

/** Resolves `meta.decoder` ('vendor/model') against the built-in registry. */
export const builtInDecoders: DecoderResolver = (_uplink, meta) => {
  if (!meta.decoder) return undefined;
  const slash = meta.decoder.indexOf('/');
  const device = findDevice(meta.decoder.slice(0, slash), meta.decoder.slice(slash + 1));
  if (!device) return undefined;
  return { id: meta.decoder.toLowerCase(), decode: (input) => decodeUplink(device, input) };
};

/** The outcome at once for built-in decoders, a promise (never rejected) for a custom codec. */
export function decodeWith(resolvers: DecoderResolver[], uplink: Uplink, meta: DeviceMeta): DecodeOutcome | Promise<DecodeOutcome> {
  let decoder: PayloadDecoder | undefined;
  for (const resolve of resolvers) {
    decoder = resolve(uplink, meta);
    if (decoder) break;
  }
  if (decoder) {
    if (uplink.payload.length === 0) return { kind: 'empty' };
    const id = decoder.id;
    const result = decoder.decode({ bytes: uplink.payload, fPort: uplink.fPort, recvTime: uplink.receivedAt }, uplink.devEui);
    if (result instanceof Promise) {
      return result.then(
        (r) => decodedOutcome(id, r, meta),
        (err: Error): DecodeOutcome => ({ kind: 'undecoded', reason: 'decoder_error', detail: `decoder failure: ${err.message}` }),
      );
    }
    return decodedOutcome(id, result, meta);
  }
  if (uplink.lnsObject) {
    const fields = flattenNumeric(uplink.lnsObject);
    if (Object.keys(fields).length > 0) return { kind: 'lns-object', fields };
  }
  if (uplink.payload.length === 0) return { kind: 'empty' };
  return {
    kind: 'undecoded',
    reason: 'no_decoder',
    detail: `no decoder for device ${uplink.devEui} (profile '${uplink.deviceProfile}', fPort ${uplink.fPort}) and no object decoded by the network server`,
  };
}

function decodedOutcome(by: string, result: DecodeResult, meta: DeviceMeta): DecodeOutcome {
  if (result.errors.length > 0) return { kind: 'undecoded', reason: 'decoder_error', detail: result.errors.join('; ') };
  return { kind: 'decoded', by, result: meta.pulse ? { ...result, readings: withPulseWeight(result.readings, meta.pulse) } : result };
}

/**
 * Why a decoded uplink carries warnings, as bounded metric labels (veilleur_uplinks_decode_warnings_total{kind}):
 * `partial` the decoder stopped before the end of the frame (unknown or cut-short record, bytes beyond the layout),
 * `fport` the frame came on a port the model does not document and identified itself, `other` anything else (an
 * out-of-range value, an unset device clock…). One uplink counts once per kind it shows.
 */
export type DecodeWarningKind = 'partial' | 'fport' | 'other';

export function decodeWarningKinds(result: DecodeResult): DecodeWarningKind[] {
  const kinds: DecodeWarningKind[] = [];
  if (result.undecodedFrom !== undefined) kinds.push('partial');
  if (result.unlistedPort) kinds.push('fport');
  // Each partial or port condition adds exactly one warning; any beyond those are of another kind.
  if (result.warnings.length > kinds.length) kinds.push('other');
  return kinds;
}

/**
 * A pulse counter wired to a meter: its pulse index (on the configured input) also becomes the meter's index in
 * the meter's quantity, without a channel, since it is that meter's total.
 */
export function withPulseWeight(readings: Reading[], pulse: NonNullable<DeviceMeta['pulse']>): Reading[] {
  const out = [...readings];
  for (const r of readings) {
    if (r.quantity !== 'metering.pulse.total' || typeof r.value !== 'number') continue;
    if (pulse.input !== undefined && r.channel !== pulse.input) continue;
    // Round away float noise (0.1 × 3 = 0.30000000000000004) at a millionth of the unit.
    out.push({ quantity: pulse.quantity, value: Math.round(r.value * pulse.perPulse * 1e6) / 1e6, ...(r.time ? { time: r.time } : {}) });
  }
  return out;
}

const MAX_FIELDS = 64;

/** {a: 1, b: {c: true, d: 'x'}} → {a: 1, b_c: 1}: numbers as floats, booleans as 1/0, so types never conflict. */
export function flattenNumeric(obj: Record<string, unknown>, prefix = '', out: Record<string, number> = {}, depth = 0): Record<string, number> {
  for (const [key, value] of Object.entries(obj)) {
    if (Object.keys(out).length >= MAX_FIELDS) break;
    const name = `${prefix}${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
    if (typeof value === 'number' && Number.isFinite(value)) out[name] = value;
    else if (typeof value === 'boolean') out[name] = value ? 1 : 0;
    else if (value && typeof value === 'object' && !Array.isArray(value) && depth < 3) {
      flattenNumeric(value as Record<string, unknown>, `${name}_`, out, depth + 1);
    }
  }
  return out;
}
