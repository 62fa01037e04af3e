import { describe, expect, it } from 'vitest';
import { decodeUplink, findDevice } from '../../decoders/index.ts';
import { parseLnsMessage } from '../../services/lns/parse.ts';
import type { Uplink } from '../../services/lns/uplink.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { TOWN } from '../../services/simulator/town.ts';

const START = new Date('2026-03-28T00:00:00Z');

describe('simulated town', () => {
  it('is deterministic for a seed, with unique (DevEUI, fCnt)', () => {
    const a = [...generateUplinks({ start: START, count: 500, seed: 3 })];
    const b = [...generateUplinks({ start: START, count: 500, seed: 3 })];
    expect(a.map((u) => u.payload)).toEqual(b.map((u) => u.payload));
    expect(new Set(a.map((u) => `${u.devEui}:${u.fCnt}`)).size).toBe(500);
  });

  it('reports at field intervals, then `speed` times faster from `speedFrom`, in time order', () => {
    const speedFrom = new Date(START.getTime() + 6 * 3_600_000);
    const list = [...generateUplinks({ start: START, end: new Date(speedFrom.getTime() + 3_600_000), seed: 1, speed: 30, speedFrom })];
    for (let i = 1; i < list.length; i++) expect(list[i]!.time.getTime()).toBeGreaterThanOrEqual(list[i - 1]!.time.getTime());
    const meter = TOWN.find((d) => d.name === 'linky-mairie')!;
    const times = list.filter((u) => u.devEui === meter.devEui).map((u) => u.time.getTime());
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps.filter((g) => g === 900_000).length).toBeGreaterThan(20);
    expect(gaps.filter((g) => g === 30_000).length).toBeGreaterThan(100);
  });

  it('every uplink decodes with its device decoder, and meter indexes never go back', () => {
    const list = [...generateUplinks({ start: START, end: new Date(START.getTime() + 3 * 86_400_000), seed: 1 })];
    const last = new Map<string, number>();
    for (const u of list) {
      const up = parseLnsMessage(u.topic, Buffer.from(u.payload)) as Uplink;
      expect(up.kind).toBe('uplink');
      const d = TOWN.find((x) => x.devEui === u.devEui)!;
      const slash = d.decoder.indexOf('/');
      const r = decodeUplink(findDevice(d.decoder.slice(0, slash), d.decoder.slice(slash + 1))!, { bytes: up.payload, fPort: up.fPort, recvTime: up.receivedAt });
      expect(r.errors, `${d.name} ${u.payload}`).toEqual([]);
      for (const rd of r.readings) {
        if (!rd.quantity.startsWith('metering.') || typeof rd.value !== 'number') continue;
        const key = `${d.name}:${rd.quantity}:${rd.channel ?? ''}`;
        expect(rd.value, key).toBeGreaterThanOrEqual(last.get(key) ?? 0);
        last.set(key, rd.value);
      }
    }
    expect(last.size).toBeGreaterThan(5);
  });
});
