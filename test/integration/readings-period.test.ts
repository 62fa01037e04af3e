/**
 * The readings endpoint's periods and the device's quantity list, on a real InfluxDB 1.x: a period that starts at
 * 20:00 begins with the 20:00 hour (InfluxDB extends differences by one interval by itself, on top of the bucket
 * Veilleur reads before `from` for indexes), and GET /devices/{devEui} lists every quantity a device reported, not
 * only those of its latest point.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../services/api/deps.ts';
import { readSeries, type SeriesQuery } from '../../services/api/readings.ts';
import { deviceQuantities } from '../../services/api/routes/devices.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { startStack, type Stack } from './support.ts';

let stack: Stack;
let deps: ApiDeps;
const HOUR = 3_600_000;
// A UTC midnight ten days ago: inside the 90 days the quantity list covers.
const DAY0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 10 * 86_400_000;
const at = (h: number) => new Date(DAY0 + h * HOUR).toISOString();
const METER = '0000000000000001';
const ROOM = '0000000000000002';

beforeAll(async () => {
  stack = await startStack();
  const tags = (dev: string, name: string) => `tenant=t,site=s,dev_eui=${dev},device=${name}`;
  const lines: string[] = [];
  // A water meter every 15 minutes from 16:00 to 23:45 UTC, 10 L per quarter: 40 L per hour.
  for (let i = 0; i < 32; i++) lines.push(`water,${tags(METER, 'compteur')} volume_index_l=${1000 + 10 * i} ${(DAY0 + 16 * HOUR + i * 15 * 60_000) * 1e6}`);
  // A room sensor whose uplinks alternate: temperature and humidity, then temperature alone (the latest one).
  for (let i = 0; i < 8; i++) {
    const t = (DAY0 + 16 * HOUR + i * 30 * 60_000) * 1e6;
    lines.push(`air,${tags(ROOM, 'salle')} temperature_c=${19 + i / 10}${i % 2 === 0 ? `,humidity_pct=${45 + i}` : ''} ${t}`);
  }
  const res = await fetch(`${stack.influx.url}/write?db=${stack.db}`, { method: 'POST', body: lines.join('\n') });
  expect(res.status).toBe(204);
  deps = { influx: createInfluxTarget({ api: 'v1', url: stack.influx.url, db: stack.db, timeoutMs: 10_000 }) } as unknown as ApiDeps;
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

const query = (o: Partial<SeriesQuery>): SeriesQuery => ({ tenants: ['t'], devEui: METER, quantity: 'metering.water.total', aggregation: 'hourly', timeZone: 'UTC', limit: 1000, from: new Date(DAY0 + 20 * HOUR), to: new Date(DAY0 + 23 * HOUR), ...o });

describe('readings over a period', () => {
  it('gives an index period from 20:00 its hours from 20:00, each the water of that hour', async () => {
    const [s] = await readSeries(deps, query({}));
    expect(s!.points.map((p) => p.time)).toEqual([at(20), at(21), at(22)]);
    // Each hour's consumption is its last index minus the previous hour's last index: 4 quarters of 10 L.
    for (const p of s!.points) expect(p.consumption).toBe(40);
  });

  it('starts with the first period that begins within the range, for indexes and gauges, hours and days', async () => {
    const [index] = await readSeries(deps, query({ from: new Date(DAY0 + 20.5 * HOUR) }));
    expect(index!.points[0]?.time).toBe(at(21));
    const [gauge] = await readSeries(deps, query({ devEui: ROOM, quantity: 'air.temperature', from: new Date(DAY0 + 16.5 * HOUR), to: new Date(DAY0 + 20 * HOUR) }));
    expect(gauge!.points.map((p) => p.time)).toEqual([at(17), at(18), at(19)]);
    // A day from 19:00 UTC (20:00 in Paris in winter): its local day started before, so it is not returned.
    const days = await readSeries(deps, query({ aggregation: 'daily', timeZone: 'Europe/Paris', from: new Date(DAY0 + 19 * HOUR), to: new Date(DAY0 + 24 * HOUR) }));
    for (const p of days.flatMap((x) => x.points)) expect(Date.parse(p.time)).toBeGreaterThanOrEqual(DAY0 + 19 * HOUR);
    // Raw points are never moved or dropped: exactly those within [from, to).
    const [raw] = await readSeries(deps, query({ aggregation: 'raw' }));
    expect(raw!.points).toHaveLength(12);
    expect(raw!.points[0]).toEqual({ time: at(20), value: 1160 });
  });
});

describe('the quantities of a device', () => {
  it('lists every quantity reported, with unit, channels and where to read it', async () => {
    expect(await deviceQuantities(deps, 't', ROOM)).toEqual([
      { quantity: 'air.relativeHumidity', unit: '%', cumulative: false, channels: [''], readings: `/api/v1/devices/${ROOM}/readings?quantity=air.relativeHumidity` },
      { quantity: 'air.temperature', unit: '°C', cumulative: false, channels: [''], readings: `/api/v1/devices/${ROOM}/readings?quantity=air.temperature` },
    ]);
    expect((await deviceQuantities(deps, 't', METER)).map((q) => [q.quantity, q.cumulative])).toEqual([['metering.water.total', true]]);
    // Another tenant's key sees none of them.
    expect(await deviceQuantities(deps, 'other', METER)).toEqual([]);
  });
});
