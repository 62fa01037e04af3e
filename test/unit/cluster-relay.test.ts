/**
 * The relay's own logic (services/cluster/relay.ts), with a stand-in for JetStream's publish (the real server is in
 * test/integration/cluster-ingest.test.ts): one publish at a time per partition, retried with the same message id
 * until acknowledged, the broker's acknowledgement held until then, partitions concurrent.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { partitionOf } from '../../services/cluster/partitions.ts';
import { Relay } from '../../services/cluster/relay.ts';
import { TOPIC_HEADER } from '../../services/cluster/subjects.ts';

interface Call {
  subject: string;
  msgID: string;
  topic: string | undefined;
  resolve(duplicate?: boolean): void;
  reject(err: Error): void;
}

function fakeJetStream() {
  const calls: Call[] = [];
  const js = {
    publish(subject: string, _data: Uint8Array, opts: { msgID: string; headers: { get(k: string): string } }) {
      return new Promise((resolve, reject) => {
        calls.push({ subject, msgID: opts.msgID, topic: opts.headers.get(TOPIC_HEADER), resolve: (duplicate = false) => resolve({ stream: 'S', seq: calls.length, duplicate }), reject });
      });
    },
  } as unknown as JetStreamClient;
  return { js, calls };
}

const uplink = (devEui: string, fCnt: number) => ({
  topic: `application/app-1/device/${devEui}/event/up`,
  payload: Buffer.from(JSON.stringify({ deduplicationId: `00000000-0000-4000-${String(fCnt).padStart(4, '0')}-${devEui.slice(4)}`, time: '2026-03-27T00:00:00Z', deviceInfo: { tenantName: 't', applicationId: 'app-1', applicationName: 'a', deviceName: 'd', deviceProfileName: 'p', devEui }, devAddr: '01020304', fCnt, fPort: 1, data: 'AQ==' })),
});
const tick = () => new Promise((r) => setTimeout(r, 0));
const log = pino({ level: 'silent' });
const PARTITIONS = 16;

/** Two DevEUIs in different partitions. */
function twoDevices(): [string, string] {
  const a = '0000000000000001';
  for (let i = 2; i < 100; i++) {
    const b = i.toString(16).padStart(16, '0');
    if (partitionOf(b, PARTITIONS) !== partitionOf(a, PARTITIONS)) return [a, b];
  }
  throw new Error('no second partition');
}

describe('Relay', () => {
  it("publishes a partition's messages one at a time, on its subject with the topic header, and resolves each after its acknowledgement", async () => {
    const { js, calls } = fakeJetStream();
    const relay = new Relay(js, { subjects: 'veilleur.up', partitions: PARTITIONS }, log);
    const [dev] = twoDevices();
    const done: number[] = [];
    const msgs = [1, 2, 3].map((f) => uplink(dev, f));
    msgs.forEach((m, i) => void relay.handle(m.topic, m.payload).then(() => done.push(i)));
    await tick();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.subject).toBe(`veilleur.up.${partitionOf(dev, PARTITIONS)}`);
    expect(calls[0]!.topic).toBe(msgs[0]!.topic);
    expect(calls[0]!.msgID).toMatch(/^chirpstack-v4:up:/);
    expect(done).toEqual([]);
    calls[0]!.resolve();
    await tick();
    await tick();
    expect(done).toEqual([0]);
    expect(calls).toHaveLength(2);
    calls[1]!.resolve(true); // a duplicate is acknowledged too: it is in the stream already
    await tick();
    await tick();
    calls[2]!.resolve();
    await tick();
    await tick();
    expect(done).toEqual([0, 1, 2]);
    expect(relay.published).toBe(2);
    expect(relay.duplicates).toBe(1);
    expect(relay.inFlight).toBe(0);
  });

  it('publishes different partitions concurrently', async () => {
    const { js, calls } = fakeJetStream();
    const relay = new Relay(js, { subjects: 'veilleur.up', partitions: PARTITIONS }, log);
    const [a, b] = twoDevices();
    for (const m of [uplink(a, 1), uplink(a, 2), uplink(b, 1)]) void relay.handle(m.topic, m.payload);
    await tick();
    expect(calls.map((c) => c.subject).sort()).toEqual([`veilleur.up.${partitionOf(a, PARTITIONS)}`, `veilleur.up.${partitionOf(b, PARTITIONS)}`].sort());
  });

  it('retries a failed publish with the same message id before the next message of its partition', async () => {
    const { js, calls } = fakeJetStream();
    const relay = new Relay(js, { subjects: 'veilleur.up', partitions: PARTITIONS }, log);
    const [dev] = twoDevices();
    const first = uplink(dev, 1);
    const second = uplink(dev, 2);
    const settled: string[] = [];
    void relay.handle(first.topic, first.payload).then(() => settled.push('first'));
    void relay.handle(second.topic, second.payload).then(() => settled.push('second'));
    await tick();
    calls[0]!.reject(new Error('TIMEOUT'));
    await new Promise((r) => setTimeout(r, 150)); // the first retry waits 100 ms
    expect(calls).toHaveLength(2);
    expect(calls[1]!.msgID).toBe(calls[0]!.msgID);
    expect(settled).toEqual([]);
    calls[1]!.resolve();
    await tick();
    await tick();
    expect(calls).toHaveLength(3);
    expect(calls[2]!.msgID).not.toBe(calls[0]!.msgID);
    calls[2]!.resolve();
    await tick();
    await tick();
    expect(settled).toEqual(['first', 'second']);
  });

  it('once stopped, leaves unacknowledged messages pending (the broker keeps them) and stops retrying', async () => {
    const { js, calls } = fakeJetStream();
    const relay = new Relay(js, { subjects: 'veilleur.up', partitions: PARTITIONS }, log);
    const [dev] = twoDevices();
    const m = uplink(dev, 1);
    let settled = false;
    void relay.handle(m.topic, m.payload).then(
      () => (settled = true),
      () => (settled = true),
    );
    await tick();
    relay.stop();
    calls[0]!.reject(new Error('TIMEOUT'));
    await new Promise((r) => setTimeout(r, 250));
    expect(calls).toHaveLength(1);
    expect(settled).toBe(false);
    expect(relay.inFlight).toBe(1);
  });
});
