import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLnsMessage } from '../../services/lns/parse.ts';
import type { ParseOutcome, StatusEvent, Uplink } from '../../services/lns/uplink.ts';

const NOW = new Date('2026-01-01T00:00:00Z');

function fixture(name: string): { topic: string; message: Buffer } {
  const f = JSON.parse(readFileSync(new URL(`../fixtures/lns/${name}`, import.meta.url), 'utf8')) as { topic: string; message: unknown };
  return { topic: f.topic, message: Buffer.from(JSON.stringify(f.message)) };
}

function parse(name: string): ParseOutcome {
  const f = fixture(name);
  return parseLnsMessage(f.topic, f.message, NOW);
}

function uplink(name: string): Uplink {
  const out = parse(name);
  if (out.kind !== 'uplink') throw new Error(`expected an uplink, got ${JSON.stringify(out)}`);
  return out;
}

describe('ChirpStack v4', () => {
  it('normalizes the documented up event, with fCnt omitted meaning 0', () => {
    const u = uplink('chirpstack-v4-up-docs.json');
    expect(u).toMatchObject({
      lns: 'chirpstack-v4',
      lnsTenant: 'ChirpStack',
      applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97',
      applicationName: 'Test application',
      devEui: '0101010101010101',
      deviceName: 'Test device',
      deviceProfile: 'Test device-profile',
      tags: { key: 'value' },
      fPort: 1,
      fCnt: 0,
      confirmed: false,
      messageId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
      radio: { gateways: 1, rssi: -36, snr: 10.5, spreadingFactor: 11, bandwidthHz: 125000, frequencyHz: 867100000, dataRate: 1 },
    });
    expect(u.payload).toEqual(Buffer.from([0xaa]));
    expect(u.receivedAt.toISOString()).toBe('2022-07-18T09:33:28.823Z');
    expect(u.lnsObject).toBeUndefined();
  });

  it('takes the best RSSI/SNR over gateways, lower-cases the DevEUI and keeps the codec object', () => {
    const u = uplink('chirpstack-v4-up-object-multigw.json');
    expect(u.devEui).toBe('24e124136d490519');
    expect(u.fCnt).toBe(4213);
    expect(u.confirmed).toBe(true);
    expect(u.radio).toMatchObject({ gateways: 3, rssi: -97, snr: 4.25, spreadingFactor: 7 });
    expect(u.lnsObject).toMatchObject({ battery: 100, temperature: 27.2 });
    expect(u.lnsTenant).toBe('Commune de Lézignan');
    expect(u.tags).toEqual({ site: 'ecole-jaures', batiment: 'A' });
  });

  it('reads the status event (battery and margin from DevStatusAns)', () => {
    const s = parse('chirpstack-v4-status.json') as StatusEvent;
    expect(s.kind).toBe('status');
    expect(s).toMatchObject({ devEui: '0101010101010101', batteryLevel: 75.6, marginDb: 6, externalPowerSource: false });
  });

  it('reads the join event', () => {
    expect(parse('chirpstack-v4-join.json')).toMatchObject({ kind: 'join', devEui: '0101010101010101', devAddr: '00189440' });
  });

  it('ignores log and txack events instead of calling them bad input', () => {
    const f = fixture('chirpstack-v4-join.json');
    expect(parseLnsMessage(f.topic.replace(/join$/, 'log'), f.message, NOW).kind).toBe('ignored');
  });

  it('recognises a protobuf-encoded event and says how to switch to JSON', () => {
    const out = parseLnsMessage('application/x/device/0101010101010101/event/up', Buffer.from([0x0a, 0x24, 0x33, 0x61]), NOW);
    expect(out).toMatchObject({ kind: 'rejected', reason: 'protobuf_payload' });
    expect((out as { detail: string }).detail).toContain('json=true');
  });

  it('rejects bad base64 naming the device and the field', () => {
    const f = JSON.parse(fixture('chirpstack-v4-up-docs.json').message.toString()) as Record<string, unknown>;
    f.data = 'not base64!';
    const out = parseLnsMessage('application/a/device/0101010101010101/event/up', Buffer.from(JSON.stringify(f)), NOW);
    expect(out).toMatchObject({ kind: 'rejected', reason: 'bad_base64', devEui: '0101010101010101' });
    expect((out as { detail: string }).detail).toContain("'data'");
  });

  it('rejects a malformed DevEUI with the path and what was expected', () => {
    const f = JSON.parse(fixture('chirpstack-v4-up-docs.json').message.toString()) as { deviceInfo: { devEui: string } };
    f.deviceInfo.devEui = 'xyz';
    const out = parseLnsMessage('application/a/device/xyz/event/up', Buffer.from(JSON.stringify(f)), NOW);
    expect(out).toMatchObject({ kind: 'rejected', reason: 'invalid_envelope' });
    expect((out as { detail: string }).detail).toMatch(/deviceInfo\.devEui: expected a DevEUI of 16 hexadecimal characters/);
  });
});

describe('ChirpStack v3', () => {
  it('normalizes the json marshaler: base64 DevEUI, objectJSON, bandwidth in kHz, gateway time', () => {
    const u = uplink('chirpstack-v3-up-json.json');
    expect(u).toMatchObject({
      lns: 'chirpstack-v3',
      devEui: '0102030405060708',
      applicationId: '123',
      applicationName: 'temperature-sensor',
      deviceName: 'garden-sensor',
      fCnt: 10,
      fPort: 5,
      radio: { gateways: 1, rssi: -48, snr: 9, spreadingFactor: 11, bandwidthHz: 125000, frequencyHz: 868100000 },
      lnsObject: { temperatureSensor: { '1': 25 }, humiditySensor: { '1': 32 } },
    });
    expect(u.receivedAt.toISOString()).toBe('2019-11-08T13:59:25.048Z');
  });

  it('normalizes the legacy json_v3 marshaler: hex DevEUI, nested object, publishedAt as time', () => {
    const u = uplink('chirpstack-v3-up-json_v3.json');
    expect(u).toMatchObject({ devEui: 'a84041000181c4b5', fCnt: 1544, fPort: 2, lnsObject: { BatV: 3.052 }, tags: { site: 'mairie' } });
    expect(u.receivedAt.toISOString()).toBe('2021-06-02T08:14:03.512Z');
  });
});

describe('The Things Stack v3', () => {
  it('normalizes the documented uplink: tenant from the topic, string frequency, consumed airtime', () => {
    const u = uplink('tts-v3-up-docs.json');
    expect(u).toMatchObject({
      lns: 'tts-v3',
      lnsTenant: 'ttn',
      applicationId: 'app1',
      devEui: '0004a30b001c0530',
      deviceName: 'dev1',
      deviceProfile: 'the-things-products/the-things-uno',
      fPort: 15,
      fCnt: 7577,
      messageId: 'as:up:01E0WZGT6Y7657CPFPE5WEYDSQ',
      radio: { gateways: 1, rssi: -35, snr: 5.2, spreadingFactor: 7, bandwidthHz: 125000, frequencyHz: 868500000, airtimeMs: 56.576 },
      lnsObject: { temperature: 22.5, battery: 3.1, status: 'ok' },
    });
    expect(u.payload.toString()).toBe('Temperature = 0.0');
    expect(u.receivedAt.toISOString()).toBe('2020-02-12T15:15:45.802Z');
  });

  it('treats omitted f_cnt and confirmed as 0 and false; no @tenant on the open-source edition', () => {
    const u = uplink('tts-v3-up-omitted.json');
    expect(u).toMatchObject({ fCnt: 0, fPort: 6, confirmed: false, lnsTenant: '', radio: { spreadingFactor: 12, rssi: -117 } });
    expect(u.lnsObject).toBeUndefined();
  });
});

describe('bad input', () => {
  it.each([
    ['invalid JSON', 'application/a/device/0101010101010101/event/up', '{"deviceInfo":', 'invalid_json'],
    ['unknown topic', 'sensors/room1', '{}', 'unknown_topic'],
    ['ChirpStack topic, unknown shape', 'application/a/device/0101010101010101/event/up', '{"hello":1}', 'unknown_envelope'],
    ['TTS topic, unknown shape', 'v3/app@t/devices/d/up', '{"hello":1}', 'unknown_envelope'],
    ['empty message', 'v3/app@t/devices/d/up', '', 'invalid_json'],
  ])('%s is rejected with a reason', (_name, topic, body, reason) => {
    const out = parseLnsMessage(topic, Buffer.from(body), NOW);
    expect(out).toMatchObject({ kind: 'rejected', reason });
    expect((out as { detail: string }).detail.length).toBeGreaterThan(10);
  });
});
