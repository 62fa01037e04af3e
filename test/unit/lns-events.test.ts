/**
 * Every network-server event kind, from the fixtures in test/fixtures/lns/events (each cites its source): what the
 * parser makes of it (stored as which event, ignored under which label, rejected), the time it keeps and where that
 * time came from. test/integration/lns-events.test.ts publishes the same fixtures through Mosquitto into InfluxDB.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayLog } from '../../services/lns/gateways.ts';
import { parseLnsMessage, withoutNulls } from '../../services/lns/parse.ts';
import type { ParseOutcome, Uplink } from '../../services/lns/uplink.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const DIR = new URL('../fixtures/lns/events/', import.meta.url);

interface Fixture {
  source: string;
  topic: string;
  message: unknown;
  expect: { kind: string; event?: string; receivedAt?: string; readings?: boolean; payloadBytes?: number; [k: string]: unknown };
}

const fixtures = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((name) => ({ name, ...(JSON.parse(readFileSync(new URL(name, DIR), 'utf8')) as Fixture) }));

const parse = (f: { topic: string; message: unknown }, now = NOW): ParseOutcome => parseLnsMessage(f.topic, Buffer.from(JSON.stringify(f.message)), now);
const fixture = (name: string) => fixtures.find((f) => f.name === name)!;

describe('network-server event fixtures', () => {
  it('cite their source', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
    for (const f of fixtures) expect(f.source.length, f.name).toBeGreaterThan(40);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s is recognised as documented', (_name, f) => {
    const out = parse(f);
    const { readings: _r, payloadBytes, receivedAt, ...fields } = f.expect;
    expect(out).toMatchObject(fields);
    if (receivedAt) expect((out as Uplink).receivedAt.toISOString()).toBe(receivedAt);
    if (payloadBytes !== undefined) expect((out as Uplink).payload.length).toBe(payloadBytes);
    // Nothing a network server publishes is filed as bad input.
    expect(out.kind).not.toBe('rejected');
  });
});

describe('ChirpStack v3 json marshaler nulls (item 1)', () => {
  it('keeps an uplink whose only gateway has time: null, with publishedAt as its time', () => {
    const u = parse(fixture('chirpstack-v3-up-json-time-null.json')) as Uplink;
    expect(u).toMatchObject({ kind: 'uplink', fCnt: 118, fPort: 85, timeSource: 'network_server', radio: { gateways: 1, rssi: -97, snr: 7.5, spreadingFactor: 9 } });
    expect(u.payload.toString('hex')).toBe('03671001046871050000');
    expect(u.lnsObject).toBeUndefined(); // objectJSON "" is no object
    expect(u.gatewayInfo).toEqual([{ gatewayId: 'b827ebfffe6a1c01', rssi: -97, snr: 7.5 }]);
  });

  it("skips Go's zero time and takes the GPS gateway's time", () => {
    const u = parse(fixture('chirpstack-v3-up-json-zero-time.json')) as Uplink;
    expect(u.timeSource).toBe('gateway');
    expect(u.receivedAt.toISOString()).toBe('2026-03-02T07:16:40.120Z');
    expect(u.gatewayInfo?.[1]).toMatchObject({ gatewayId: 'b827ebfffe6a1c02', latitude: 43.1847, longitude: 2.7586, altitudeM: 41 });
  });

  it('falls back to reception when neither gateways nor publishedAt give a time', () => {
    const f = fixture('chirpstack-v3-up-json-time-null.json');
    const m = structuredClone(f.message) as Record<string, unknown>;
    m.publishedAt = null;
    const u = parse({ topic: f.topic, message: m }) as Uplink;
    expect(u).toMatchObject({ kind: 'uplink', timeSource: 'reception' });
    expect(u.receivedAt).toEqual(NOW);
  });

  it('accepts null in every optional field the json marshaler prints, including identity fields it can leave unset', () => {
    const f = fixture('chirpstack-v3-up-json-time-null.json');
    const m = structuredClone(f.message) as Record<string, unknown>;
    for (const k of ['applicationName', 'deviceName', 'tags', 'txInfo', 'objectJSON', 'devAddr', 'dr', 'fCnt', 'confirmedUplink', 'rxInfo']) m[k] = null;
    const u = parse({ topic: f.topic, message: m }) as Uplink;
    expect(u).toMatchObject({ kind: 'uplink', devEui: '24e124136d490701', fCnt: 0, radio: { gateways: 0 }, timeSource: 'network_server' });
  });

  it('still rejects a null required field, naming it', () => {
    const f = fixture('chirpstack-v4-up-nulls.json');
    const m = structuredClone(f.message) as Record<string, unknown>;
    m.deviceInfo = null;
    // No deviceInfo: the shape is no longer ChirpStack v4's.
    expect(parse({ topic: f.topic, message: m })).toMatchObject({ kind: 'rejected', reason: 'unknown_envelope' });
    const m2 = structuredClone(f.message) as { deviceInfo: Record<string, unknown> };
    m2.deviceInfo.devEui = null;
    const out = parse({ topic: f.topic, message: m2 });
    expect(out).toMatchObject({ kind: 'rejected', reason: 'invalid_envelope' });
    expect((out as { detail: string }).detail).toContain('deviceInfo.devEui');
  });

  it('withoutNulls drops null object keys at any depth and keeps arrays, without copying a message that has none', () => {
    const input = { a: null, b: { c: null, d: 1 }, e: [{ f: null }, 2, null], g: { h: [1] } };
    expect(withoutNulls(input)).toEqual({ b: { d: 1 }, e: [{}, 2, null], g: { h: [1] } });
    expect(input.b).toEqual({ c: null, d: 1 }); // the input is left alone
    const clean = { b: { d: 1 }, e: [{ f: 2 }] };
    expect(withoutNulls(clean)).toBe(clean);
    expect((withoutNulls({ x: null, g: clean.e }) as { g: unknown }).g).toBe(clean.e);
  });
});

describe('time fallback for TTS and joins (item 1)', () => {
  it('TTS uplink without received_at: gateway time, then reception', () => {
    expect(parse(fixture('tts-v3-up-no-received-at.json'))).toMatchObject({ timeSource: 'gateway' });
    const u = parse(fixture('tts-v3-up-no-time.json')) as Uplink;
    expect(u.timeSource).toBe('reception');
    expect(u.receivedAt).toEqual(NOW);
  });

  it('TTS join: the network server time of join_accept first', () => {
    const j = parse(fixture('tts-v3-join-docs.json'));
    expect(j).toMatchObject({ kind: 'join', timeSource: 'network_server', topicApplication: 'app1', topicTenant: 'ttn' });
  });

  it('ChirpStack v4 join without time: reception', () => {
    const f = fixture('chirpstack-v4-location.json');
    const m = structuredClone(f.message) as Record<string, unknown>;
    delete m.time;
    const out = parse({ topic: f.topic.replace(/location$/, 'join'), message: m });
    expect(out).toMatchObject({ kind: 'join', timeSource: 'reception' });
  });
});

describe('every event kind (item 2)', () => {
  it('names unknown event names "other" so the metric label stays bounded', () => {
    const tts = fixture('tts-v3-down-ack.json');
    expect(parse({ topic: tts.topic.replace('down/ack', 'up/something/new'), message: tts.message })).toMatchObject({ kind: 'ignored', lns: 'tts-v3', event: 'other' });
    const cs = fixture('chirpstack-v4-ack.json');
    expect(parse({ topic: cs.topic.replace(/ack$/, 'futurething'), message: cs.message })).toMatchObject({ kind: 'ignored', lns: 'chirpstack-v4', event: 'other' });
  });

  it('keeps the topic identity for tenant placement (ChirpStack application, TTS app@tenant)', () => {
    expect(parse(fixture('chirpstack-v4-up-nulls.json'))).toMatchObject({ topicApplication: '23f92f6c-4f8a-4c2a-b1a0-9a5c1e0cb5e1' });
    expect(parse(fixture('chirpstack-v3-up-json-time-null.json'))).toMatchObject({ topicApplication: '7' });
    expect(parse(fixture('tts-v3-up-no-received-at.json'))).toMatchObject({ topicApplication: 'eau-potable', topicTenant: 'agglo-sud' });
  });

  it('rejects a location event without a position, and still rejects topics no network server uses', () => {
    const f = fixture('chirpstack-v4-location.json');
    const m = structuredClone(f.message) as { location: Record<string, unknown> };
    m.location = { latitude: 0, longitude: 0 };
    expect(parse({ topic: f.topic, message: m })).toMatchObject({ kind: 'rejected', reason: 'invalid_envelope' });
    expect(parse({ topic: 'sensors/room1', message: { DevEUI: 'x' } })).toMatchObject({ kind: 'rejected', reason: 'unknown_topic' });
  });

  it('gateway points: first sighting, a move, then at most one an hour', () => {
    const log = new GatewayLog();
    const g = { gatewayId: 'aa', latitude: 1, longitude: 2 };
    expect(log.due('t', g, 0)).toBe(true);
    expect(log.due('t', g, 60_000)).toBe(false);
    expect(log.due('u', g, 60_000)).toBe(true); // another commune's uplink: its own point
    expect(log.due('t', { ...g, latitude: 1.5 }, 120_000)).toBe(true);
    expect(log.due('t', { ...g, latitude: 1.5 }, 3_720_000)).toBe(true);
  });
});

describe('ThingPark and Live Objects (item 3)', () => {
  it('ThingPark: numbers as strings, MHz, tags, LRR gateways', () => {
    const u = parse(fixture('thingpark-uplink-docs-2018-strings.json')) as Uplink;
    expect(u).toMatchObject({ lns: 'thingpark', lnsTenant: '1100000077', deviceName: 'My Demo Device', deviceProfile: 'ADRF/DEMO', confirmed: true });
    expect(u.payload.toString('hex')).toBe('9e1c4852512000220020e3831071');
    expect(u.gatewayInfo).toEqual([{ gatewayId: '004a18e3', rssi: -80, snr: 7, latitude: 45.851032, longitude: 1.26623 }]);
    const v = parse(fixture('thingpark-uplink-docs-2024.json')) as Uplink;
    expect(v).toMatchObject({ deviceProfile: 'adeunis/field-test', tags: { site: 'Paris', key: 'Value' }, radio: { gateways: 1, rssi: -84, snr: 9.75, frequencyHz: 868500000 } });
    expect(v.lnsObject).toMatchObject({ temperature: 24, batteryVoltage: 3017 });
  });

  it('ThingPark: a bad DevEUI or payload_hex is an invalid envelope naming the field', () => {
    const f = fixture('thingpark-uplink-docs-2024.json');
    const m = structuredClone(f.message) as { DevEUI_uplink: Record<string, unknown> };
    m.DevEUI_uplink.payload_hex = 'zz';
    const out = parse({ topic: f.topic, message: m });
    expect(out).toMatchObject({ kind: 'rejected', reason: 'invalid_envelope', lns: 'thingpark' });
    expect((out as { detail: string }).detail).toContain('payload_hex');
  });

  it('ThingPark devstatusans: 0 is external power, 255 not measured', () => {
    const f = fixture('thingpark-notification-devstatusans.json');
    const at = (var1: string) => {
      const m = structuredClone(f.message) as { DevEUI_notification: Record<string, unknown> };
      m.DevEUI_notification.Var1 = var1;
      return parse({ topic: f.topic, message: m });
    };
    expect(at('0')).toMatchObject({ kind: 'status', externalPowerSource: true, batteryLevelUnavailable: true });
    expect(at('255')).toMatchObject({ kind: 'status', externalPowerSource: false, batteryLevelUnavailable: true });
    expect(at('254')).toMatchObject({ batteryLevel: 100 });
  });

  it('Live Objects: DevEUI from the radio data, group path as the application, decoder output as the LNS object', () => {
    const u = parse(fixture('liveobjects-lora-em300-zld.json')) as Uplink;
    expect(u).toMatchObject({ lns: 'liveobjects', lnsTenant: '', applicationName: '/Saint-Veilleur', deviceProfile: 'milesight_em300_zld', tags: { site: 'ecole' } });
    expect(u.lnsObject).toEqual({ temperature: 27.2, humidity: 56.5, leakage_status: 'normal' });
    expect(u.topicApplication).toBeUndefined();
    const raw = parse(fixture('liveobjects-lora-capture.json')) as Uplink;
    expect(raw.payload.toString()).toBe('Salut !');
    expect(raw.lnsObject).toBeUndefined();
  });

  it('Live Objects: a LoRa message without a DevEUI is an invalid envelope; a message that is not Live Objects is unknown', () => {
    const f = fixture('liveobjects-lora-capture.json');
    const m = structuredClone(f.message) as { streamId: string; metadata: { source: string; network: { lora: Record<string, unknown> } } };
    delete m.metadata.network.lora.devEUI;
    m.streamId = 'urn:lo:nsid:lora:nope';
    m.metadata.source = 'urn:lo:nsid:lora:nope';
    expect(parse({ topic: f.topic, message: m })).toMatchObject({ kind: 'rejected', reason: 'invalid_envelope', lns: 'liveobjects' });
    expect(parse({ topic: f.topic, message: { hello: 1 } })).toMatchObject({ kind: 'rejected', reason: 'unknown_envelope' });
  });
});
