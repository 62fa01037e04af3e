/**
 * Every network-server event kind of test/fixtures/lns/events (ChirpStack v3 json nulls, ChirpStack v4 events and
 * state topics, TTS multi-segment topics, ThingPark, Live Objects), published through a real Mosquitto to the real
 * service into a real InfluxDB: stored, ignored and counted, or rejected, as docs/schema.md says.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileConfig } from '../../services/config/schema.ts';
import { uplinkField } from '../../services/storage/schema.ts';
import { queryRows, ROOT, ServiceProcess, startStack, waitFor, type Stack } from './support.ts';

interface Fixture {
  name: string;
  topic: string;
  message: unknown;
  expect: { kind: string; event?: string; devEui?: string; timeSource?: string; receivedAt?: string; readings?: boolean; lns?: string };
}

const DIR = join(ROOT, 'test', 'fixtures', 'lns', 'events');
const fixtures: Fixture[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((name) => ({ name, ...(JSON.parse(readFileSync(join(DIR, name), 'utf8')) as Omit<Fixture, 'name'>) }));
const uplinks = fixtures.filter((f) => f.expect.kind === 'uplink');
const ignored = fixtures.filter((f) => f.expect.kind === 'ignored');

// The Milesight EM300-ZLD frames of the fixtures are decoded by Veilleur; ThingPark's customer and the Live Objects
// group are mapped to a commune by configuration (they carry no tenant Veilleur could trust).
const registry = {
  tenants: [{ id: 'saint-veilleur', name: 'Commune de Saint-Veilleur', lnsTenants: ['100002164'], applications: ['/Saint-Veilleur'] }],
  devices: ['24e124136d490701', '24e124136d490702', '24e124136d490703', '24e124136d490704', '24e124136d490705', '24e124136d490706', '24e124136d490708', '24e124136d490709'].map(
    (devEui) => ({ devEui, decoder: 'milesight/em300-zld' }),
  ),
} as unknown as FileConfig;

const TOPICS = [
  'application/+/device/+/event/+',
  'application/+/device/+/state/+',
  'v3/+/devices/#',
  'mqtt/things/+/uplink',
  'fifo/veilleur',
  'router/~event/v1/data/new/#',
].join(',');

let stack: Stack;
let service: ServiceProcess;
beforeAll(async () => {
  stack = await startStack();
  service = new ServiceProcess(stack, { MQTT_TOPICS: TOPICS }, registry);
  await service.start();
});
afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

const rows = (q: string) => queryRows(stack.influx, stack.db, q);
const iso = (t: unknown) => new Date(Number(t)).toISOString();

async function metric(name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${await service.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) out.set(m[1]!, Number(m[2]));
  return out;
}

describe('network-server events end to end', () => {
  it('stores, ignores and counts, never rejects, every event kind a network server publishes', async () => {
    const client = await mqtt.connectAsync(stack.mqtt.url);
    for (const f of fixtures) await client.publishAsync(f.topic, JSON.stringify(f.message), { qos: 1 });
    await client.endAsync();

    const ignoredTotal = async () => [...(await metric('veilleur_lns_events_ignored_total')).values()].reduce((a, b) => a + b, 0);
    await waitFor(async () => (await rows('SELECT * FROM uplink')).length >= uplinks.length && (await ignoredTotal()) >= ignored.length, 30_000, 'every fixture handled');

    // Uplinks: each one once, at the time the fixture documents, with where that time came from.
    const stored = await rows('SELECT * FROM uplink');
    expect(stored).toHaveLength(uplinks.length);
    for (const f of uplinks) {
      // Without a documented time (Veilleur's reception time), the fixture's uplink is the one stamped 'reception'.
      const row = stored.find((r) => r.dev_eui === f.expect.devEui && (f.expect.receivedAt ? iso(r.time) === f.expect.receivedAt : uplinkField(r, 'time_source') === 'reception'));
      expect(row, f.name).toBeDefined();
      // Left out when 'network_server' (issue 15): uplinkField reads the default.
      expect(uplinkField(row!, 'time_source'), f.name).toBe(f.expect.timeSource);
    }

    // Issue 12's case: a ChirpStack v3 gateway with "time": null; the uplink and its readings are stored.
    const air = await rows("SELECT * FROM air WHERE dev_eui = '24e124136d490701'");
    expect(air).toHaveLength(1);
    expect(air[0]).toMatchObject({ temperature_c: 27.2, humidity_pct: 56.5 });
    expect(iso(air[0]!.time)).toBe('2026-03-02T07:15:02.511Z');
    const leak = await rows("SELECT * FROM water WHERE dev_eui = '24e124136d490701'");
    expect(leak[0]).toMatchObject({ leak: false });

    // Every fixture carrying a decodable frame has its readings, ThingPark and Live Objects included, in their commune.
    const withReadings = uplinks.filter((x) => x.expect.readings);
    for (const f of withReadings) {
      const r = await rows(`SELECT * FROM air WHERE dev_eui = '${f.expect.devEui}'`);
      expect(r, f.name).toHaveLength(withReadings.filter((x) => x.expect.devEui === f.expect.devEui).length);
      expect(r.every((x) => x.temperature_c === 27.2), f.name).toBe(true);
    }
    const tp = await rows("SELECT * FROM air WHERE dev_eui = '24e124136d490708'");
    expect(tp[0]).toMatchObject({ tenant: 'saint-veilleur' });
    const lo = await rows("SELECT * FROM uplink WHERE dev_eui = '24e124136d490709'");
    expect(lo[0]).toMatchObject({ tenant: 'saint-veilleur', lns: 'liveobjects', f_port: 85, sf: 12 });

    // Other stored kinds: positions, joins, DevStatusAns (ChirpStack retained state topic, ThingPark notification).
    const locations = await rows('SELECT * FROM device_location');
    expect(locations.map((l) => l.dev_eui).sort()).toEqual(['0016c001f0006269', '0101010101010101', '24e124136d490701']);
    expect(locations.find((l) => l.dev_eui === '0016c001f0006269')).toMatchObject({ latitude: 47.006689, accuracy_m: 28, source: 'wifi_rssi_geolocation' });
    const joins = await rows("SELECT * FROM device_event WHERE type = 'join'");
    expect(joins).toHaveLength(fixtures.filter((f) => f.expect.kind === 'join').length);
    expect(joins.every((j) => j.time_source === 'network_server')).toBe(true);
    const status = await rows('SELECT * FROM device_status');
    expect(status.map((s) => s.battery_level_pct).sort()).toEqual([50, 62.2]);

    // Gateway metadata: the gateways the uplinks name, with a position when the network server gives one.
    const gateways = await rows('SELECT * FROM gateway');
    expect(gateways.find((g) => g.gateway_id === 'b827ebfffe6a1c02')).toMatchObject({ latitude: 43.1847, longitude: 2.7586, lns: 'chirpstack-v3' });
    expect(gateways.find((g) => g.gateway_id === 'ff0107a2')).toMatchObject({ latitude: 43.183, tenant: 'saint-veilleur', lns: 'thingpark' });

    // Nothing was a bad message; the rest is counted by network server and event.
    expect(await rows('SELECT * FROM uplink_rejected')).toEqual([]);
    const counted = await metric('veilleur_lns_events_ignored_total');
    const expected = new Map<string, number>();
    for (const f of ignored) {
      const lns = f.name.startsWith('chirpstack-v3') ? 'chirpstack-v3' : f.name.startsWith('chirpstack-v4') ? 'chirpstack-v4' : f.name.startsWith('tts') ? 'tts-v3' : f.name.split('-')[0]!;
      const key = `lns="${lns}",kind="${f.expect.event}"`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(counted).toEqual(expected);
  }, 60_000);
});
