/**
 * Custom TS013 codecs from the configuration, as decoders of the pipeline: a codec runs sandboxed in QuickJS in a
 * worker (decoders/custom/ts013-sandbox.ts), answers asynchronously, and its `data` is mapped to canonical readings
 * by the configured field list.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ts013Codec } from '../../decoders/custom/ts013-sandbox.ts';
import type { DecodeResult, Reading } from '../../decoders/index.ts';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import type { DecoderResolver, PayloadDecoder } from './decode.ts';

/** A custom codec as the configuration declares it (`codecs:` of VEILLEUR_CONFIG, validated by config/schema.ts). */
export interface CodecSettings {
  name: string;
  /** JavaScript file defining decodeUplink; relative paths are relative to the configuration file. */
  file: string;
  /** Device-profile names decoded with this codec. */
  profiles: readonly string[];
  timeoutMs: number;
  memoryMb: number;
  /** Fields of the codec's `data` (dotted for nested objects) → canonical quantities, times `scale`. */
  readings: readonly { field: string; quantity: keyof typeof QUANTITIES; scale: number; channel?: string | undefined }[];
}

export interface CustomCodecs {
  resolver: DecoderResolver;
  codecs: Map<string, Ts013Codec>;
  stop(): void;
}

export function loadCustomCodecs(entries: readonly CodecSettings[], configFile: string | undefined): CustomCodecs {
  const codecs = new Map<string, Ts013Codec>();
  const decoders = new Map<string, PayloadDecoder>();
  const byProfile = new Map<string, PayloadDecoder>();
  for (const entry of entries) {
    const path = resolve(configFile ? dirname(configFile) : process.cwd(), entry.file);
    const codec = new Ts013Codec(entry.name, readFileSync(path, 'utf8'), entry.timeoutMs, entry.memoryMb);
    codecs.set(entry.name, codec);
    const decoder: PayloadDecoder = {
      id: `codec:${entry.name}`,
      decode: (input, devEui) =>
        codec.decode(input.bytes, input.fPort, input.recvTime ?? new Date(), devEui).then((out) => {
          if (out.errors.length > 0 || !out.data) return { data: {}, readings: [], events: [], warnings: out.warnings, errors: out.errors };
          return mapReadings(entry, out.data, out.warnings);
        }),
    };
    decoders.set(entry.name, decoder);
    for (const p of entry.profiles) byProfile.set(p.toLowerCase(), decoder);
  }
  return {
    codecs,
    resolver: (uplink, meta) => {
      if (meta.decoder) return meta.decoder.startsWith('codec:') ? decoders.get(meta.decoder.slice(6)) : undefined;
      return uplink.deviceProfile ? byProfile.get(uplink.deviceProfile.toLowerCase()) : undefined;
    },
    stop() {
      for (const c of codecs.values()) c.stop();
    },
  };
}

/** The codec's fields → canonical readings; a field of the wrong type is a warning, a missing one is skipped. */
export function mapReadings(entry: CodecSettings, data: Record<string, unknown>, warnings: string[]): DecodeResult {
  const readings: Reading[] = [];
  const out = [...warnings];
  for (const m of entry.readings) {
    const value = m.field.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), data);
    if (value === undefined || value === null) continue;
    const spec = QUANTITIES[m.quantity];
    let v: number | boolean | undefined;
    if (spec.type === 'boolean') v = typeof value === 'boolean' ? value : value === 0 || value === 1 ? value === 1 : undefined;
    else if (typeof value === 'number' && Number.isFinite(value)) v = value * m.scale;
    if (v === undefined) {
      out.push(`codec '${entry.name}': field '${m.field}' is ${JSON.stringify(value)?.slice(0, 40)}, expected ${spec.type === 'boolean' ? 'a boolean' : 'a finite number'} for ${m.quantity}`);
      continue;
    }
    readings.push({ quantity: m.quantity, value: v, ...(m.channel ? { channel: m.channel } : {}) });
  }
  return { data, readings, events: [], warnings: out, errors: [] };
}
