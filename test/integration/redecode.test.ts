/**
 * Uplinks kept raw because no decoder matched are decoded again once the registry knows the devices: readings
 * appear at the uplinks' original timestamps, on real InfluxDB, and a second run changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCustomCodecs } from '../../services/pipeline/custom-codecs.ts';
import { builtInDecoders } from '../../services/pipeline/decode.ts';
import { redecode } from '../../services/pipeline/redecode.ts';
import { Registry } from '../../services/registry/registry.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry } from '../../services/simulator/town.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { countPoints, ServiceProcess, startStack, waitFor, type Stack } from './support.ts';

let stack: Stack;
let service: ServiceProcess;
beforeAll(async () => {
  stack = await startStack();
  // No registry: the service knows none of the town's devices yet.
  service = new ServiceProcess(stack);
  await service.start();
});
afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

const count = (q: string) => countPoints(stack.influx, stack.db, q);

describe('redecode', () => {
  it('decodes raw uplinks after the devices are registered, at their original times, idempotently', async () => {
    const start = new Date('2026-05-04T06:00:00Z');
    const sent = [...generateUplinks({ start, end: new Date(start.getTime() + 3_600_000), seed: 5 })];
    await publishUplinks(sent, { url: stack.mqtt.url });
    await waitFor(async () => (await count('SELECT count(f_cnt) FROM uplink_undecoded')) === sent.length, 20_000, 'raw uplinks');
    expect(await count('SELECT count(temperature_c) FROM air')).toBe(0);

    const influx = createInfluxTarget({ api: 'v1', url: stack.influx.url, db: stack.db, timeoutMs: 10_000 });
    const registry = new Registry(townRegistry(), 'default');
    const custom = loadCustomCodecs([], undefined);
    const window = { from: start, to: new Date(start.getTime() + 3_600_000), pageSize: 25 };
    const first = await redecode(influx, registry, [custom.resolver, builtInDecoders], window);
    console.log('[redecode] first run', first);
    expect(first).toMatchObject({ examined: sent.length, decoded: sent.length, stillUndecoded: 0, alreadyDone: 0 });

    // Readings at the uplinks' own timestamps, with the registry's tags.
    const inlet = TOWN.find((d) => d.name === 'salle-serveur-baie-1')!;
    const inletTimes = sent.filter((u) => u.devEui === inlet.devEui).map((u) => u.time.getTime());
    const stored = await stack.influx.query(`SELECT temperature_c, role, tenant FROM air WHERE dev_eui = '${inlet.devEui}'`, stack.db);
    const values = stored.results![0]!.series![0]!.values;
    expect(values.map((v) => v[0])).toEqual(inletTimes);
    expect(values[0]!.slice(2)).toEqual(['it-inlet', 'saint-veilleur']);
    const readingsAfterFirst = await count('SELECT count(temperature_c) FROM air');

    const second = await redecode(influx, registry, [custom.resolver, builtInDecoders], window);
    expect(second).toMatchObject({ examined: sent.length, decoded: 0, alreadyDone: sent.length });
    expect(await count('SELECT count(temperature_c) FROM air')).toBe(readingsAfterFirst);
    // The uplinks themselves are still counted once.
    expect(await count('SELECT count(f_cnt) FROM uplink')).toBe(sent.length);
  });
});
