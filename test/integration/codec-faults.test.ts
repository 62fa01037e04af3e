/**
 * The codec path keeps the durability contract: uplinks decoded by a custom codec (asynchronously, in its worker)
 * are acknowledged only once their lines are in the spool. The service is killed with SIGKILL mid-stream and
 * restarted: every uplink is stored exactly once, decoded by its codec. Real Mosquitto and InfluxDB.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSchema } from '../../services/config/schema.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import type { SimUplink } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import type { SimDevice } from '../../services/simulator/town.ts';
import { countPoints, ROOT, ServiceProcess, startStack, storedUplinkKeys, waitFor, type Stack } from './support.ts';

let stack: Stack | undefined;
let service: ServiceProcess | undefined;
afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

const devices: SimDevice[] = Array.from({ length: 50 }, (_, i) => ({
  devEui: `22334455667${String(i).padStart(5, '0')}`, name: `compteur-${i}`, profile: 'ACME Water v1', lns: 'chirpstack-v4', lnsTenant: 'Commune test',
  application: 'eau', decoder: 'none', site: 'test', intervalS: 900, initial: {}, behaviour: () => () => undefined,
}));

function uplinks(n: number): SimUplink[] {
  const out: SimUplink[] = [];
  const t0 = Date.parse('2026-06-01T00:00:00Z');
  for (let k = 0; out.length < n; k++) {
    for (const d of devices) {
      if (out.length >= n) break;
      const t = new Date(t0 + k * 60_000);
      const m = chirpstackV4Up(d, k, { fPort: 7, bytes: Uint8Array.from([k & 255, (k >> 8) & 255, 0, 0, 0]) }, t, { rssi: -90, snr: 5, spreadingFactor: 9, gateways: 1 });
      out.push({ ...m, devEui: d.devEui, fCnt: k, time: t });
    }
  }
  return out;
}

describe('custom codecs and faults', () => {
  it('the service killed with SIGKILL while uplinks wait for their codec: every uplink stored exactly once', async () => {
    stack = await startStack({ persistence: true });
    const s = stack;
    service = new ServiceProcess(s, { LOG_LEVEL: 'warn' }, fileSchema.parse({
      codecs: [{
        name: 'acme-water',
        file: join(ROOT, 'test', 'fixtures', 'codecs', 'water-ts013.js'),
        profiles: ['ACME Water v1'],
        readings: [{ field: 'meter.index_l', quantity: 'metering.water.total' }],
      }],
    }));
    await service.start();
    const svc = service;
    const sent = uplinks(2000);
    let acked = 0;
    let fault: Promise<void> | undefined;
    await publishUplinks(sent, {
      url: s.mqtt.url,
      rate: 400,
      maxSeconds: 120,
      onAck: () => {
        if (++acked === 700) {
          fault = (async () => {
            expect(await svc.kill('SIGKILL')).toBe(null);
            // Down until the broker has taken 200 more uplinks for it (they wait in its session), not for a fixed time.
            await waitFor(async () => acked >= 900, 30_000, '200 uplinks published while the service is down');
            await svc.start();
          })();
        }
      },
    });
    await fault;
    let keys: string[] = [];
    await waitFor(
      async () => {
        keys = await storedUplinkKeys(s.influx, s.db);
        return keys.length >= sent.length;
      },
      90_000,
      `${sent.length} uplinks in InfluxDB`,
    ).catch(() => undefined);
    const stored = new Set(keys);
    const lost = sent.filter((u) => !stored.has(`${u.devEui}:${u.fCnt}`)).length;
    console.log(`[codec fault: SIGKILL] published ${sent.length}, stored ${keys.length}, lost ${lost}, duplicated ${keys.length - stored.size}`);
    expect(lost).toBe(0);
    expect(keys.length).toBe(sent.length);
    // Decoded by the codec, not kept raw: one water reading per uplink.
    expect(await countPoints(s.influx, s.db, 'SELECT count(volume_index_l) FROM water')).toBe(sent.length);
  }, 180_000);
});
