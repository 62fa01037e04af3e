import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Ts013Codec } from '../../decoders/custom/ts013-sandbox.ts';
import { mapReadings } from '../../services/pipeline/custom-codecs.ts';

const source = (name: string) => readFileSync(new URL(`../fixtures/codecs/${name}`, import.meta.url), 'utf8');
const T = new Date('2026-01-01T00:00:00Z');

const water = new Ts013Codec('water', source('water-ts013.js'));
const loop = new Ts013Codec('loop', source('loop-ts013.js'), 200);
const garbage = new Ts013Codec('garbage', source('garbage-ts013.js'), 2000, 16);
afterAll(() => [water, loop, garbage].forEach((c) => c.stop()));

describe('TS013 codec sandbox', () => {
  it('decodes with the codec, passing bytes, fPort and recvTime as TS013 says', async () => {
    const out = await water.decode(Uint8Array.from([0x10, 0x27, 0, 0, 1]), 7, T);
    expect(out).toEqual({ data: { meter: { index_l: 10000 }, leak: true, at: '2026-01-01T00:00:00.000Z' }, warnings: [], errors: [] });
    expect((await water.decode(Uint8Array.from([1]), 7, T)).errors).toEqual(["codec 'water': expected fPort 7 and 5 bytes"]);
  });

  it('stops a codec that loops forever within its time limit, and the next uplink is decoded again', async () => {
    const started = performance.now();
    const out = await loop.decode(Uint8Array.from([1]), 9, T);
    const elapsed = performance.now() - started;
    expect(out.errors[0]).toMatch(/did not return within 200 ms/);
    expect(elapsed).toBeLessThan(5000);
    expect(loop.restarts).toBe(1);
    expect(await loop.decode(Uint8Array.from([1]), 1, T)).toEqual({ data: { ok: 1 }, warnings: [], errors: [] });
  });

  it.each([
    [1, /decodeUplink threw: index out of range/],
    [2, /returned number; expected \{data/],
    [3, /no data object/],
    [4, /errors that are not strings/],
    [7, /returned nothing/],
  ])('turns a broken codec (fPort %i) into a clear error', async (fPort, message) => {
    const out = await garbage.decode(Uint8Array.from([1, 2]), fPort, T);
    expect(out.errors.join(' ')).toMatch(message);
    expect(out.data).toBeUndefined();
  });

  it('survives a codec that exhausts its memory limit', async () => {
    const out = await garbage.decode(Uint8Array.from([1]), 5, T);
    expect(out.errors.length).toBe(1);
    expect(await garbage.decode(Uint8Array.from([1, 2, 3]), 8, T)).toEqual({ data: { value: 3 }, warnings: [], errors: [] });
  });

  it('refuses an output of more than 1 MB of JSON and an allocation past the memory limit, and decodes the next uplink', async () => {
    const big = new Ts013Codec('big', source('big-ts013.js'), 2000);
    try {
      expect((await big.decode(Uint8Array.from([1]), 2, T)).errors).toEqual(["codec 'big': decodeUplink returned more than 1 MB of JSON"]);
      expect(await big.decode(Uint8Array.from([1, 2]), 1, T)).toEqual({ data: { n: 2 }, warnings: [], errors: [] });
      // 64 MB asked of a 32 MB limit: refused by the memory limit, not left to run into the 2 s time limit, and the
      // codec is loaded again for the next uplink.
      const started = performance.now();
      expect((await big.decode(Uint8Array.from([1]), 3, T)).errors).toEqual(["codec 'big': decodeUplink went past its memory limit of 32 MB (stopped)"]);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(await big.decode(Uint8Array.from([1, 2, 3]), 1, T)).toEqual({ data: { n: 3 }, warnings: [], errors: [] });
    } finally {
      big.stop();
    }
  });

  it('gives the codec no process, require or timers', async () => {
    expect((await garbage.decode(Uint8Array.from([1]), 6, T)).data).toEqual({ escaped: 'undefined/undefined/undefined' });
  });
});

describe('TS013 codec engine: never blocking, one device held back at most', () => {
  it('keeps the main thread free while a call loops, and decodes the other devices of the same batch', async () => {
    const codec = new Ts013Codec('loop-batch', source('loop-ts013.js'), 300);
    try {
      await codec.decode(Uint8Array.from([1]), 1, T, 'warm-up');
      // The event loop keeps turning while the worker runs into the time limit: timers fire on time.
      const lags: number[] = [];
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        lags.push(now - last);
        last = now;
      }, 10);
      const calls = [
        codec.decode(Uint8Array.from([1]), 9, T, 'looping'),
        codec.decode(Uint8Array.from([2]), 9, T, 'looping'),
        ...Array.from({ length: 20 }, (_, i) => codec.decode(Uint8Array.from([i]), 1, T, `other-${i}`)),
      ];
      const [first, second, ...others] = await Promise.all(calls);
      clearInterval(ticker);
      expect(first!.errors[0]).toMatch(/did not return within 300 ms \(stopped\)/);
      // Not run again: the device is suspended, with the reason.
      expect(second!.errors[0]).toMatch(/did not return within 300 ms for this device at .*; not called again for it until/);
      for (const o of others) expect(o).toEqual({ data: { ok: 1 }, warnings: [], errors: [] });
      expect(lags.length).toBeGreaterThan(10);
      // A main thread held by the looping call would miss its ticks for the whole 300 ms time limit; a loaded machine
      // may delay a tick, never by that much.
      expect(Math.max(...lags)).toBeLessThan(300);
      // Later uplinks of the suspended device are answered at once; other devices still decoded.
      const started = performance.now();
      expect((await codec.decode(Uint8Array.from([3]), 9, T, 'looping')).errors[0]).toMatch(/not called again for it/);
      // Not run: counted as suspended, and answered before the time limit a call would have cost.
      expect(codec.suspendedCalls).toBe(2);
      expect(performance.now() - started).toBeLessThan(300);
      expect(await codec.decode(Uint8Array.from([1]), 1, T, 'other-0')).toEqual({ data: { ok: 1 }, warnings: [], errors: [] });
    } finally {
      codec.stop();
    }
  });

  it('suspends the whole codec once calls for 3 devices were stopped', async () => {
    const codec = new Ts013Codec('loop-all', source('loop-ts013.js'), 50);
    try {
      const outs = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((k) => codec.decode(Uint8Array.from([1]), 9, T, k)));
      expect(outs.filter((o) => /\(stopped\)$/.test(o.errors[0] ?? ''))).toHaveLength(3);
      expect(outs.slice(3).every((o) => /for 3 devices at .*; the codec is not called again until/.test(o.errors[0] ?? ''))).toBe(true);
      // A frame that would decode fine waits for the suspension to end, with the reason.
      expect((await codec.decode(Uint8Array.from([1]), 1, T, 'f')).errors[0]).toMatch(/the codec is not called again until/);
    } finally {
      codec.stop();
    }
  });
});

describe('codec output → canonical readings', () => {
  const entry = {
    name: 'water',
    file: 'x.js',
    profiles: [],
    timeoutMs: 100,
    memoryMb: 32,
    readings: [
      { field: 'meter.index_l', quantity: 'metering.water.total' as const, scale: 1 },
      { field: 'leak', quantity: 'water.leak' as const, scale: 1 },
      { field: 'volume_m3', quantity: 'metering.water.total' as const, scale: 1000, channel: 'B' },
      { field: 'missing', quantity: 'air.co2' as const, scale: 1 },
    ],
  };

  it('maps nested fields, scales units and skips missing ones', () => {
    const r = mapReadings(entry, { meter: { index_l: 10 }, leak: 1, volume_m3: 1.5 }, []);
    expect(r.readings).toEqual([
      { quantity: 'metering.water.total', value: 10 },
      { quantity: 'water.leak', value: true },
      { quantity: 'metering.water.total', value: 1500, channel: 'B' },
    ]);
    expect(r.warnings).toEqual([]);
  });

  it('warns about a field of the wrong type instead of storing it', () => {
    const r = mapReadings(entry, { meter: { index_l: 'lots' }, leak: 'yes' }, []);
    expect(r.readings).toEqual([]);
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toContain("field 'meter.index_l' is \"lots\", expected a finite number for metering.water.total");
  });
});
