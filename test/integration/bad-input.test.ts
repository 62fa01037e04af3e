/**
 * A stream with 5 % malformed messages: every good uplink is stored, every bad one is kept raw in
 * `uplink_rejected` with its reason, and the service stays healthy and ready.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import { countPoints, ServiceProcess, startStack, storedUplinkKeys, waitFor, type Stack } from './support.ts';

const N = 2000;
let stack: Stack;
let service: ServiceProcess;
beforeAll(async () => {
  stack = await startStack();
  service = new ServiceProcess(stack, {}, townRegistry());
  await service.start();
});
afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

/** Five kinds of bad input, each a realistic mistake. */
function corrupt(i: number, good: { topic: string; payload: string }): { topic: string; payload: string | Buffer; reason: string } {
  switch (i % 5) {
    case 0:
      return { topic: good.topic, payload: good.payload.slice(0, 40), reason: 'invalid_json' };
    case 1:
      return { topic: good.topic, payload: good.payload.replace(/"(data|frm_payload)":"[^"]*"/, '"$1":"%%not*base64%%"'), reason: 'bad_base64' };
    case 2:
      return { topic: good.topic, payload: JSON.stringify({ hello: 'world', i }), reason: 'unknown_envelope' };
    case 3:
      return { topic: good.topic, payload: good.payload.replace(/"devEui":"[0-9a-f]+"/, '"devEui":"not-a-deveui"').replace(/"dev_eui":"[0-9A-F]+"/, '"dev_eui":"zz"'), reason: 'invalid_envelope' };
    default:
      return { topic: good.topic.includes('/event/') ? good.topic : `application/x/device/0000000000000000/event/up`, payload: Buffer.from([0x0a, 0x24, 0x33, i & 0xff]), reason: 'protobuf_payload' };
  }
}

describe('bad input', () => {
  it('stores every good uplink, keeps every bad message raw with its reason, and stays healthy', async () => {
    const all = [...generateUplinks({ start: new Date('2026-01-05T00:00:00Z'), count: N, seed: 11 })];
    const bad = new Map<number, ReturnType<typeof corrupt>>();
    for (let i = 0; i < N; i += 20) bad.set(i, corrupt(i / 20, all[i]!));
    const stream = all.map((u, i) => (bad.has(i) ? { ...u, ...bad.get(i)! } : u));
    const good = all.filter((_, i) => !bad.has(i));
    await publishUplinks(stream as typeof all, { url: stack.mqtt.url, rate: 1000 });

    let keys: string[] = [];
    await waitFor(async () => (keys = await storedUplinkKeys(stack.influx, stack.db)).length >= good.length, 60_000, 'good uplinks stored');
    const rejected = await countPoints(stack.influx, stack.db, 'SELECT count(message_bytes) FROM uplink_rejected');
    const byReason = await stack.influx.query('SELECT count(message_bytes) FROM uplink_rejected GROUP BY reason', stack.db);
    const reasons = Object.fromEntries((byReason.results?.[0]?.series ?? []).map((s) => [s.tags?.reason, Number(s.values[0]?.[1])]));
    console.log(`[bad input] published ${N} (${bad.size} malformed): stored ${keys.length} good, kept raw ${rejected}`, reasons);

    const stored = new Set(keys);
    expect(good.every((u) => stored.has(`${u.devEui}:${u.fCnt}`))).toBe(true);
    expect(keys.length).toBe(good.length);
    expect(rejected).toBe(bad.size);
    const expected: Record<string, number> = {};
    for (const b of bad.values()) expected[b.reason] = (expected[b.reason] ?? 0) + 1;
    expect(reasons).toEqual(expected);

    // Each raw record says what was wrong and keeps the message to decode again.
    const sample = await stack.influx.query("SELECT * FROM uplink_rejected WHERE reason = 'bad_base64' LIMIT 1", stack.db);
    const cols = sample.results![0]!.series![0]!.columns;
    const row = sample.results![0]!.series![0]!.values[0]!;
    expect(String(row[cols.indexOf('detail')])).toMatch(/not valid base64/);
    expect(Buffer.from(String(row[cols.indexOf('message_b64')]), 'base64').toString()).toContain('%%not*base64%%');

    const health = await fetch(`${await service.url}/healthz`);
    expect(health.status).toBe(200);
    expect((await service.ready())?.ready).toBe(true);
    const metrics = await (await fetch(`${await service.url}/metrics`)).text();
    expect(metrics).toMatch(/veilleur_messages_rejected_total\{reason="invalid_json"\} \d+/);
  }, 120_000);
});
