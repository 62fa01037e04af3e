/**
 * Back-pressure with real servers: InfluxDB stopped and a 1 MB spool, so the spool fills while uplinks keep coming.
 * Veilleur then holds its acknowledgements back (the broker keeps the messages) without stopping to read them, and
 * once InfluxDB is back every uplink is stored exactly once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import { ServiceProcess, startStack, storedUplinkKeys, waitFor, type Stack } from './support.ts';

let stack: Stack | undefined;
let service: ServiceProcess | undefined;
afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

describe('spool full', () => {
  it('holds acknowledgements back until InfluxDB catches up, then stores every uplink exactly once', async () => {
    stack = await startStack({ persistence: true });
    service = new ServiceProcess(stack, { SPOOL_MAX_MB: '1', SPOOL_SEGMENT_MB: '1', LOG_LEVEL: 'warn' }, townRegistry());
    await service.start();
    const s = stack;
    await s.influx.stop();
    const sent = [...generateUplinks({ start: new Date('2026-04-01T00:00:00Z'), count: 5000, seed: 11 })];
    await publishUplinks(sent, { url: s.mqtt.url, inflight: 200, maxSeconds: 120 });
    await waitFor(async () => (await service!.ready())?.checks.spool === false, 30_000, 'the spool full');
    await s.influx.start();
    let keys: string[] = [];
    await waitFor(
      async () => {
        keys = await storedUplinkKeys(s.influx, s.db).catch(() => []);
        return keys.length >= sent.length;
      },
      120_000,
      `${sent.length} uplinks in InfluxDB`,
    );
    const stored = new Set(keys);
    expect(sent.filter((u) => !stored.has(`${u.devEui}:${u.fCnt}`))).toHaveLength(0);
    expect(keys.length).toBe(sent.length);
    await waitFor(async () => (await service!.ready())?.checks.spool === true, 30_000, 'the spool drained');
  }, 240_000);
});
