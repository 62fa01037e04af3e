/**
 * The cluster mode's pure arithmetic (services/cluster/partitions.ts): partition of a device, JetStream message id,
 * fair share and the rebalancing that replicas do each on their own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLnsMessage } from '../../services/lns/parse.ts';
import { devEuiOf, fairShare, messageIdOf, partitionOf, preferenceOrder, rebalance } from '../../services/cluster/partitions.ts';

const fixture = (name: string) => {
  const f = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'lns', name), 'utf8')) as { topic: string; message: unknown };
  const payload = Buffer.from(JSON.stringify(f.message));
  return { topic: f.topic, payload, event: parseLnsMessage(f.topic, payload) };
};

describe('partitionOf', () => {
  it('is FNV-1a (32 bits) of the lower-case DevEUI modulo N: a reference vector, whatever the case', () => {
    // FNV-1a 32 of "a" is 0xe40c292c, of "foobar" 0xbf9cf968 (the algorithm's published test vectors).
    expect(partitionOf('a', 2 ** 32)).toBe(0xe40c292c);
    expect(partitionOf('FOOBAR', 2 ** 32)).toBe(0xbf9cf968);
    expect(partitionOf('A', 16)).toBe(0xe40c292c % 16);
    expect(partitionOf('0004A30B001C0530', 16)).toBe(partitionOf('0004a30b001c0530', 16));
  });

  it('sends messages without a DevEUI to partition 0', () => {
    expect(partitionOf(undefined, 16)).toBe(0);
    expect(partitionOf('', 16)).toBe(0);
  });

  it('spreads 500 devices over 16 partitions without an empty or an overloaded one', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 500; i++) counts[partitionOf(`70b3d5${(0x1000000000 + i * 7919).toString(16).padStart(10, '0')}`, 16)]!++;
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(15);
    expect(Math.max(...counts)).toBeLessThanOrEqual(50);
  });

  it('reads the DevEUI from the parsed envelope (ChirpStack and The Things Stack)', () => {
    expect(devEuiOf(fixture('chirpstack-v4-up-docs.json').event)).toBe('0101010101010101');
    expect(devEuiOf(fixture('tts-v3-up-docs.json').event)).toBe('0004a30b001c0530');
    expect(devEuiOf(parseLnsMessage('application/x/device/y/event/up', Buffer.from('not json')))).toBeUndefined();
  });
});

describe('messageIdOf', () => {
  it("uses ChirpStack's deduplicationId and The Things Stack's first correlation id for uplinks", () => {
    const cs = fixture('chirpstack-v4-up-docs.json');
    expect(messageIdOf(cs.topic, cs.payload, cs.event)).toBe('chirpstack-v4:up:3ac7e3c4-4401-4b8d-9386-a5c902f9202d');
    const tts = fixture('tts-v3-up-docs.json');
    expect(messageIdOf(tts.topic, tts.payload, tts.event)).toBe('tts-v3:up:as:up:01E0WZGT6Y7657CPFPE5WEYDSQ');
  });

  it('gives the same uplink re-published with other bytes (another gateway list) the same id', () => {
    const cs = fixture('chirpstack-v4-up-docs.json');
    const other = Buffer.from(JSON.stringify({ ...JSON.parse(cs.payload.toString()), rxInfo: [] }));
    expect(messageIdOf(cs.topic, other, parseLnsMessage(cs.topic, other))).toBe(messageIdOf(cs.topic, cs.payload, cs.event));
  });

  it('hashes topic and payload for other events, so a status never takes the id of the uplink that brought it', () => {
    const st = fixture('chirpstack-v4-status.json');
    const id = messageIdOf(st.topic, st.payload, st.event);
    expect(id).toMatch(/^h:[A-Za-z0-9_-]{32}$/);
    expect(messageIdOf(st.topic, Buffer.from(st.payload), st.event)).toBe(id);
    expect(messageIdOf(st.topic + 'x', st.payload, st.event)).not.toBe(id);
    expect(messageIdOf(st.topic, Buffer.concat([st.payload, Buffer.from(' ')]), st.event)).not.toBe(id);
  });
});

describe('fair share and rebalancing', () => {
  it('fair share is ceil(N / members), N with no member counted', () => {
    expect(fairShare(16, 3)).toBe(6);
    expect(fairShare(16, 2)).toBe(8);
    expect(fairShare(16, 16)).toBe(1);
    expect(fairShare(16, 20)).toBe(1);
    expect(fairShare(16, 0)).toBe(16);
  });

  it('preference order is a permutation that differs between replicas', () => {
    const a = preferenceOrder('veilleur-1', 16);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(preferenceOrder('veilleur-2', 16)).not.toEqual(a);
    expect(preferenceOrder('veilleur-1', 16)).toEqual(a);
  });

  /** Replicas taking turns on the shared lease table until nobody changes anything; returns the owners. */
  function converge(replicas: string[], owners: Map<number, string>, n = 16): Map<number, string> {
    for (let round = 0; round < 50; round++) {
      let changed = false;
      for (const r of replicas) {
        const held = [...owners].filter(([, o]) => o === r).map(([p]) => p);
        const free = Array.from({ length: n }, (_, p) => p).filter((p) => !owners.has(p));
        const plan = rebalance(r, n, replicas.length, held, free);
        for (const p of plan.release) owners.delete(p);
        for (const p of plan.acquire) owners.set(p, r);
        changed ||= plan.acquire.length + plan.release.length > 0;
      }
      if (!changed) return owners;
    }
    throw new Error('did not converge in 50 rounds');
  }

  const perReplica = (owners: Map<number, string>) => {
    const m = new Map<string, number>();
    for (const o of owners.values()) m.set(o, (m.get(o) ?? 0) + 1);
    return m;
  };

  it('three replicas starting one after the other end with every partition owned once, at most 6 each', () => {
    const owners = converge(['r1'], new Map());
    expect(owners.size).toBe(16);
    converge(['r1', 'r2', 'r3'], owners);
    expect(owners.size).toBe(16);
    expect(Math.max(...perReplica(owners).values())).toBeLessThanOrEqual(6);
    expect(perReplica(owners).size).toBe(3);
  });

  it("a replica that dies leaves its partitions to the two others (8 each at most), and gets a share back when it returns", () => {
    const owners = converge(['r1', 'r2', 'r3'], new Map());
    const lost = [...owners].filter(([, o]) => o === 'r2').map(([p]) => p);
    expect(lost.length).toBeGreaterThan(0);
    for (const p of lost) owners.delete(p); // its leases expire
    converge(['r1', 'r3'], owners);
    expect(owners.size).toBe(16);
    expect([...perReplica(owners).values()].every((c) => c <= 8)).toBe(true);
    converge(['r1', 'r2', 'r3'], owners);
    expect(owners.size).toBe(16);
    expect(perReplica(owners).get('r2')).toBeGreaterThanOrEqual(4);
  });

  it('a replica beyond its share releases its least preferred partitions first', () => {
    const order = preferenceOrder('r1', 16);
    const plan = rebalance('r1', 16, 2, order, []);
    expect(plan.acquire).toEqual([]);
    expect(plan.release).toEqual(order.slice(8).reverse());
  });
});
