/**
 * Recorded network-server messages (ChirpStack v4 and v3, The Things Stack v3) and the simulated town's real
 * device payloads, end to end: MQTT → service → InfluxDB, checked point by point.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry } from '../../services/simulator/town.ts';
import { uplinkField } from '../../services/storage/schema.ts';
import { queryRows, ROOT, ServiceProcess, startStack, waitFor, type Stack } from './support.ts';

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

const rows = (q: string) => queryRows(stack.influx, stack.db, q);

describe('end to end', () => {
  it('stores every recorded LNS fixture with its normalized fields', async () => {
    const dir = join(ROOT, 'test', 'fixtures', 'lns');
    // Files only: the event kinds in events/ are published by lns-events.test.ts.
    const fixtures = readdirSync(dir, { withFileTypes: true })
      .filter((f) => f.isFile())
      .map((f) => JSON.parse(readFileSync(join(dir, f.name), 'utf8')) as { topic: string; message: unknown });
    const client = await mqtt.connectAsync(stack.mqtt.url);
    for (const f of fixtures) await client.publishAsync(f.topic, JSON.stringify(f.message), { qos: 1 });
    await client.endAsync();

    const ups = fixtures.filter((f) => f.topic.endsWith('/up')).length;
    await waitFor(async () => (await rows('SELECT * FROM uplink')).length >= ups, 20_000, 'fixture uplinks');
    const uplinks = await rows('SELECT * FROM uplink');
    expect(uplinks.map((u) => u.lns).sort()).toEqual(['chirpstack-v3', 'chirpstack-v3', 'chirpstack-v4', 'chirpstack-v4', 'tts-v3', 'tts-v3']);
    const v4 = uplinks.find((u) => u.dev_eui === '24e124136d490519')!;
    expect(v4).toMatchObject({ tenant: 'commune-de-lezignan', site: 'ecole-jaures', f_cnt: 4213, f_port: 85, gateways: 3, rssi_dbm: -97, snr_db: 4.25, sf: 7, decoded_by: 'lns-object' });
    const tts = uplinks.find((u) => u.lns === 'tts-v3' && u.f_cnt === 7577)!;
    expect(tts).toMatchObject({ tenant: 'ttn', dev_eui: '0004a30b001c0530', airtime_ms: 56.576, frequency_hz: 868500000 });
    const v3 = uplinks.find((u) => u.dev_eui === '0102030405060708')!;
    expect(v3).toMatchObject({ tenant: 'default', f_cnt: 10 });
    // 125 kHz is left out of the point (issue 15) and read back as the default.
    expect(v3.bandwidth_hz ?? null).toBeNull();
    expect(uplinkField(v3, 'bandwidth_hz')).toBe(125_000);

    // LNS-decoded objects are kept as numbers; undecodable payloads are kept raw, with the reason.
    const objects = await rows('SELECT * FROM lns_object');
    expect(objects.find((o) => o.dev_eui === '24e124136d490519')).toMatchObject({ temperature: 27.2, pulse: 9102, nested_valve: 1 });
    const raw = await rows('SELECT * FROM uplink_undecoded');
    expect(raw.map((r) => r.dev_eui).sort()).toEqual(['0101010101010101', '70b3d57ba0000abc']);
    expect(raw[0]).toMatchObject({ reason: 'no_decoder' });
    const status = await rows('SELECT * FROM device_status');
    expect(status[0]).toMatchObject({ battery_level_pct: 75.6, margin_db: 6 });
    const joins = await rows("SELECT * FROM device_event WHERE type = 'join'");
    expect(joins).toHaveLength(1);
  });

  it("decodes the simulated town's real payloads into canonical readings with registry tags", async () => {
    const start = new Date('2026-02-02T06:00:00Z');
    const sent = [...generateUplinks({ start, end: new Date(start.getTime() + 45 * 60_000), seed: 3 })];
    const sentBy = (name: string) => sent.filter((u) => u.devEui === TOWN.find((d) => d.name === name)!.devEui).length;
    expect(sentBy('compteur-it-salle-serveur')).toBe(3);
    await publishUplinks(sent, { url: stack.mqtt.url });
    await waitFor(async () => (await rows('SELECT count(f_cnt) FROM uplink WHERE time > 0')).length > 0 && Number((await rows("SELECT count(f_cnt) FROM uplink WHERE time >= '2026-02-02T06:00:00Z'"))[0]?.count) >= sent.length, 20_000, 'town uplinks');
    const decoded = await rows("SELECT count(f_cnt) FROM uplink WHERE time >= '2026-02-02T06:00:00Z' AND decoded_by =~ /^decoder:/");
    expect(Number(decoded[0]?.count)).toBe(sent.length);
    const water = await rows("SELECT last(volume_index_l) FROM water WHERE time >= '2026-02-02T06:00:00Z' GROUP BY device");
    expect(water.length).toBeGreaterThan(0);
    const it = await rows("SELECT * FROM electricity WHERE role = 'it-load' AND time >= '2026-02-02T06:00:00Z'");
    expect(it.length).toBe(sentBy('compteur-it-salle-serveur'));
    expect(it[0]).toMatchObject({ tenant: 'saint-veilleur', site: 'mairie', zone: 'salle-serveur', device: 'Compteur informatique – salle serveur' });
    expect(Number(it[0]!.active_energy_index_wh)).toBeGreaterThan(15_000_000);
    const inlet = await rows("SELECT mean(temperature_c) FROM air WHERE role = 'it-inlet' AND time >= '2026-02-02T06:00:00Z'");
    expect(Number(inlet[0]?.mean)).toBeGreaterThan(18.5);
    expect(Number(inlet[0]?.mean)).toBeLessThan(20.5);
    const agglo = await rows("SELECT * FROM water WHERE tenant = 'agglo-sud' AND time >= '2026-02-02T06:00:00Z'");
    expect(agglo.length).toBe(sentBy('compteur-reservoir-nord'));
    // The well-behaved devices of the town raise no instant alert (its faults are for the windowed rules).
    expect(await rows('SELECT * FROM alert_event')).toEqual([]);
  });
});
