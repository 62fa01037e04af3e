/**
 * No commune can write into another's data (issue #12, item 6), on real Mosquitto and InfluxDB with the service as a
 * child process. Two communes, each with its ChirpStack application mapped in `tenants[].applications`; then
 * uplinks that the topic's application may not publish: B's meter through A's application, and unknown devices
 * under A's application whose body claims B's tenant (and application). Each must be kept raw as
 * `tenant_mismatch`, counted, logged once per device, and change nothing any commune's key can see.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { generateKey } from '../../services/api/keys.ts';
import { fileSchema } from '../../services/config/schema.ts';
import { builtInDecoders } from '../../services/pipeline/decode.ts';
import { redecode } from '../../services/pipeline/redecode.ts';
import { Registry } from '../../services/registry/registry.ts';
import { chirpstackV4Up, type Message } from '../../services/simulator/envelopes.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import { uuidFrom } from '../../services/simulator/random.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { countPoints, queryRows, ServiceProcess, startStack, waitFor, type Stack } from './support.ts';

const A = 'saint-veilleur';
const B = 'commune-b';
const MIN = 60_000;

const meterA = TOWN.find((d) => d.name === 'compteur-eau-mairie')!;
const meterB: SimDevice = { ...meterA, devEui: 'b4e124136d490001', name: 'compteur-eau-mairie-b', lnsTenant: 'Commune B' };
/** ChirpStack application ids, as the simulator's envelopes derive them from tenant and application. */
const APP_A = uuidFrom(`app:${meterA.lnsTenant}:${meterA.application}`);
const APP_B = uuidFrom(`app:${meterB.lnsTenant}:${meterB.application}`);
const UNKNOWN_1 = '0018b22000dead01';
const UNKNOWN_2 = '0018b22000dead02';

const keys = { a: generateKey('tenanta001'), b: generateKey('tenantb001'), root: generateKey('tenantroot1') };
const auth = (k: { key: string }) => ({ authorization: `Bearer ${k.key}` });

let stack: Stack;
let service: ServiceProcess;
let t0: number;

function up(d: SimDevice, fCnt: number, pulses: number, at: number): Message {
  const frame = frameBuilders[d.decoder]!.build({ pulsesA: pulses, batteryPct: 90, temperatureC: 18, humidityPct: 50 }, new Date(at));
  return chirpstackV4Up(d, fCnt, frame, new Date(at), { rssi: -90, snr: 5, spreadingFactor: 9, gateways: 1 });
}

async function publish(messages: Message[]): Promise<void> {
  const client = await mqtt.connectAsync(stack.mqtt.url);
  for (const m of messages) await client.publishAsync(m.topic, m.payload, { qos: 1 });
  await client.endAsync();
}

async function get(path: string, key: { key: string }): Promise<{ status: number; body: any }> {
  const r = await fetch(`${await service.url}/api/v1${path}`, { headers: auth(key) });
  return { status: r.status, body: await r.json() };
}

const rows = (q: string) => queryRows(stack.influx, stack.db, q);

/** What B's operator sees of B: the device list, B's meter with its last readings, and its raw index series. */
async function whatBSees(): Promise<unknown> {
  // A fixed range: the same question before and after.
  const from = new Date(t0 - 60 * MIN).toISOString();
  const to = new Date(t0 + 3 * 60 * MIN).toISOString();
  return {
    devices: (await get('/devices', keys.b)).body,
    meter: (await get(`/devices/${meterB.devEui}`, keys.b)).body,
    readings: (await get(`/devices/${meterB.devEui}/readings?quantity=metering.water.total&aggregation=raw&from=${from}&to=${to}`, keys.b)).body,
    alerts: (await get('/alerts', keys.b)).body,
  };
}

beforeAll(async () => {
  stack = await startStack();
  const devices = townRegistry([meterA, meterB]).devices.map((d) => ({ ...d, tenant: d.devEui === meterB.devEui ? B : A }));
  const registry = fileSchema.parse({
    tenants: [
      { id: A, name: 'Commune de Saint-Veilleur', lnsTenants: [meterA.lnsTenant], applications: [APP_A] },
      { id: B, name: 'Commune B', lnsTenants: [meterB.lnsTenant], applications: [APP_B] },
    ],
    devices,
    apiKeys: [
      { id: keys.a.id, name: 'mairie A', role: 'operator', tenants: [A], hash: keys.a.hash },
      { id: keys.b.id, name: 'mairie B', role: 'operator', tenants: [B], hash: keys.b.hash },
      { id: keys.root.id, name: 'agglomération', role: 'admin', tenants: ['*'], hash: keys.root.hash },
    ],
  });
  service = new ServiceProcess(stack, { ALERT_EVAL_MINUTES: '1440' }, registry);
  await service.start();
  // Each commune's meter through its own application: stored under its commune.
  t0 = Math.floor((Date.now() - 2 * 60 * MIN) / MIN) * MIN;
  await publish([up(meterA, 1, 1000, t0), up(meterB, 1, 2000, t0), up(meterA, 2, 1010, t0 + 15 * MIN), up(meterB, 2, 2010, t0 + 15 * MIN)]);
  await waitFor(async () => (await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink')) >= 4, 30_000, 'the communes’ own uplinks');
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

describe('an application publishing for another commune', () => {
  it('changes nothing of B, is kept raw as tenant_mismatch, counted, logged once per device, and seen by no key', async () => {
    const before = await whatBSees();
    expect((before as { devices: { devEui: string }[] }).devices.map((d) => d.devEui)).toEqual([meterB.devEui]);

    // B's meter through A's application (topic and body both A's): a huge index that must not reach B's meter.
    const bThroughA: SimDevice = { ...meterB, lnsTenant: meterA.lnsTenant };
    const spoofed = [up(bThroughA, 3, 999_999, t0 + 30 * MIN), up(bThroughA, 4, 1_000_000, t0 + 31 * MIN)];
    // An unknown device under A's application whose body claims B's tenant and B's application.
    const claimsB = up({ ...meterB, devEui: UNKNOWN_1, name: 'intrus-1' }, 1, 5, t0 + 32 * MIN);
    claimsB.topic = claimsB.topic.replace(APP_B, APP_A);
    // Another one whose body claims B's tenant name only (A's application id, as the topic).
    const claimsBName = up({ ...meterB, devEui: UNKNOWN_2, name: 'intrus-2' }, 1, 5, t0 + 33 * MIN);
    claimsBName.topic = claimsBName.topic.replace(APP_B, APP_A);
    const body = JSON.parse(claimsBName.payload) as { deviceInfo: { applicationId: string } };
    body.deviceInfo.applicationId = APP_A;
    claimsBName.payload = JSON.stringify(body);
    // Then a genuine uplink of A: once it is stored, everything published before it has been handled.
    await publish([...spoofed, claimsB, claimsBName, up(meterA, 3, 1020, t0 + 45 * MIN)]);
    await waitFor(async () => (await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink')) >= 5, 30_000, 'A’s sentinel uplink');
    // Nothing of B changed, through B's own key.
    expect(await whatBSees()).toEqual(before);
    await waitFor(async () => (await rows("SELECT * FROM uplink_rejected WHERE reason = 'tenant_mismatch'")).length >= 4, 30_000, 'the mismatches kept raw');

    // Kept raw, with the reason and what was wrong.
    const rejected = await rows("SELECT * FROM uplink_rejected WHERE reason = 'tenant_mismatch'");
    expect(rejected.map((r) => r.dev_eui).sort()).toEqual([UNKNOWN_1, UNKNOWN_2, meterB.devEui, meterB.devEui].sort());
    for (const r of rejected) expect(r).toMatchObject({ lns: 'chirpstack-v4' });
    const detailOf = (eui: string) => rejected.find((r) => r.dev_eui === eui)!.detail;
    expect(detailOf(meterB.devEui)).toBe(`device ${meterB.devEui} is registered to ${B} but the topic's application '${APP_A}' is mapped to ${A}`);
    expect(detailOf(UNKNOWN_1)).toBe(`the body names application '${APP_B}' but the topic carries application '${APP_A}'`);
    expect(detailOf(UNKNOWN_2)).toBe(`the network-server tenant 'Commune B' points to ${B} but the topic's application '${APP_A}' is mapped to ${A}`);
    // The raw message is whole, to examine or replay once the configuration is fixed.
    const raw = rejected.find((r) => r.dev_eui === UNKNOWN_1)!;
    expect(Buffer.from(String(raw.message_b64), 'base64').toString('utf8')).toBe(claimsB.payload);

    // In InfluxDB, B's meter has only its own two uplinks, every series of it under B; the unknown devices have no
    // series at all (uplink_rejected keeps the DevEUI in a field, not a tag).
    expect((await rows(`SELECT f_cnt FROM uplink WHERE dev_eui = '${meterB.devEui}'`)).map((r) => r.f_cnt)).toEqual([1, 2]);
    // (InfluxDB 1.x also lists uplink_rejected here, where dev_eui is a field: it has no tenant tag to be read by.)
    const seriesOf = async (eui: string) =>
      (await rows(`SHOW SERIES WHERE dev_eui = '${eui}'`)).map((r) => String(r.key)).filter((k) => !k.startsWith('uplink_rejected,'));
    const seriesOfB = await seriesOf(meterB.devEui);
    expect(seriesOfB.length).toBeGreaterThan(0);
    for (const s of seriesOfB) expect(s).toContain(`tenant=${B}`);
    for (const eui of [UNKNOWN_1, UNKNOWN_2]) expect(await seriesOf(eui)).toEqual([]);
    const index = QUANTITIES['metering.water.total'];
    const indexesOfB = await rows(`SELECT ${index.field} FROM ${index.measurement} WHERE dev_eui = '${meterB.devEui}'`);
    expect(indexesOfB.map((r) => r[index.field])).toEqual([20_000, 20_100]);

    // No key sees the intruders or B's meter elsewhere: not A's, not the instance-wide one.
    const aDevices = (await get('/devices', keys.a)).body as { devEui: string }[];
    expect(aDevices.map((d) => d.devEui)).toEqual([meterA.devEui]);
    expect((await get(`/devices/${meterB.devEui}`, keys.a)).status).toBe(404);
    const all = (await get('/devices', keys.root)).body as { devEui: string; tenant: string }[];
    expect(all.map((d) => `${d.tenant}/${d.devEui}`).sort()).toEqual([`${A}/${meterA.devEui}`, `${B}/${meterB.devEui}`].sort());
    for (const k of [keys.a, keys.b, keys.root]) {
      for (const eui of [UNKNOWN_1, UNKNOWN_2]) expect((await get(`/devices/${eui}`, k)).status).toBe(404);
    }

    // Counted, and logged once per device (B's meter sent two).
    const metrics = await (await fetch(`${await service.url}/metrics`)).text();
    expect(metrics).toMatch(/^veilleur_messages_rejected_total\{reason="tenant_mismatch"\} 4$/m);
    const logged = readFileSync(join(stack.dir, 'service.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"reason":"tenant_mismatch"'));
    expect(logged.map((l) => (JSON.parse(l) as { devEui: string }).devEui).sort()).toEqual([UNKNOWN_1, UNKNOWN_2, meterB.devEui].sort());
  }, 120_000);

  it("does not let a forged uplink make B's genuine one with the same counter and time look like a duplicate", async () => {
    const at = t0 + 40 * MIN;
    const forged = up({ ...meterB, lnsTenant: meterA.lnsTenant }, 5, 999_999, at);
    await publish([forged, up(meterB, 5, 2020, at)]);
    await waitFor(async () => (await rows(`SELECT f_cnt FROM uplink WHERE dev_eui = '${meterB.devEui}'`)).length >= 3, 30_000, 'B’s genuine uplink');
    const index = QUANTITIES['metering.water.total'];
    const indexesOfB = await rows(`SELECT ${index.field} FROM ${index.measurement} WHERE dev_eui = '${meterB.devEui}'`);
    expect(indexesOfB.map((r) => r[index.field])).toEqual([20_000, 20_100, 20_200]);
    const metrics = await (await fetch(`${await service.url}/metrics`)).text();
    expect(metrics).toMatch(/^veilleur_messages_rejected_total\{reason="tenant_mismatch"\} 5$/m);
    expect(metrics).toMatch(/^veilleur_uplinks_duplicate_total 0$/m);
  }, 60_000);

  it('does not let redecode move a raw uplink into another commune after the registry changed', async () => {
    // A device of A that no one registered yet: kept raw (no decoder) under A, the commune of its topic.
    const late: SimDevice = { ...meterA, devEui: '24e124136d49ffff', name: 'compteur-pose-tard' };
    const at = t0 + 50 * MIN;
    await publish([up(late, 1, 300, at)]);
    await waitFor(async () => (await rows(`SELECT * FROM uplink_undecoded WHERE dev_eui = '${late.devEui}'`)).length === 1, 30_000, 'the raw uplink');
    expect((await rows(`SELECT * FROM uplink_undecoded WHERE dev_eui = '${late.devEui}'`))[0]).toMatchObject({ tenant: A, reason: 'no_decoder' });

    const influx = createInfluxTarget({ api: 'v1', url: stack.influx.url, db: stack.db, timeoutMs: 10_000 });
    const window = { from: new Date(at), to: new Date(at + 1), devEui: late.devEui };
    const registeredTo = (tenant: string) =>
      new Registry(
        fileSchema.parse({
          tenants: [
            { id: A, lnsTenants: [meterA.lnsTenant], applications: [APP_A] },
            { id: B, lnsTenants: [meterB.lnsTenant], applications: [APP_B] },
          ],
          devices: [{ devEui: late.devEui, tenant, decoder: late.decoder, site: 'mairie' }],
        }),
        'default',
      );
    const index = QUANTITIES['metering.pulse.total'];
    const readingsOfLate = async () => (await rows(`SELECT * FROM ${index.measurement} WHERE dev_eui = '${late.devEui}'`)).length;

    // Registered to B by mistake: its readings go nowhere, the raw uplink stays to be decoded once fixed.
    expect(await redecode(influx, registeredTo(B), [builtInDecoders], window)).toMatchObject({ examined: 1, decoded: 0, stillUndecoded: 1 });
    expect(await readingsOfLate()).toBe(0);
    // Registered to A, the commune of its topic: decoded, under A.
    expect(await redecode(influx, registeredTo(A), [builtInDecoders], window)).toMatchObject({ examined: 1, decoded: 1 });
    const readings = await rows(`SELECT * FROM ${index.measurement} WHERE dev_eui = '${late.devEui}'`);
    expect(readings.map((r) => [r.tenant, r[index.field]])).toEqual([[A, 300]]);
  }, 60_000);
});
