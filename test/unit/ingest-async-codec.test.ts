/**
 * An uplink waiting for its codec (a promise) holds back only its own device: later uplinks of the same device
 * give their lines and reach the alert rules after it, in order; other devices' uplinks go past it.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { DecodeResult, Reading } from '../../decoders/index.ts';
import { fileSchema } from '../../services/config/schema.ts';
import { createMetrics } from '../../services/metrics.ts';
import type { DecoderResolver } from '../../services/pipeline/decode.ts';
import { Ingestor } from '../../services/pipeline/ingest.ts';
import { Registry } from '../../services/registry/registry.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import type { SimDevice } from '../../services/simulator/town.ts';

function device(devEui: string): SimDevice {
  return {
    devEui, name: `d-${devEui.slice(-2)}`, profile: 'Slow v1', lns: 'chirpstack-v4', lnsTenant: 'Commune test', application: 'eau',
    decoder: 'none', site: 'test', intervalS: 900, initial: {}, behaviour: () => () => undefined,
  };
}

/** A codec-like decoder: the reading is the first byte; byte 2 = 1 makes it answer only when released. */
function slowDecoder(): { resolver: DecoderResolver; release(): void } {
  const held: Array<() => void> = [];
  const result = (bytes: Uint8Array): DecodeResult => ({ data: {}, readings: [{ quantity: 'metering.water.total', value: bytes[0]! }], events: [], warnings: [], errors: [] });
  return {
    resolver: () => ({
      id: 'codec:slow',
      decode: (input) => (input.bytes[1] === 1 ? new Promise<DecodeResult>((r) => held.push(() => r(result(input.bytes)))) : Promise.resolve(result(input.bytes))),
    }),
    release: () => held.splice(0).forEach((r) => r()),
  };
}

describe('ingestion with asynchronous codecs', () => {
  it('keeps each device in order and lets other devices pass a slow call', async () => {
    const seen: string[] = [];
    const slow = slowDecoder();
    const registry = new Registry(fileSchema.parse({}), 'default');
    const ingestor = new Ingestor(registry, [slow.resolver], createMetrics(), pino({ level: 'silent' }), (devEui: string, _m, _at, readings: Reading[]) => {
      seen.push(`${devEui.slice(-2)}:${String(readings[0]?.value)}`);
      return [];
    });
    const a = device('00000000000000a1');
    const b = device('00000000000000b2');
    const t = Date.parse('2026-05-01T00:00:00Z');
    const send = (d: SimDevice, fCnt: number, bytes: number[]) => {
      const m = chirpstackV4Up(d, fCnt, { fPort: 1, bytes: Uint8Array.from(bytes) }, new Date(t + fCnt * 60_000), { rssi: -90, snr: 5, spreadingFactor: 9, gateways: 1 });
      return ingestor.handle(m.topic, Buffer.from(m.payload));
    };
    const a1 = send(a, 1, [1, 1]); // waits until released
    const a2 = send(a, 2, [2, 0]); // ready at once, but after a1
    const b1 = send(b, 1, [3, 0]); // another device: not held by a1
    expect(a1).toBeInstanceOf(Promise);
    await b1;
    expect(seen).toEqual(['b2:3']);
    slow.release();
    const [l1, l2] = await Promise.all([a1, a2]);
    expect(seen).toEqual(['b2:3', 'a1:1', 'a1:2']);
    expect(l1.some((l) => l.startsWith('water,'))).toBe(true);
    expect(l2.some((l) => l.startsWith('water,'))).toBe(true);
  });
});
