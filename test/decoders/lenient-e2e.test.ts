/**
 * Lenient decoding end to end (issue 12): ChirpStack v4 uplinks through a real Mosquitto into a real InfluxDB 1.x.
 * A frame with an unknown trailing record stores its readings and, on its `uplink` point, the warning and the bytes
 * left; a self-identifying frame on a port the installer changed is stored with a warning; the vendor's FM432e T1
 * example (header 0x69, once rejected) stores its index curve; an unparseable frame is kept raw in
 * `uplink_undecoded`. The service's /metrics counts the warnings by kind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSchema } from '../../services/config/schema.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import type { SimUplink } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import type { SimDevice } from '../../services/simulator/town.ts';
import { queryRows, ServiceProcess, startStack, waitFor, type Stack } from '../integration/support.ts';

let stack: Stack;
let service: ServiceProcess;

beforeAll(async () => {
  stack = await startStack();
  service = new ServiceProcess(
    stack,
    {},
    fileSchema.parse({
      profiles: [
        { profile: 'Milesight EM300-ZLD', decoder: 'milesight/em300-zld' },
        { profile: 'YOBIIQ EM2101', decoder: 'yobiiq/em2101' },
        { profile: 'Fludia FM432e', decoder: 'fludia/fm432e' },
      ],
    }),
  );
  await service.start();
});
afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

function device(name: string, devEui: string, profile: string): SimDevice {
  return {
    devEui, name, profile, lns: 'chirpstack-v4', lnsTenant: 'Commune test', application: 'batiments', decoder: 'none', site: 'test',
    intervalS: 900, initial: {}, behaviour: () => () => undefined,
  };
}

function uplink(d: SimDevice, fCnt: number, fPort: number, hex: string, t: Date): SimUplink {
  const m = chirpstackV4Up(d, fCnt, { fPort, bytes: Uint8Array.from(Buffer.from(hex, 'hex')) }, t, { rssi: -90, snr: 5, spreadingFactor: 9, gateways: 1 });
  return { ...m, devEui: d.devEui, fCnt, time: t };
}

const rows = (q: string) => queryRows(stack.influx, stack.db, q);

async function metric(name: string, kind: string): Promise<number> {
  const text = await (await fetch(`${await service.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{kind="${kind}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('lenient decoding through the service', () => {
  it('stores what a frame holds with its warnings, keeps an unparseable frame raw, and counts the warnings', async () => {
    const zld = device('fuite-chaufferie', 'a1b2c3d4e5f60001', 'Milesight EM300-ZLD');
    const meter = device('compteur-ecole', 'a1b2c3d4e5f60002', 'YOBIIQ EM2101');
    const optical = device('lecteur-mairie', 'a1b2c3d4e5f60003', 'Fludia FM432e');
    const t0 = Date.parse('2026-04-01T08:00:00Z');
    const at = (min: number) => new Date(t0 + min * 60_000);
    await publishUplinks(
      [
        // EM300-ZLD vendor layout + a record no document describes (fe 01 02).
        uplink(zld, 1, 85, '03671001046871050000fe0102', at(0)),
        // The same leak record on fPort 3: the installer changed the application port.
        uplink(zld, 2, 3, '050001', at(1)),
        // Nothing parseable: kept raw for a later redecode.
        uplink(zld, 3, 85, 'fe0001', at(2)),
        // YOBIIQ's own device-information example, on fPort 8 as in its TTN example.
        uplink(meter, 1, 8, 'ff090100ff0a0100ff1624016400ff0f00ff0b00', at(3)),
        // Fludia's README T1 example (FM432e _ap firmware).
        uplink(optical, 1, 129, '69010000ffff000100020003', at(4)),
      ],
      { url: stack.mqtt.url, inflight: 1 },
    );
    await waitFor(async () => (await rows('SELECT * FROM uplink')).length >= 5, 20_000, 'five uplink points');
    await waitFor(async () => (await rows('SELECT * FROM uplink_undecoded')).length >= 1, 20_000, 'the unparseable frame kept raw');

    const partial = await rows(`SELECT decode_warnings, undecoded_bytes, decoded_by FROM uplink WHERE dev_eui = '${zld.devEui}' AND f_cnt = 1`);
    expect(partial).toHaveLength(1);
    expect(partial[0]).toMatchObject({ decoded_by: 'decoder:milesight/em300-zld', undecoded_bytes: 3 });
    expect(partial[0]!.decode_warnings).toContain('byte 10: unknown channel 0xfe type 0x01; 3 byte(s) from there not decoded (fe0102)');
    const air = await rows(`SELECT temperature_c, humidity_pct FROM air WHERE dev_eui = '${zld.devEui}'`);
    expect(air).toHaveLength(1);
    expect(air[0]).toMatchObject({ temperature_c: 27.2, humidity_pct: 56.5 });
    const leak = await rows(`SELECT leak FROM water WHERE dev_eui = '${zld.devEui}'`);
    expect(leak.map((r) => r.leak)).toEqual([false, true]);

    const otherPort = await rows(`SELECT decode_warnings, undecoded_bytes FROM uplink WHERE dev_eui = '${zld.devEui}' AND f_cnt = 2`);
    expect(otherPort[0]!.decode_warnings).toBe(
      "EM300-ZLD: fPort 3 is not the model's documented uplink port (85); decoded because the frame identifies itself",
    );
    expect(otherPort[0]!.undecoded_bytes ?? null).toBeNull();

    const raw = await rows('SELECT detail, reason, f_port FROM uplink_undecoded');
    expect(raw).toHaveLength(1);
    expect(raw[0]).toMatchObject({ reason: 'decoder_error', f_port: 85 });
    expect(raw[0]!.detail).toContain('nothing could be decoded');

    const info = await rows(`SELECT decode_warnings, decoded_by FROM uplink WHERE dev_eui = '${meter.devEui}'`);
    expect(info[0]).toMatchObject({ decoded_by: 'decoder:yobiiq/em2101' });
    expect(info[0]!.decode_warnings).toContain('channel 0xff records (device information) on fPort 8');

    const energy = await rows(`SELECT active_energy_index_wh FROM electricity WHERE dev_eui = '${optical.devEui}' AND active_energy_index_wh > 0`);
    expect(energy.map((r) => r.active_energy_index_wh)).toEqual([65529, 65530, 65532, 65535]);
    expect(energy.map((r) => r.time)).toEqual([1, 2, 3, 4].map((min) => at(min).getTime()));

    expect(await metric('veilleur_uplinks_decode_warnings_total', 'partial')).toBe(1);
    expect(await metric('veilleur_uplinks_decode_warnings_total', 'fport')).toBe(1);
    expect(await metric('veilleur_uplinks_decode_warnings_total', 'other')).toBe(1);
  });
});
