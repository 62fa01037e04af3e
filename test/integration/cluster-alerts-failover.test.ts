/**
 * Issue 17, acceptance (engineer B): alerts across three replicas of the real service (child processes) on a real
 * nats-server, Mosquitto and InfluxDB, with a webhook receiver. The replica that owns two leak sensors' partition is
 * killed (SIGKILL): the sensor that was already wet (W7 opened and notified by the dead replica, not yet written to
 * InfluxDB, its uplink unacknowledged and redelivered) raises nothing more on the next owner; the sensor that turns wet during the failover raises exactly one W7, notified once. The dead
 * replica restarted afterwards (its spool written to InfluxDB) adds no second alert either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { partitionOf } from '../../services/cluster/partitions.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import { scaledTown, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { startWebhookReceiver } from './notify-support.ts';
import { partitionsOwned, Replica, startClusterStack, writeClusterConfig, type ClusterStack } from './cluster-support.ts';
import { queryRows, storedUplinkKeys, waitFor } from './support.ts';

const SECRET = 'cluster-alerts-test-secret-0123456789';
const PARTITIONS = 16;
const DEVICES = scaledTown(16);

let stack: ClusterStack;
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
let replicas: Replica[] = [];
let publisher: mqtt.MqttClient;

beforeAll(async () => {
  stack = await startClusterStack();
  hook = await startWebhookReceiver(SECRET);
  const registry = townRegistry(DEVICES);
  registry.notifications = { channels: { astreinte: { type: 'webhook', url: hook.url, secret: SECRET } }, routes: [{ channels: ['astreinte'] }] } as never;
  const config = writeClusterConfig(stack, registry, { partitions: PARTITIONS });
  // Windowed rules every hour: this test is about stream rules (W7) and the replicas' alert books. InfluxDB writes
  // every 4 s: an alert notified at once is not in InfluxDB yet when its replica dies, so only NATS knows it.
  replicas = ['r1', 'r2', 'r3'].map((id) => new Replica(id, stack, config, { ALERT_EVAL_MINUTES: '60', WRITE_FLUSH_MS: '4000' }));
  await Promise.all(replicas.map((r) => r.start()));
  await waitFor(async () => (await partitionsOwned(replicas)) === PARTITIONS && (await Promise.all(replicas.map((r) => r.metric('veilleur_cluster_partitions_owned')))).every((n) => (n ?? 0) >= 4), 60_000, '16 partitions spread over 3 replicas');
  publisher = await mqtt.connectAsync(stack.mqtt.url, { clientId: 'cluster-alerts-publisher' });
}, 180_000);

afterAll(async () => {
  await publisher?.endAsync();
  await Promise.all(replicas.map((r) => r.stop()));
  await hook?.close();
  await stack?.close();
});

async function owner(partition: number): Promise<Replica | undefined> {
  for (const r of replicas) {
    if (!r.running) continue;
    try {
      const res = await fetch(`${await r.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { cluster?: { partitions?: number[] } };
      if (body.cluster?.partitions?.includes(partition)) return r;
    } catch {
      // not answering: not the owner
    }
  }
  return undefined;
}

const fCnts = new Map<string, number>();
async function uplink(d: SimDevice, leak: boolean): Promise<string> {
  const fCnt = (fCnts.get(d.devEui) ?? 0) + 1;
  fCnts.set(d.devEui, fCnt);
  const frame = frameBuilders[d.decoder]!.build({ leak, temperatureC: 18, humidityPct: 50, batteryPct: 90 }, new Date());
  const m = chirpstackV4Up(d, fCnt, frame, new Date(), { rssi: -80, snr: 7, spreadingFactor: 8, gateways: 1 });
  await publisher.publishAsync(m.topic, m.payload, { qos: 1 });
  return `${d.devEui}:${fCnt}`;
}

const w7Stored = async (devEui: string) => (await queryRows(stack.influx, stack.db, `SELECT * FROM alert_event WHERE "rule" = 'W7' AND "dev_eui" = '${devEui}'`)).map((r) => String(r.event));
const w7Notified = (devEui: string) => hook.requests.filter((r) => (r.body.alert as { ruleId: string; subject: { devEui?: string } }).ruleId === 'W7' && (r.body.alert as { subject: { devEui?: string } }).subject.devEui === devEui).map((r) => String(r.body.event));

describe('alerts across three replicas through a SIGKILL', () => {
  it('one W7 per leak, notified once: wet before the failover, and wet during it', async () => {
    // /readyz of each replica: NATS reachable, its partitions (16 in all, each once), one jobs leader among them.
    const ready = await Promise.all(replicas.map(async (r) => (await (await fetch(`${await r.url}/readyz`)).json()) as { ready: boolean; checks: { nats?: boolean }; cluster?: { partitions: number[]; jobsLeader: boolean } }));
    expect(ready.map((b) => [b.ready, b.checks.nats])).toEqual([[true, true], [true, true], [true, true]]);
    expect(ready.flatMap((b) => b.cluster!.partitions).sort((a, b) => a - b)).toEqual(Array.from({ length: PARTITIONS }, (_, i) => i));
    await waitFor(async () => (await Promise.all(replicas.map((r) => r.metric('veilleur_cluster_jobs_leader')))).reduce((a, b) => (a ?? 0) + (b ?? 0), 0) === 1, 15_000, 'one jobs leader');

    // Two leak sensors in the partitions of one replica (the victim).
    const leaks = DEVICES.filter((d) => d.role === 'leak-sensor' && d.decoder === 'milesight/em300-zld');
    const byOwner = new Map<Replica, SimDevice[]>();
    for (const d of leaks) {
      const o = await owner(partitionOf(d.devEui, PARTITIONS));
      if (o) byOwner.set(o, [...(byOwner.get(o) ?? []), d]);
    }
    const [victim, sensors] = [...byOwner.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
    expect(sensors.length, 'two leak sensors owned by one replica').toBeGreaterThanOrEqual(2);
    const [before, during] = sensors as [SimDevice, SimDevice];
    const sent: string[] = [];

    // Both dry (stored); then the first one wet: W7 opened by the victim and notified, and the victim killed before
    // its next InfluxDB write: the wet uplink, unacknowledged, goes to the next owner, whose InfluxDB restore finds
    // no open alert (only NATS has it).
    sent.push(await uplink(before, false), await uplink(during, false));
    await waitFor(async () => {
      const stored = new Set(await storedUplinkKeys(stack.influx, stack.db));
      return sent.every((k) => stored.has(k));
    }, 30_000, 'the dry uplinks stored');
    sent.push(await uplink(before, true));
    await waitFor(async () => w7Notified(before.devEui).includes('opened'), 20_000, 'W7 of the first sensor notified');
    expect(await w7Stored(before.devEui), 'W7 already in InfluxDB: the failover would not test the alerts in NATS').toEqual([]);

    // The victim dies; the second sensor turns wet at once, the first stays wet, while nobody owns their partitions.
    const killedAt = Date.now();
    expect(await victim.kill('SIGKILL')).toBeNull();
    sent.push(await uplink(during, true), await uplink(before, true));
    const survivors = replicas.filter((r) => r !== victim);
    await waitFor(async () => (await partitionsOwned(survivors)) === PARTITIONS, 20_000, 'the victim\'s partitions owned again');
    const takeover = Date.now() - killedAt;
    console.log(`[cluster-alerts] partitions owned again ${takeover} ms after the SIGKILL`);
    expect(takeover).toBeLessThan(15_000);
    // More wet uplinks on the new owner.
    for (let i = 0; i < 3; i++) sent.push(await uplink(during, true), await uplink(before, true));
    await waitFor(async () => w7Notified(during.devEui).includes('opened'), 20_000, 'W7 of the second sensor notified');
    // The first sensor's W7, claimed by the victim and never written by it, is stored by the next owner (as if the
    // victim had died for good).
    await waitFor(async () => (await w7Stored(before.devEui)).includes('opened'), 20_000, "the victim's W7 stored by the next owner");
    await waitFor(async () => {
      const stored = new Set(await storedUplinkKeys(stack.influx, stack.db));
      return sent.every((k) => stored.has(k));
    }, 30_000, 'every uplink stored');

    // The victim comes back: its spool is written to InfluxDB; nothing it held may add a second alert.
    await victim.start();
    await waitFor(async () => (await partitionsOwned(replicas)) === PARTITIONS && ((await victim.metric('veilleur_spool_bytes')) ?? 1) === 0, 60_000, 'the victim back, its spool written');
    sent.push(await uplink(during, true), await uplink(before, true));
    await waitFor(async () => {
      const stored = new Set(await storedUplinkKeys(stack.influx, stack.db));
      return sent.every((k) => stored.has(k));
    }, 30_000, 'the last uplinks stored');
    // Give a late duplicate its chance to show: the writers flush within a second, the webhook within a few.
    const settle = Date.now() + 5000;
    await waitFor(async () => Date.now() > settle, 10_000, 'a few seconds for late events');

    for (const d of [before, during]) {
      const stored = await w7Stored(d.devEui);
      const notified = w7Notified(d.devEui);
      console.log(`[cluster-alerts] ${d.name}: stored ${JSON.stringify(stored)}, notified ${JSON.stringify(notified)}`);
      expect(stored.filter((e) => e === 'opened'), `${d.name} W7 opened, stored`).toHaveLength(1);
      expect(notified.filter((e) => e === 'opened'), `${d.name} W7 opened, notified`).toHaveLength(1);
    }
    const keys = await storedUplinkKeys(stack.influx, stack.db);
    expect(keys.length - new Set(keys).size, 'uplinks stored twice').toBe(0);
  }, 240_000);
});
