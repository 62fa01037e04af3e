/**
 * Custom TS013 codecs end to end: an operator's codec registered in the configuration decodes uplinks into
 * InfluxDB; a codec that loops forever is stopped within its time limit and the service keeps serving.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import type { SimDevice } from '../../services/simulator/town.ts';
import type { SimUplink } from '../../services/simulator/generator.ts';
import { fileSchema } from '../../services/config/schema.ts';
import { queryRows, ROOT, ServiceProcess, startStack, waitFor, type Stack } from './support.ts';

let stack: Stack;
let service: ServiceProcess;
const codecDir = join(ROOT, 'test', 'fixtures', 'codecs');

beforeAll(async () => {
  stack = await startStack();
  service = new ServiceProcess(stack, {}, fileSchema.parse({
    tenants: [],
    devices: [],
    profiles: [],
    sites: [],
    codecs: [
      {
        name: 'acme-water',
        file: join(codecDir, 'water-ts013.js'),
        profiles: ['ACME Water v1'],
        timeoutMs: 100,
        memoryMb: 32,
        readings: [
          { field: 'meter.index_l', quantity: 'metering.water.total', scale: 1 },
          { field: 'leak', quantity: 'water.leak', scale: 1 },
        ],
      },
      { name: 'buggy', file: join(codecDir, 'loop-ts013.js'), profiles: ['Buggy v0'], timeoutMs: 200, memoryMb: 32, readings: [] },
    ],
  }));
  await service.start();
});
afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

function device(name: string, devEui: string, profile: string): SimDevice {
  return {
    devEui, name, profile, lns: 'chirpstack-v4', lnsTenant: 'Commune test', application: 'eau', decoder: 'none', site: 'test',
    intervalS: 900, initial: {}, behaviour: () => () => undefined,
  };
}

function uplink(d: SimDevice, fCnt: number, fPort: number, bytes: number[], t: Date): SimUplink {
  const m = chirpstackV4Up(d, fCnt, { fPort, bytes: Uint8Array.from(bytes) }, t, { rssi: -90, snr: 5, spreadingFactor: 9, gateways: 1 });
  return { ...m, devEui: d.devEui, fCnt, time: t };
}

const rows = (q: string) => queryRows(stack.influx, stack.db, q);

describe('custom codecs', () => {
  it('decodes with a registered TS013 codec, stops a looping one, and keeps serving', async () => {
    const meter = device('compteur-acme', '1122334455667701', 'ACME Water v1');
    const buggy = device('capteur-bogue', '1122334455667702', 'Buggy v0');
    const t0 = Date.parse('2026-04-01T00:00:00Z');
    const before = Array.from({ length: 5 }, (_, i) => uplink(meter, i, 7, [0x10 + i, 0x27, 0, 0, i % 2], new Date(t0 + i * 60_000)));
    const loops = Array.from({ length: 3 }, (_, i) => uplink(buggy, i, 9, [1], new Date(t0 + i * 60_000)));
    const after = Array.from({ length: 5 }, (_, i) => uplink(meter, 5 + i, 7, [0x20 + i, 0x27, 0, 0, 0], new Date(t0 + (5 + i) * 60_000)));
    const started = Date.now();
    await publishUplinks([...before, ...loops, ...after], { url: stack.mqtt.url, inflight: 1 });
    await waitFor(async () => (await rows('SELECT * FROM water')).length >= 10, 20_000, 'water readings');
    const elapsed = Date.now() - started;

    const water = await rows('SELECT * FROM water');
    expect(water).toHaveLength(10);
    expect(water[0]).toMatchObject({ volume_index_l: 0x2710, leak: false, device: 'compteur-acme', tenant: 'commune-test' });
    expect(water[9]).toMatchObject({ volume_index_l: 0x2724 });
    const decodedBy = await rows("SELECT decoded_by FROM uplink WHERE dev_eui = '1122334455667701'");
    expect(new Set(decodedBy.map((r) => r.decoded_by))).toEqual(new Set(['decoder:codec:acme-water']));

    // The looping device's uplinks wait for their codec's time limit while the meter's flow past them.
    await waitFor(async () => (await rows('SELECT * FROM uplink_undecoded')).length >= 3, 20_000, 'the uplinks of the looping codec kept raw');
    const stuck = await rows('SELECT * FROM uplink_undecoded');
    expect(stuck).toHaveLength(3);
    for (const r of stuck) {
      expect(r).toMatchObject({ reason: 'decoder_error', dev_eui: '1122334455667702' });
      expect(String(r.detail)).toContain("codec 'buggy': decodeUplink did not return within 200 ms");
    }
    // The first loop costs one time limit, the next ones of the same device none (suspended), not a hang; the
    // service stayed up and ready.
    expect(elapsed).toBeLessThan(15_000);
    expect((await service.ready())?.ready).toBe(true);
  });
});
