/**
 * Every panel query of every dashboard, run against a real InfluxDB filled by the real service with three days of
 * the simulated town (plus the few things the town does not produce: a flow meter decoded by an operator's
 * codec, an uplink no decoder knows, a malformed MQTT message). Each query must return at least one non-null value.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VARIABLE_QUERIES } from '../../dashboards/common.ts';
import { DASHBOARDS } from '../../dashboards/index.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { generateUplinks, type SimUplink } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { queryRows, ServiceProcess, startStack, waitFor, type Stack } from '../integration/support.ts';
import { panelQueries, substitute } from './support.ts';

let stack: Stack;
let service: ServiceProcess;

const FLOW_CODEC = `function decodeUplink(input) {
  var b = input.bytes;
  if (input.fPort !== 8 || b.length !== 2) return { errors: ['expected fPort 8 and 2 bytes'] };
  return { data: { flow_l_h: b[0] | (b[1] << 8) }, warnings: [] };
}
`;

const testDevice = (name: string, devEui: string, profile: string): SimDevice => ({
  devEui, name, profile, lns: 'chirpstack-v4', lnsTenant: 'Commune de Saint-Veilleur', application: 'eau-reseau', decoder: 'none', site: 'reseau',
  intervalS: 3600, initial: {}, behaviour: () => () => undefined,
});

function uplink(d: SimDevice, fCnt: number, fPort: number, bytes: number[], t: Date): SimUplink {
  const m = chirpstackV4Up(d, fCnt, { fPort, bytes: Uint8Array.from(bytes) }, t, { rssi: -95, snr: 3, spreadingFactor: 9, gateways: 1 });
  return { ...m, devEui: d.devEui, fCnt, time: t };
}

beforeAll(async () => {
  stack = await startStack();
  const codec = join(stack.dir, 'flow-ts013.js');
  writeFileSync(codec, FLOW_CODEC);
  const registry = townRegistry();
  service = new ServiceProcess(stack, {}, {
    ...registry,
    codecs: [{ name: 'flow', file: codec, profiles: ['Flow meter v1'], timeoutMs: 200, memoryMb: 32, readings: [{ field: 'flow_l_h', quantity: 'water.flow', scale: 1 }] }],
  });
  await service.start();
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

describe('dashboard panels on real data', () => {
  it('every panel query returns data from InfluxDB', async () => {
    const end = new Date();
    const start = new Date(end.getTime() - 3 * 86400e3);
    const town = [...generateUplinks({ start, end, seed: 1 })];
    // What the town lacks: a flow meter (operator's codec), a device without decoder, a message that is not JSON.
    const flow = testDevice('debitmetre-reseau', '1122334455660001', 'Flow meter v1');
    const unknown = testDevice('capteur-inconnu', '1122334455660002', 'Unknown profile');
    const extra = [
      ...Array.from({ length: 12 }, (_, i) => uplink(flow, i + 1, 8, [(200 + i * 10) & 0xff, 0], new Date(end.getTime() - (12 - i) * 3600e3))),
      ...Array.from({ length: 3 }, (_, i) => uplink(unknown, i + 1, 3, [1, 2, 3], new Date(end.getTime() - (3 - i) * 3600e3))),
    ];
    await publishUplinks([...town, ...extra], { url: stack.mqtt.url });
    const client = await mqtt.connectAsync(stack.mqtt.url);
    await client.publishAsync(town[0]!.topic, '{"not": json', { qos: 1 });
    await client.endAsync();

    const expected = town.length + extra.length;
    const count = async (q: string) => Number((await queryRows(stack.influx, stack.db, q))[0]?.count ?? 0);
    await waitFor(
      async () => (await count('SELECT count(f_cnt) FROM uplink')) >= expected && (await count('SELECT count(message_bytes) FROM uplink_rejected')) >= 1,
      90_000,
      'uplinks stored',
    );

    const failures: string[] = [];
    let panels = 0;
    let queries = 0;
    for (const d of DASHBOARDS) {
      const dash = d.build('fr');
      const qs = panelQueries(dash);
      panels += new Set(qs.map((q) => q.panel)).size;
      for (const q of qs) {
        queries++;
        const sql = substitute(q.query);
        try {
          const res = await stack.influx.query(sql, stack.db);
          const series = res.results?.[0]?.series ?? [];
          const values = series.flatMap((s) => s.values.flatMap((row) => row.slice(1))).filter((v) => v !== null);
          if (series.length === 0 || values.length === 0) failures.push(`${q.dashboard} / ${q.panel} / ${q.refId}: no data for ${sql}`);
        } catch (e) {
          failures.push(`${q.dashboard} / ${q.panel} / ${q.refId}: ${(e as Error).message}`);
        }
      }
    }
    for (const [name, q] of Object.entries(VARIABLE_QUERIES)) {
      const values = (await stack.influx.query(substitute(q), stack.db)).results?.[0]?.series?.[0]?.values ?? [];
      if (values.length === 0) failures.push(`variable ${name}: no values for ${substitute(q)}`);
    }
    console.log(`[dashboards] ${DASHBOARDS.length} dashboards, ${panels} panels, ${queries} queries checked on ${expected} uplinks`);
    expect(failures).toEqual([]);
    expect(panels).toBeGreaterThanOrEqual(20);
  }, 180_000);
});
