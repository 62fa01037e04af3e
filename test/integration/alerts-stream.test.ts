/**
 * Instant alerts in the stream, on real Mosquitto and InfluxDB: a leak sensor that reports water raises W7, published
 * on MQTT as a consequence of that uplink (its time, after it was sent; the latency is printed, not asserted: other
 * suites share the machine, and `npm run bench` measures) and stored in `alert_event`; reporting dry resolves it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import { TOWN, townRegistry } from '../../services/simulator/town.ts';
import { queryRows, ServiceProcess, startStack, waitFor, type Stack } from './support.ts';

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

describe('stream alerts', () => {
  it('publishes W7 on MQTT as the consequence of a wet leak-sensor uplink, stores it, and resolves it when dry', async () => {
    const sensor = TOWN.find((d) => d.name === 'fuite-chaufferie-mairie')!;
    const received: { topic: string; body: { event: string; at: string; alert: { ruleId: string; severity: string; message: { fr: string } } }; at: number }[] = [];
    const watcher = await mqtt.connectAsync(stack.mqtt.url);
    watcher.on('message', (topic, payload) => received.push({ topic, body: JSON.parse(payload.toString()), at: performance.now() }));
    await watcher.subscribeAsync('veilleur/alerts/#', { qos: 1 });
    const publisher = await mqtt.connectAsync(stack.mqtt.url);
    /** Publishes one uplink; returns when it was handed to the broker and the time the uplink carries. */
    const send = async (fCnt: number, leak: boolean) => {
      const time = new Date();
      const frame = frameBuilders[sensor.decoder]!.build({ leak, temperatureC: 18, humidityPct: 50, batteryPct: 90 }, time);
      const m = chirpstackV4Up(sensor, fCnt, frame, time, { rssi: -80, snr: 7, spreadingFactor: 8, gateways: 1 });
      const sentAt = performance.now();
      await publisher.publishAsync(m.topic, m.payload, { qos: 1 });
      return { sentAt, time };
    };

    const wet = await send(1, true);
    await waitFor(async () => received.length >= 1, 10_000, 'alert on MQTT');
    // For the log only: a wall-clock bound would fail whenever other suites load the machine.
    console.log(`[alerts] W7 published ${(received[0]!.at - wet.sentAt).toFixed(0)} ms after the uplink`);
    // Caused by that uplink: raised at its time, and received after it was sent.
    expect(received[0]!.body.at).toBe(wet.time.toISOString());
    expect(received[0]!.at).toBeGreaterThan(wet.sentAt);
    expect(received[0]!.topic).toBe('veilleur/alerts/saint-veilleur/W7');
    expect(received[0]!.body).toMatchObject({ event: 'opened', alert: { ruleId: 'W7', severity: 'critical' } });
    expect(received[0]!.body.alert.message.fr).toContain("Présence d'eau détectée par Détecteur de fuite – chaufferie (Mairie, chaufferie)");

    await send(2, true); // still wet: the same alert, no new notification
    const dry = await send(3, false);
    // Uplinks are processed in order: once the dry one resolved the alert, the wet one before it had its chance.
    await waitFor(async () => received.length >= 2, 10_000, 'resolution on MQTT');
    expect(received.map((r) => r.body.event)).toEqual(['opened', 'resolved']);
    expect(received[1]!.body.at).toBe(dry.time.toISOString());
    await waitFor(async () => (await queryRows(stack.influx, stack.db, 'SELECT * FROM alert_event')).length >= 2, 10_000, 'alert events stored');
    const events = await queryRows(stack.influx, stack.db, 'SELECT * FROM alert_event');
    expect(events.map((e) => e.event)).toEqual(['opened', 'resolved']);
    expect(events[0]).toMatchObject({ rule: 'W7', tenant: 'saint-veilleur', site: 'mairie', severity: 'critical', dev_eui: sensor.devEui, state: 'open' });
    expect(JSON.parse(String(events[0]!.details))).toMatchObject({ measured: { water_leak: 'wet' }, source: { text: { fr: expect.stringContaining('État de fuite transmis par le détecteur'), en: expect.stringContaining('Leak state reported') }, reference: expect.stringContaining('Netvox, R718WA User Manual') } });
    await watcher.endAsync();
    await publisher.endAsync();
  });

  it('keeps an open alert across a restart: the same alert resolves afterwards, none is opened twice', async () => {
    const sensor = TOWN.find((d) => d.name === 'fuite-salle-serveur')!;
    const publisher = await mqtt.connectAsync(stack.mqtt.url);
    const send = async (fCnt: number, leak: boolean) => {
      const frame = frameBuilders[sensor.decoder]!.build({ leak, batteryV: 3.6 }, new Date());
      const m = chirpstackV4Up(sensor, fCnt, frame, new Date(), { rssi: -80, snr: 7, spreadingFactor: 8, gateways: 1 });
      await publisher.publishAsync(m.topic, m.payload, { qos: 1 });
    };
    const eventsOf = () => queryRows(stack.influx, stack.db, `SELECT * FROM alert_event WHERE dev_eui = '${sensor.devEui}'`);
    await send(1, true);
    await waitFor(async () => (await eventsOf()).length === 1, 10_000, 'W7 opened');
    await service.stop();
    await service.start();
    await waitFor(async () => (await service.ready())?.ready === true, 20_000, 'service ready again');
    // The alert book is restored in the background: wait for the second start's log line.
    const restored = () => readFileSync(join(stack.dir, 'service.log'), 'utf8').split('open alerts restored').length - 1;
    await waitFor(async () => restored() >= 2, 10_000, 'open alerts restored after the restart');
    await send(2, true); // still wet after the restart: no second alert
    await send(3, false);
    await waitFor(async () => (await eventsOf()).length >= 2, 10_000, 'W7 resolved');
    const events = await eventsOf();
    expect(events.map((e) => e.event)).toEqual(['opened', 'resolved']);
    expect(events[1]!.alert_id).toBe(events[0]!.alert_id);
    await publisher.endAsync();
  });
});
