/**
 * One way out for alert events (issue 16, item 2), on real Mosquitto and InfluxDB: an event from a stream rule (W7
 * on a wet leak sensor), from a windowed rule (W1 on a meter that never stops, in the scheduler's first round) and
 * from a person (acknowledging through the API) is each stored in `alert_event`, published on ALERT_MQTT_TOPIC and
 * sent to the notification route, once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../services/api/keys.ts';
import { loadConfig } from '../../services/config/load.ts';
import { createService, type Service } from '../../services/service.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import { TOWN, townRegistry } from '../../services/simulator/town.ts';
import { startWebhookReceiver } from './notify-support.ts';
import { queryRows, startStack, waitFor, type Stack } from './support.ts';

const SECRET = 'alert-sink-test-secret-0123456789';
const operator = generateKey('sinkop0001');

let stack: Stack;
let service: Service;
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
let watcher: mqtt.MqttClient;
const published: { topic: string; event: string; rule: string; id: string }[] = [];

/** 26 hours of a meter index every 15 min up to now, 3.5 L each quarter (14 L/h): W1's continuous flow. */
function leakingMeter(now: number): string {
  const lines: string[] = [];
  const q = 15 * 60_000;
  let index = 1000;
  for (let t = Math.floor(now / q) * q - 26 * 3_600_000; t <= now; t += q) {
    index += 3.5;
    lines.push(`water,tenant=saint-veilleur,site=gymnase,building=gymnase,role=water-main,dev_eui=0011223344556677,device=compteur-test volume_index_l=${index} ${t}`);
  }
  return lines.join('\n');
}

beforeAll(async () => {
  stack = await startStack();
  hook = await startWebhookReceiver(SECRET);
  const registry = townRegistry();
  registry.apiKeys = [{ id: operator.id, name: 'astreinte', role: 'operator', tenants: ['saint-veilleur'], hash: operator.hash }];
  registry.notifications = { channels: { astreinte: { type: 'webhook', url: hook.url, secret: SECRET } }, routes: [{ channels: ['astreinte'] }] } as never;
  const configFile = join(stack.dir, 'alert-sink.yaml');
  writeFileSync(configFile, stringify(registry));
  mkdirSync(join(stack.dir, 'service'), { recursive: true });
  // The windowed rule's data is in place before the service starts: its first round (30 s after start) finds it.
  const w = await fetch(`${stack.influx.url}/write?db=${stack.db}&precision=ms`, { method: 'POST', body: leakingMeter(Date.now()) });
  expect(w.status).toBe(204);
  watcher = await mqtt.connectAsync(stack.mqtt.url);
  watcher.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString()) as { event: string; alert: { ruleId: string; id: string } };
    published.push({ topic, event: body.event, rule: body.alert.ruleId, id: body.alert.id });
  });
  await watcher.subscribeAsync('veilleur/alerts/#', { qos: 1 });
  const cfg = loadConfig({
    MQTT_URL: stack.mqtt.url,
    MQTT_CLIENT_ID: 'veilleur-sink-it',
    INFLUX_URL: stack.influx.url,
    INFLUX_DB: stack.db,
    HTTP_PORT: '0',
    DATA_DIR: join(stack.dir, 'service'),
    VEILLEUR_CONFIG: configFile,
    ALERT_EVAL_MINUTES: '1',
  });
  service = createService(cfg, pino({ level: 'warn' }, pino.destination({ dest: join(stack.dir, 'alert-sink.log'), append: true, sync: true })));
  await service.start();
  // Subscribed to the network server's topics before the first uplink is sent.
  await waitFor(async () => (await fetch(`${service.address()}/readyz`)).status === 200, 20_000, 'service ready');
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await watcher?.endAsync();
  await hook?.close();
  await stack?.close();
});

const stored = () => queryRows(stack.influx, stack.db, 'SELECT * FROM alert_event');
const key = (rule: string, event: string) => `${rule} ${event}`;
const count = (xs: string[], k: string) => xs.filter((x) => x === k).length;

describe('the alert sink', () => {
  it('stores, publishes and notifies once each event of a stream rule, a windowed rule and an API action', async () => {
    // Stream: a wet leak sensor.
    const sensor = TOWN.find((d) => d.name === 'fuite-chaufferie-mairie')!;
    const frame = frameBuilders[sensor.decoder]!.build({ leak: true, temperatureC: 18, humidityPct: 50, batteryPct: 90 }, new Date());
    const m = chirpstackV4Up(sensor, 1, frame, new Date(), { rssi: -80, snr: 7, spreadingFactor: 8, gateways: 1 });
    await watcher.publishAsync(m.topic, m.payload, { qos: 1 });
    await waitFor(async () => published.some((p) => p.rule === 'W7' && p.event === 'opened'), 10_000, 'W7 opened on MQTT');

    // API: the operator acknowledges it.
    const w7 = published.find((p) => p.rule === 'W7')!;
    const ack = await fetch(`${service.address()}/api/v1/alerts/${w7.id}/acknowledge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ comment: 'plombier prévenu' }),
    });
    expect(ack.status).toBe(200);

    // Windowed: W1 in the scheduler's first round.
    await waitFor(async () => published.some((p) => p.rule === 'W1' && p.event === 'opened'), 60_000, 'W1 opened on MQTT');

    const expected = [key('W7', 'opened'), key('W7', 'acknowledged'), key('W1', 'opened')];
    const storedKeys = async () => (await stored()).map((r) => key(String(r.rule), String(r.event)));
    await waitFor(async () => {
      const ks = await storedKeys();
      return expected.every((k) => ks.includes(k));
    }, 10_000, 'the three events stored');
    await waitFor(async () => expected.every((k) => hook.requests.some((r) => key(String((r.body.alert as { ruleId: string }).ruleId), String(r.body.event)) === k)), 10_000, 'the three events notified');

    const mqttKeys = published.map((p) => key(p.rule, p.event));
    const hookKeys = hook.requests.map((r) => key(String((r.body.alert as { ruleId: string }).ruleId), String(r.body.event)));
    const storedKeysNow = await storedKeys();
    for (const k of expected) {
      expect(count(storedKeysNow, k), `${k} stored`).toBe(1);
      expect(count(mqttKeys, k), `${k} on MQTT`).toBe(1);
      expect(count(hookKeys, k), `${k} notified`).toBe(1);
    }
    expect(published.find((p) => p.rule === 'W1')!.topic).toBe('veilleur/alerts/saint-veilleur/W1');
    expect(hook.requests.every((r) => r.verified)).toBe(true);
  }, 90_000);
});
