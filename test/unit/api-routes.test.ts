/**
 * Every API route's own logic, through Fastify's `inject` and an InfluxDB stand-in that records the InfluxQL it
 * receives (api-inject.ts): status and shape of the answer, the tenant conditions of every statement sent, and
 * validation errors that name the parameter, before any query. Each route is declared with `route()`; the
 * registry check at the end fails when the API has a route no `route()` block covers, or the other way round.
 * Isolation and zero loss on real servers stay in test/integration/api.test.ts and the fault suites.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlertBook } from '../../services/alerts/lifecycle.ts';
import { API_PREFIX } from '../../services/api/app.ts';
import { DAILY_CSV_COLUMNS, READINGS_CSV_COLUMNS } from '../../services/api/csv.ts';
import { AUDIT_CSV_COLUMNS } from '../../services/audit/trail.ts';
import { DATA_CLASSES } from '../../services/retention/classes.ts';
import type { InfluxSeries } from '../../services/storage/influx.ts';
import { A, alertEventSeries, apiHarness, B, conditionValues, confinedTo, KEYS, LEAK_A, leakAlert, METER_A, METER_B, type ApiHarness } from './api-inject.ts';

let h: ApiHarness;
beforeAll(async () => {
  h = await apiHarness();
});
afterAll(async () => {
  await h?.app.close();
});
beforeEach(() => h.clear());

/** Routes that have a block below (filled when the file is collected, whatever tests are then run). */
const declared = new Set<string>();

/** The tests of one route; each must reach it (a mistyped URL would otherwise test the 404 handler). */
function route(key: string, body: () => void): void {
  declared.add(key);
  describe(key, () => {
    afterEach(() => {
      expect(h.hits.filter((x) => x.startsWith(`${key} `)), `answers of ${key} (all: ${h.hits.join(', ')})`).not.toEqual([]);
    });
    body();
  });
}

const HOUR = 3_600_000;
const T = Date.parse('2026-03-02T08:00:00Z');

/** A 400 whose message names `where` (e.g. `querystring/tenant`) and says what was expected, sent before any query. */
function expectBadRequest(r: { statusCode: number; json(): any }, message: RegExp): void {
  expect(r.statusCode, JSON.stringify(r.json())).toBe(400);
  expect(r.json()).toMatchObject({ statusCode: 400, error: 'bad_request' });
  expect(r.json().message).toMatch(message);
  expect(h.influx.sent).toEqual([]);
}

/** The two uplink statements of listDevices: last f_cnt, and last radio figures, per device. */
function uplinkAnswers(devices: { tenant: string; devEui: string; site: string; device: string }[]): (q: string) => InfluxSeries[] {
  return (q) =>
    devices.map((d) => ({
      name: 'uplink',
      tags: { tenant: d.tenant, site: d.site, dev_eui: d.devEui, device: d.device },
      ...(/rssi/.test(q) ? { columns: ['time', 'rssi', 'snr', 'sf'], values: [[T, -97, 6.5, 9]] } : { columns: ['time', 'f_cnt'], values: [[T, 42]] }),
    }));
}
const seenA = { tenant: A, ...METER_A };
const seenB = { tenant: B, ...METER_B };

describe('devices', () => {
  route('GET /api/v1/whoami', () => {
    it('describes the key in use, instance-wide as *, without reading InfluxDB', async () => {
      expect((await h.call('GET', '/api/v1/whoami', 'aViewer')).json()).toEqual({ keyId: KEYS.aViewer.id, name: 'mairie A lecture', role: 'viewer', tenants: [A] });
      expect((await h.call('GET', '/api/v1/whoami', 'root')).json()).toMatchObject({ role: 'admin', tenants: ['*'] });
      expect(h.influx.sent).toEqual([]);
    });

    it('refuses a request without a key or with an unknown one (401), saying which', async () => {
      const none = await h.call('GET', '/api/v1/whoami');
      expect(none.statusCode).toBe(401);
      expect(none.json().message).toMatch(/an API key is required/);
      const forged = await h.call('GET', '/api/v1/whoami', undefined, undefined, { authorization: `Bearer ${KEYS.aViewer.key.slice(0, -2)}xx` });
      expect(forged.statusCode).toBe(401);
      expect(forged.json().message).toMatch(/not valid/);
    });
  });

  route('GET /api/v1/quantities', () => {
    it('lists the canonical quantities with their measurement, field and unit', async () => {
      const r = await h.call('GET', '/api/v1/quantities', 'aViewer');
      expect(r.statusCode).toBe(200);
      expect(r.json()).toContainEqual(expect.objectContaining({ id: 'metering.water.total', measurement: 'water', field: 'volume_index_l', unit: 'L', cumulative: true }));
      expect(h.influx.sent).toEqual([]);
    });
  });

  route('GET /api/v1/tenants', () => {
    it('lists the tenants the key covers, from a query confined to them', async () => {
      h.influx.on(/FROM "uplink"/, uplinkAnswers([seenA, seenB, { ...seenB, tenant: 'commune-vue-seulement', devEui: '70b3d59ba0002f99' }]));
      expect((await h.call('GET', '/api/v1/tenants', 'aViewer')).json()).toEqual([{ id: A }]);
      expect(h.influx.selects().length).toBeGreaterThan(0);
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
      expect((await h.call('GET', '/api/v1/tenants', 'both')).json()).toEqual([{ id: B }, { id: A }]);
      // Instance-wide: the configured communes, the default one and a commune only InfluxDB has seen.
      expect((await h.call('GET', '/api/v1/tenants', 'root')).json()).toEqual([{ id: B }, { id: 'commune-vue-seulement' }, { id: 'default' }, { id: A }]);
    });
  });

  route('GET /api/v1/sites', () => {
    it('lists the sites of the key’s tenant with their time zone and device count, none of the other tenant', async () => {
      h.influx.on(/FROM "uplink"/, uplinkAnswers([seenA, seenB]));
      const r = await h.call('GET', '/api/v1/sites', 'aViewer');
      expect(r.statusCode).toBe(200);
      const sites = r.json() as { tenant: string; site: string; devices: number; timeZone: string }[];
      expect(sites.map((s) => s.tenant)).toEqual(sites.map(() => A));
      expect(sites).toContainEqual({ tenant: A, site: 'mairie', devices: expect.any(Number) as unknown, timeZone: 'Europe/Paris' });
      expect(sites.find((s) => s.site === 'reservoir-nord')).toBeUndefined();
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
    });

    it('refuses another tenant (403) and a malformed tenant id (400) before any query', async () => {
      const other = await h.call('GET', `/api/v1/sites?tenant=${B}`, 'aViewer');
      expect(other.statusCode).toBe(403);
      expect(other.json().message).toBe(`this key does not cover tenant '${B}'`);
      expect(h.influx.sent).toEqual([]);
      expectBadRequest(await h.call('GET', "/api/v1/sites?tenant=a'%20OR%201=1", 'aViewer'), /^querystring\/tenant: expected a tenant id/);
      expectBadRequest(await h.call('GET', '/api/v1/sites?commune=x', 'aViewer'), /querystring/);
    });
  });

  route('GET /api/v1/devices', () => {
    it('lists the key’s devices with last seen and radio, registered ones never heard included, and filters by site', async () => {
      h.influx.on(/FROM "uplink"/, uplinkAnswers([seenA, seenB]));
      const devices = (await h.call('GET', '/api/v1/devices', 'aViewer')).json() as { devEui: string; tenant: string; site: string; lastSeen: string | null; rssiDbm: number | null; status: string }[];
      expect(devices.find((d) => d.devEui === METER_A.devEui)).toMatchObject({ tenant: A, site: 'mairie', lastSeen: new Date(T).toISOString(), rssiDbm: -97, status: 'ok' });
      expect(devices.find((d) => d.devEui === LEAK_A.devEui)).toMatchObject({ tenant: A, lastSeen: null, status: 'never-seen' });
      expect(devices.filter((d) => d.tenant !== A)).toEqual([]);
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
      const mairie = (await h.call('GET', '/api/v1/devices?site=mairie', 'aViewer')).json() as { site: string }[];
      expect(mairie.length).toBeGreaterThan(1);
      expect(new Set(mairie.map((d) => d.site))).toEqual(new Set(['mairie']));
    });

    it('rejects a malformed site with a 400 naming it', async () => {
      expectBadRequest(await h.call('GET', '/api/v1/devices?site=%22mairie%22', 'aViewer'), /^querystring\/site: expected a site id/);
    });
  });

  route('GET /api/v1/devices/:devEui', () => {
    it('gives the device with its last readings and quantities, every statement confined to its tenant and DevEUI', async () => {
      h.influx.on(/FROM "uplink"/, uplinkAnswers([seenA]));
      h.influx.on(/SELECT count\(\*\) FROM "water"/, [{ name: 'water', tags: { tenant: A, dev_eui: METER_A.devEui, channel: '' }, columns: ['time', 'count_volume_index_l', 'count_flow_l_h'], values: [[0, 96, 0]] }]);
      h.influx.on(/SELECT \* FROM "water"/, [{ name: 'water', tags: { tenant: A, dev_eui: METER_A.devEui, channel: '' }, columns: ['time', 'volume_index_l', 'leak'], values: [[T, 123456.5, null]] }]);
      const r = await h.call('GET', `/api/v1/devices/${METER_A.devEui.toUpperCase()}`, 'aViewer');
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({
        devEui: METER_A.devEui,
        tenant: A,
        lastReadings: [{ quantity: 'metering.water.total', value: 123456.5, unit: 'L', channel: '', time: new Date(T).toISOString() }],
        quantities: [{ quantity: 'metering.water.total', unit: 'L', cumulative: true, channels: [''], readings: `/api/v1/devices/${METER_A.devEui}/readings?quantity=metering.water.total` }],
      });
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
      for (const q of h.influx.selects()) expect(conditionValues(q, 'dev_eui'), q).toEqual([METER_A.devEui]);
    });

    it('answers 404 for a device of another tenant, and 400 for a malformed DevEUI', async () => {
      h.influx.on(/FROM "uplink"/, uplinkAnswers([seenA, seenB]));
      const other = await h.call('GET', `/api/v1/devices/${METER_B.devEui}`, 'aViewer');
      expect(other.statusCode).toBe(404);
      expect(other.json().message).toBe(`device ${METER_B.devEui} not found`);
      h.clear();
      expectBadRequest(await h.call('GET', '/api/v1/devices/24e1241', 'aViewer'), /^params\/devEui: expected a DevEUI of 16 hexadecimal characters/);
    });
  });

  route('GET /api/v1/devices/:devEui/readings', () => {
    it('gives hourly consumption in the site’s time zone from a query confined to the device and its tenant', async () => {
      h.influx.on(/FROM "uplink"/, uplinkAnswers([seenA]));
      const from = Date.parse('2026-03-01T23:00:00Z');
      h.influx.on(/non_negative_difference/, [
        { name: 'water', tags: { tenant: A, site: 'mairie', dev_eui: METER_A.devEui, device: METER_A.device, channel: '' }, columns: ['time', 'consumption'], values: [[from - HOUR, 5], [from, 12.5], [from + HOUR, 3]] },
      ]);
      const r = await h.call('GET', `/api/v1/devices/${METER_A.devEui}/readings?quantity=metering.water.total&from=2026-03-02T00:00:00%2B01:00&to=2026-03-03T00:00:00%2B01:00`, 'aViewer');
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ devEui: METER_A.devEui, tenant: A, unit: 'L', cumulative: true, aggregation: 'hourly', timeZone: 'Europe/Paris', from: '2026-03-01T23:00:00.000Z', to: '2026-03-02T23:00:00.000Z' });
      // The hour before `from`, read only as the index to measure from, is not a point of the period.
      expect(r.json().points).toEqual([
        { time: '2026-03-01T23:00:00.000Z', consumption: 12.5 },
        { time: '2026-03-02T00:00:00.000Z', consumption: 3 },
      ]);
      const statement = h.influx.sent.find((q) => q.includes('non_negative_difference'))!;
      expect(statement).toContain("tz('Europe/Paris')");
      expect(conditionValues(statement, 'dev_eui')).toEqual([METER_A.devEui]);
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
    });

    it('rejects an unknown quantity, a raw period over 31 days and a reversed period with a 400 naming the parameter', async () => {
      const base = `/api/v1/devices/${METER_A.devEui}/readings`;
      expectBadRequest(await h.call('GET', `${base}?quantity=water.bogus`, 'aViewer'), /^querystring\/quantity: expected a canonical quantity id/);
      expectBadRequest(await h.call('GET', `${base}?quantity=water.leak&aggregation=raw&from=2026-01-01T00:00:00Z&to=2026-02-15T00:00:00Z`, 'aViewer'), /^querystring\/from: expected a period of at most 31 days/);
      expectBadRequest(await h.call('GET', `${base}?quantity=water.leak&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`, 'aViewer'), /^querystring\/to: expected a date-time after from/);
      expectBadRequest(await h.call('GET', `${base}?quantity=water.leak&aggregation=weekly`, 'aViewer'), /^querystring\/aggregation/);
    });
  });
});

describe('alerts', () => {
  const subjectB = { tenant: B, site: 'reservoir-nord', devEui: '70b3d59ba0002f77', device: 'fuite-reservoir' };
  let serial = 0;
  /** A fresh open W7 of a device of its own in the live book (acknowledging one must not change another test's). */
  const liveAlert = (tenant = A) => leakAlert(h.book, tenant === A ? { tenant: A, ...LEAK_A, devEui: `24e124126c14${(++serial).toString(16).padStart(4, '0')}` } : { ...subjectB, devEui: `70b3d59ba0${(++serial).toString(16).padStart(6, '0')}` }, new Date(T));
  /** Alerts only InfluxDB knows (resolved before the last restart), one per tenant. */
  const stored = () => {
    const book = new AlertBook();
    const a = leakAlert(book, { tenant: A, ...LEAK_A, devEui: '24e124126c14ff01' }, new Date(T - 48 * HOUR));
    const b = leakAlert(book, subjectB, new Date(T - 48 * HOUR));
    h.influx.on(/alert_event/, [alertEventSeries([a, b])]);
    return { a: a.alert, b: b.alert };
  };

  route('GET /api/v1/alerts', () => {
    it('merges the stored history and the live book of the key’s tenant only, from a query confined to it', async () => {
      const s = stored();
      const live = liveAlert(A).alert;
      const liveB = liveAlert(B).alert;
      const r = await h.call('GET', `/api/v1/alerts?state=all&from=${new Date(T - 72 * HOUR).toISOString()}&to=${new Date(T + HOUR).toISOString()}`, 'aViewer');
      expect(r.statusCode).toBe(200);
      const ids = (r.json() as { id: string; subject: { tenant: string } }[]).map((a) => a.id);
      expect(ids).toEqual(expect.arrayContaining([s.a.id, live.id]));
      expect(ids).not.toContain(s.b.id);
      expect(ids).not.toContain(liveB.id);
      expect(h.influx.selects().length).toBe(1);
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
    });

    it('answers in English on request and filters by rule and severity', async () => {
      stored();
      const r = await h.call('GET', `/api/v1/alerts?state=all&rule=W7&severity=critical&lang=en&from=${new Date(T - 72 * HOUR).toISOString()}&to=${new Date(T + HOUR).toISOString()}`, 'aViewer');
      const alerts = r.json() as { rule: { id: string }; severity: string; text: string }[];
      expect(alerts.length).toBeGreaterThan(0);
      for (const a of alerts) expect(a).toMatchObject({ rule: { id: 'W7' }, severity: 'critical', text: expect.stringMatching(/water/i) as unknown });
      const none = await h.call('GET', `/api/v1/alerts?state=all&severity=info&from=${new Date(T - 72 * HOUR).toISOString()}`, 'aViewer');
      expect(none.json()).toEqual([]);
    });

    it('rejects a malformed rule, state or period with a 400 naming it', async () => {
      expectBadRequest(await h.call('GET', '/api/v1/alerts?rule=w1', 'aViewer'), /^querystring\/rule: expected a rule id such as W1/);
      expectBadRequest(await h.call('GET', '/api/v1/alerts?state=closed', 'aViewer'), /^querystring\/state/);
      expectBadRequest(await h.call('GET', '/api/v1/alerts?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'aViewer'), /^querystring\/from: expected a period of at most 366 days/);
    });
  });

  route('GET /api/v1/alerts/:id', () => {
    it('gives one alert of the book with its explanation, in French by default and in English', async () => {
      const live = liveAlert(A).alert;
      const fr = await h.call('GET', `/api/v1/alerts/${live.id}`, 'aViewer');
      expect(fr.statusCode).toBe(200);
      expect(fr.json()).toMatchObject({ id: live.id, state: 'open', rule: { id: 'W7', source: { reference: expect.any(String) as unknown } }, subject: { tenant: A }, text: expect.stringContaining("Présence d'eau") as unknown });
      expect((await h.call('GET', `/api/v1/alerts/${live.id}?lang=en`, 'aViewer')).json().text).toMatch(/water/i);
    });

    it('finds a stored alert through a query naming its id and the key’s tenant; another tenant’s is not found', async () => {
      const s = stored();
      const r = await h.call('GET', `/api/v1/alerts/${s.a.id}`, 'aViewer');
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ id: s.a.id, subject: { tenant: A } });
      expect(conditionValues(h.influx.sent[0]!, 'alert_id')).toEqual([s.a.id]);
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
      const other = await h.call('GET', `/api/v1/alerts/${s.b.id}`, 'aViewer');
      expect(other.statusCode).toBe(404);
      expect(other.json().message).toBe(`alert ${s.b.id} not found`);
      const live = await h.call('GET', `/api/v1/alerts/${liveAlert(B).alert.id}`, 'aViewer');
      expect(live.statusCode).toBe(404);
    });

    it('rejects an id that is not a UUID', async () => {
      expectBadRequest(await h.call('GET', '/api/v1/alerts/42', 'aViewer'), /^params\/id: expected an alert id \(UUID\)/);
    });
  });

  route('POST /api/v1/alerts/:id/acknowledge', () => {
    it('lets an operator acknowledge once, records the event for the sink and the action in the audit trail', async () => {
      const live = liveAlert(A).alert;
      const r = await h.call('POST', `/api/v1/alerts/${live.id}/acknowledge`, 'aOperator', { comment: 'plombier prévenu' });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ id: live.id, state: 'acknowledged', acknowledged: { by: `astreinte A (${KEYS.aOperator.id})`, comment: 'plombier prévenu' } });
      expect(h.recorded.map((e) => `${e.type} ${e.alert.id}`)).toEqual([`acknowledged ${live.id}`]);
      expect(h.auditLines.filter((l) => l.includes('action=alert.acknowledge'))).toHaveLength(1);
      const again = await h.call('POST', `/api/v1/alerts/${live.id}/acknowledge`, 'aOperator', { comment: 'encore' });
      expect(again.statusCode).toBe(409);
      expect(again.json().message).toBe(`alert ${live.id} is acknowledged: it cannot be acknowledged`);
      expect(h.recorded).toHaveLength(1);
    });

    it('answers 409 when the service does not record the event (another replica recorded a change to the alert first)', async () => {
      const live = liveAlert(A).alert;
      const alerts = h.deps.alerts!;
      const record = alerts.record;
      alerts.record = () => Promise.resolve([]);
      try {
        const r = await h.call('POST', `/api/v1/alerts/${live.id}/acknowledge`, 'aOperator', { comment: 'plombier prévenu' });
        expect(r.statusCode).toBe(409);
        expect(r.json().message).toBe(`alert ${live.id} was not acknowledged: another replica recorded a change to it first, or the replicas could not confirm it; read it again and retry`);
      } finally {
        alerts.record = record;
      }
    });

    it('refuses a viewer (403), another tenant’s alert (404) and an empty comment (400); nothing is recorded', async () => {
      const live = liveAlert(A).alert;
      expect((await h.call('POST', `/api/v1/alerts/${live.id}/acknowledge`, 'aViewer', { comment: 'vu' })).statusCode).toBe(403);
      const other = liveAlert(B).alert;
      expect((await h.call('POST', `/api/v1/alerts/${other.id}/acknowledge`, 'aOperator', { comment: 'vu' })).statusCode).toBe(404);
      expectBadRequest(await h.call('POST', `/api/v1/alerts/${live.id}/acknowledge`, 'aOperator', { comment: '   ' }), /^body\/comment: expected a comment saying what was done/);
      expect(h.recorded).toEqual([]);
      expect(h.book.find(live.id)?.state).toBe('open');
    });
  });

  route('POST /api/v1/alerts/:id/resolve', () => {
    it('lets an operator resolve by hand: the event goes to the sink and the alert leaves the book', async () => {
      const live = liveAlert(A).alert;
      const r = await h.call('POST', `/api/v1/alerts/${live.id}/resolve`, 'aOperator', { comment: 'fuite réparée' });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ state: 'resolved', resolved: { by: `astreinte A (${KEYS.aOperator.id})`, comment: 'fuite réparée' } });
      expect(h.recorded.map((e) => e.type)).toEqual(['resolved']);
      expect(h.book.find(live.id)).toBeUndefined();
    });

    it('refuses an unknown body field with a 400 naming it', async () => {
      const live = liveAlert(A).alert;
      expectBadRequest(await h.call('POST', `/api/v1/alerts/${live.id}/resolve`, 'aOperator', { comment: 'ok', by: 'quelqu’un' }), /^body: .*by/i);
    });
  });

  route('GET /api/v1/rules', () => {
    it('serves the catalogue: every rule with its source, windowed and stream ones', async () => {
      const rules = (await h.call('GET', '/api/v1/rules', 'aViewer')).json() as { id: string; source: { reference: string } }[];
      for (const id of ['W1', 'W7', 'E4', 'S1']) expect(rules.find((r) => r.id === id)?.source.reference, id).toBeTruthy();
      expect(h.influx.sent).toEqual([]);
    });
  });

  route('POST /api/v1/rules/:rule/backtest', () => {
    const period = { from: '2026-03-01T00:00:00Z', to: '2026-03-03T00:00:00Z' };

    it('runs a windowed rule over the period, reading InfluxDB, and stores nothing', async () => {
      const r = await h.call('POST', '/api/v1/rules/W1/backtest', 'aOperator', { ...period, stepHours: 24 });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual([]);
      expect(h.influx.selects().length).toBeGreaterThan(0);
      expect(h.recorded).toEqual([]);
      expect(h.influx.written).toEqual([]);
    });

    it('returns only the key’s tenants’ alerts, though the rule reads the whole instance', async () => {
      // 30 L every hour of whatever range W1 reads, at a meter of each tenant: W1 fires for both.
      h.influx.on(/non_negative_difference/, (q) => {
        const [from, to] = [...q.matchAll(/(\d{12,})ms/g)].map((m) => Number(m[1]));
        const hours: [number, number][] = [];
        for (let t = from!; t < to!; t += HOUR) hours.push([t, 30]);
        return [seenA, seenB].map((d) => ({ name: 'water', tags: { tenant: d.tenant, site: d.site, dev_eui: d.devEui, device: d.device, role: 'water-main', channel: '' }, columns: ['time', 'litres'], values: hours }));
      });
      const tenantsOf = (r: { json(): any }) => [...new Set((r.json() as { alert: { subject: { tenant: string } } }[]).map((e) => e.alert.subject.tenant))].sort();
      const mine = await h.call('POST', '/api/v1/rules/W1/backtest', 'aOperator', { ...period, stepHours: 24 });
      expect(mine.statusCode).toBe(200);
      expect(tenantsOf(mine)).toEqual([A]);
      expect(mine.json()[0]).toMatchObject({ type: 'opened', alert: { rule: { id: 'W1' }, subject: { devEui: METER_A.devEui } } });
      // The rule did see the other tenant: an instance-wide key gets both.
      expect(tenantsOf(await h.call('POST', '/api/v1/rules/W1/backtest', 'root', { ...period, stepHours: 24 }))).toEqual([B, A].sort());
    });

    it('refuses a viewer, another tenant, a stream or unknown rule and a bad step, naming what is wrong', async () => {
      expect((await h.call('POST', '/api/v1/rules/W1/backtest', 'aViewer', period)).statusCode).toBe(403);
      expect((await h.call('POST', '/api/v1/rules/W1/backtest', 'aOperator', { ...period, tenant: B })).statusCode).toBe(403);
      const stream = await h.call('POST', '/api/v1/rules/W7/backtest', 'aOperator', period);
      expect(stream.statusCode).toBe(404);
      expect(stream.json().message).toBe('windowed rule W7 not found');
      expectBadRequest(await h.call('POST', '/api/v1/rules/w1/backtest', 'aOperator', period), /^params\/rule: expected a rule id such as W1/);
      expectBadRequest(await h.call('POST', '/api/v1/rules/W1/backtest', 'aOperator', { ...period, stepHours: 0 }), /^body\/stepHours/);
      expectBadRequest(await h.call('POST', '/api/v1/rules/W1/backtest', 'aOperator', { from: period.to, to: period.from }), /^querystring\/to: expected a date-time after from/);
    });
  });
});

describe('reports and exports', () => {
  const rawSeries = (tenant: string, d: typeof METER_A): InfluxSeries => ({
    name: 'water',
    tags: { tenant, site: d.site, dev_eui: d.devEui, device: d.device, channel: '' },
    columns: ['time', 'value'],
    values: [[T, 1000.5], [T + HOUR, 1001.25]],
  });

  route('GET /api/v1/reports/datacenter', () => {
    it('reports one site of the key’s tenant, every statement confined to it', async () => {
      const r = await h.call('GET', '/api/v1/reports/datacenter?site=mairie&month=2026-02', 'aViewer');
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ tenant: A, site: 'mairie' });
      expect(h.influx.selects().length).toBeGreaterThan(0);
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
      expect(h.auditLines.filter((l) => l.includes('action=report.export'))).toHaveLength(1);
    });

    it('asks a key of several tenants which one (400), and refuses a tenant the key does not cover (403)', async () => {
      expectBadRequest(await h.call('GET', '/api/v1/reports/datacenter?site=mairie', 'both'), /^querystring\/tenant: required/);
      expect((await h.call('GET', `/api/v1/reports/datacenter?site=mairie&tenant=${B}`, 'aViewer')).statusCode).toBe(403);
      expect(h.influx.sent).toEqual([]);
    });
  });

  route('GET /api/v1/export/readings.csv', () => {
    it('exports raw readings with exactly the documented columns, from a query confined to the tenant and site', async () => {
      h.influx.on(/volume_index_l/, [rawSeries(A, METER_A), rawSeries(B, METER_B)]);
      const r = await h.call('GET', '/api/v1/export/readings.csv?site=mairie&quantity=metering.water.total&from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z', 'aViewer');
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(r.headers['content-disposition']).toBe(`attachment; filename="${A}-mairie-metering.water.total.csv"`);
      const [header, ...rows] = r.body.trimEnd().split('\r\n');
      expect(header).toBe(READINGS_CSV_COLUMNS.join(','));
      expect(rows).toEqual([
        `${new Date(T).toISOString()},${A},mairie,${METER_A.devEui},${METER_A.device},,metering.water.total,1000.5,L`,
        `${new Date(T + HOUR).toISOString()},${A},mairie,${METER_A.devEui},${METER_A.device},,metering.water.total,1001.25,L`,
      ]);
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
      expect(conditionValues(h.influx.sent[0]!, 'site')).toEqual(['mairie']);
    });

    it('refuses more than 31 days and a missing site with a 400 naming them', async () => {
      expectBadRequest(await h.call('GET', '/api/v1/export/readings.csv?site=mairie&quantity=water.leak&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', 'aViewer'), /^querystring\/from: expected a period of at most 31 days/);
      expectBadRequest(await h.call('GET', '/api/v1/export/readings.csv?quantity=water.leak', 'aViewer'), /^querystring\/site/);
    });
  });

  route('GET /api/v1/export/daily.csv', () => {
    it('exports daily consumption per local day with exactly the documented columns', async () => {
      const day = Date.parse('2026-03-01T23:00:00Z');
      h.influx.on(/non_negative_difference/, [{ name: 'water', tags: { tenant: A, site: 'mairie', dev_eui: METER_A.devEui, device: METER_A.device, channel: '' }, columns: ['time', 'consumption'], values: [[day, 850]] }]);
      const r = await h.call('GET', '/api/v1/export/daily.csv?site=mairie&quantity=metering.water.total&from=2026-03-02T00:00:00%2B01:00&to=2026-03-03T00:00:00%2B01:00', 'aViewer');
      expect(r.statusCode).toBe(200);
      const [header, ...rows] = r.body.trimEnd().split('\r\n');
      expect(header).toBe(DAILY_CSV_COLUMNS.join(','));
      expect(rows).toHaveLength(1);
      const row = Object.fromEntries(DAILY_CSV_COLUMNS.map((c, i) => [c, rows[0]!.split(',')[i]]));
      expect(row).toMatchObject({ date: '2026-03-02', time_zone: 'Europe/Paris', tenant: A, dev_eui: METER_A.devEui, statistic: 'consumption', value: '850', unit: 'L' });
      expect(h.influx.sent[0]).toContain("tz('Europe/Paris')");
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
    });

    it('refuses an unknown quantity with a 400 naming it', async () => {
      expectBadRequest(await h.call('GET', '/api/v1/export/daily.csv?site=mairie&quantity=eau', 'aViewer'), /^querystring\/quantity: expected a canonical quantity id/);
    });
  });

  route('GET /api/v1/reports/parsimony', () => {
    it('reports the key’s tenant as JSON, every statement confined to it', async () => {
      const r = await h.call('GET', '/api/v1/reports/parsimony', 'aViewer');
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ tenant: A });
      expect(h.influx.selects().length).toBeGreaterThan(0);
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
    });

    it('rejects an unknown format with a 400 naming it', async () => {
      expectBadRequest(await h.call('GET', '/api/v1/reports/parsimony?format=pdf', 'aViewer'), /^querystring\/format/);
    });
  });

  route('GET /api/v1/reports/yearly', () => {
    it('reports a year of the key’s tenant as JSON, every statement confined to it', async () => {
      const r = await h.call('GET', '/api/v1/reports/yearly?year=2025&format=json', 'aViewer');
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ tenant: A, year: 2025 });
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
    });

    it('rejects a year outside 2000-2099 and a missing year with a 400 naming it', async () => {
      expectBadRequest(await h.call('GET', '/api/v1/reports/yearly?year=1999', 'aViewer'), /^querystring\/year: expected a year from 2000 to 2099/);
      expectBadRequest(await h.call('GET', '/api/v1/reports/yearly', 'aViewer'), /^querystring\/year/);
    });
  });
});

describe('administration', () => {
  route('POST /api/v1/admin/redecode', () => {
    it('re-decodes the admin’s own tenants (an instance-wide admin: all), and records the action', async () => {
      const r = await h.call('POST', '/api/v1/admin/redecode', 'aAdmin', { devEui: METER_A.devEui.toUpperCase(), from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ examined: 3, decoded: 2, stillUndecoded: 1, alreadyDone: 0, linesWritten: 7 });
      expect(h.redecodes).toEqual([{ from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-02T00:00:00Z'), devEui: METER_A.devEui, tenants: [A] }]);
      expect(h.auditLines.filter((l) => l.includes('action=data.redecode'))).toHaveLength(1);
      await h.call('POST', '/api/v1/admin/redecode', 'root', {});
      expect(h.redecodes[1]).not.toHaveProperty('tenants');
    });

    it('refuses an operator (403), another tenant (403) and a malformed DevEUI (400) without re-decoding', async () => {
      expect((await h.call('POST', '/api/v1/admin/redecode', 'aOperator', {})).statusCode).toBe(403);
      expect((await h.call('POST', '/api/v1/admin/redecode', 'aAdmin', { tenant: B })).statusCode).toBe(403);
      expectBadRequest(await h.call('POST', '/api/v1/admin/redecode', 'aAdmin', { devEui: 'zz' }), /^body\/devEui: expected a DevEUI/);
      expect(h.redecodes).toEqual([]);
    });
  });

  route('GET /api/v1/audit', () => {
    const record = (tenant: string, action: string, at: number) => [at, action, 'admin', '127.0.0.1', `${tenant}key01`, 'success', 'api', 200, tenant, 'cible', 'détail'];
    const answer = () =>
      h.influx.on(/FROM "action_log"/, [
        { name: 'action_log', columns: ['time', 'action', 'actor', 'ip', 'key_id', 'outcome', 'source', 'status', 'tenant', 'target', 'detail'], values: [record(A, 'alert.acknowledge', T), record(B, 'alert.resolve', T - HOUR)] },
      ]);

    it('gives a commune admin its commune’s records only, newest first, as JSON pages', async () => {
      answer();
      const r = await h.call('GET', '/api/v1/audit?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z', 'aAdmin');
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ page: 1, pageSize: 100, hasMore: false, records: [{ tenant: A, action: 'alert.acknowledge', time: new Date(T).toISOString() }] });
      expect(r.json().records).toHaveLength(1);
      expect(confinedTo(h.influx.selects(), [A])).toEqual([]);
      // Reading a page is not an export: not recorded.
      expect(h.auditLines).toEqual([]);
    });

    it('exports CSV with the documented columns, and records the export', async () => {
      answer();
      const r = await h.call('GET', '/api/v1/audit?format=csv&from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z', 'root');
      expect(r.headers['content-disposition']).toBe('attachment; filename="veilleur-audit-instance.csv"');
      const [header, ...rows] = r.body.trimEnd().split('\r\n');
      expect(header).toBe(AUDIT_CSV_COLUMNS.join(','));
      expect(rows).toHaveLength(2);
      expect(h.auditLines.filter((l) => l.includes('action=audit.export'))).toHaveLength(1);
    });

    it('refuses a viewer (403) and a page size of 0 (400)', async () => {
      expect((await h.call('GET', '/api/v1/audit', 'aViewer')).statusCode).toBe(403);
      expectBadRequest(await h.call('GET', '/api/v1/audit?pageSize=0', 'aAdmin'), /^querystring\/pageSize/);
    });
  });
});

describe('Grafana', () => {
  const TF = `time >= ${T - HOUR}ms and time <= ${T}ms`;
  const panel = `SELECT last("f_cnt") FROM "uplink" WHERE ${TF} GROUP BY "device"`;

  route('GET /api/v1/grafana/query', () => {
    it('runs a dashboard query confined to the key’s commune and answers like InfluxDB', async () => {
      h.influx.on(/FROM "uplink"/, [{ name: 'uplink', tags: { device: METER_A.device }, columns: ['time', 'last'], values: [[T, 42]] }]);
      const r = await h.call('GET', `/api/v1/grafana/query?db=veilleur&epoch=ms&q=${encodeURIComponent(panel)}`, 'aViewer');
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ results: [{ statement_id: 0, series: [{ name: 'uplink', tags: { device: METER_A.device }, columns: ['time', 'last'], values: [[T, 42]] }] }] });
      expect(h.influx.sent).toHaveLength(1);
      expect(conditionValues(h.influx.sent[0]!, 'tenant')).toEqual([A]);
    });

    it('answers Grafana’s connection test without InfluxDB, and refuses other statements in InfluxDB’s error shape', async () => {
      expect((await h.call('GET', '/api/v1/grafana/query?q=SHOW%20measurements', 'aViewer')).json()).toEqual({ results: [{ statement_id: 0 }] });
      const drop = await h.call('GET', `/api/v1/grafana/query?q=${encodeURIComponent('DROP MEASUREMENT uplink')}`, 'aViewer');
      expect(drop.statusCode).toBe(400);
      expect(drop.json().error).toMatch(/^q: requête refusée par Veilleur : .+\(refused: .+\)$/);
      expectBadRequest(await h.call('GET', '/api/v1/grafana/query?q=&epoch=s', 'aViewer'), /querystring\/(q|epoch)/);
    });
  });

  route('POST /api/v1/grafana/query', () => {
    it('takes q from a form body, confined like GET', async () => {
      const r = await h.call('POST', '/api/v1/grafana/query?epoch=ms', 'bViewer', `q=${encodeURIComponent(panel)}`, { 'content-type': 'application/x-www-form-urlencoded' });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ results: [{ statement_id: 0 }] });
      expect(conditionValues(h.influx.sent[0]!, 'tenant')).toEqual([B]);
    });

    it('rejects a form without q with a 400 naming it', async () => {
      expectBadRequest(await h.call('POST', '/api/v1/grafana/query', 'bViewer', 'db=veilleur', { 'content-type': 'application/x-www-form-urlencoded' }), /^body\/q/);
    });
  });
});

describe('keys', () => {
  const create = async (name: string) => {
    const r = await h.call('POST', '/api/v1/keys', 'aAdmin', { name, role: 'viewer' });
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as { key: string; id: string };
  };
  const whoami = (key: string) => h.app.inject({ url: '/api/v1/whoami', headers: { authorization: `Bearer ${key}` } });

  route('GET /api/v1/keys', () => {
    it('shows a commune admin the keys of its commune only, never a hash', async () => {
      const r = await h.call('GET', '/api/v1/keys', 'aAdmin');
      expect(r.statusCode).toBe(200);
      const ids = (r.json() as { id: string; tenants: string[] }[]).map((k) => k.id);
      expect(ids).toEqual(expect.arrayContaining([KEYS.aViewer.id, KEYS.aOperator.id, KEYS.aAdmin.id]));
      for (const other of [KEYS.bViewer.id, KEYS.both.id, KEYS.root.id]) expect(ids).not.toContain(other);
      expect(r.body).not.toMatch(/sha256/);
      expect((await h.call('GET', '/api/v1/keys', 'root')).json().map((k: { id: string }) => k.id)).toEqual(expect.arrayContaining([KEYS.bViewer.id, KEYS.root.id]));
    });

    it('refuses a viewer (403), another commune (403) and an unknown state (400)', async () => {
      expect((await h.call('GET', '/api/v1/keys', 'aViewer')).statusCode).toBe(403);
      expect((await h.call('GET', `/api/v1/keys?tenant=${B}`, 'aAdmin')).statusCode).toBe(403);
      expectBadRequest(await h.call('GET', '/api/v1/keys?state=lost', 'aAdmin'), /^querystring\/state/);
    });
  });

  route('POST /api/v1/keys', () => {
    it('creates a key of the admin’s commune that works at once, shown once, and records it', async () => {
      const made = await create('tablette du gardien');
      expect(made.key).toMatch(/^vk_/);
      expect(made).toMatchObject({ name: 'tablette du gardien', role: 'viewer', tenants: [A], state: 'active' });
      expect((await whoami(made.key)).json()).toMatchObject({ keyId: made.id, tenants: [A] });
      expect(h.auditLines.filter((l) => l.includes('action=key.create'))).toHaveLength(1);
    });

    it('refuses an instance-wide key from a commune admin, an unknown commune, no communes from an instance admin, and a past expiry', async () => {
      const star = await h.call('POST', '/api/v1/keys', 'aAdmin', { name: 'x', role: 'viewer', tenants: ['*'] });
      expect(star.statusCode).toBe(403);
      expect(star.json().message).toMatch(/only an instance-wide admin may create an instance-wide key/);
      expectBadRequest(await h.call('POST', '/api/v1/keys', 'root', { name: 'x', role: 'viewer', tenants: ['nulle-part'] }), /^body\/tenants: no commune 'nulle-part'/);
      expectBadRequest(await h.call('POST', '/api/v1/keys', 'root', { name: 'x', role: 'viewer' }), /^body\/tenants: required for an instance-wide admin/);
      expectBadRequest(await h.call('POST', '/api/v1/keys', 'aAdmin', { name: 'x', role: 'viewer', expires: '2020-01-01T00:00:00Z' }), /^body\/expires: expected a date in the future/);
      expectBadRequest(await h.call('POST', '/api/v1/keys', 'aAdmin', { name: 'x', role: 'superuser' }), /^body\/role/);
    });
  });

  route('POST /api/v1/keys/:keyId/revoke', () => {
    it('revokes a key of the admin’s commune: refused from the next request on', async () => {
      const made = await create('à révoquer');
      const r = await h.call('POST', `/api/v1/keys/${made.id}/revoke`, 'aAdmin');
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ id: made.id, state: 'revoked' });
      expect((await whoami(made.key)).statusCode).toBe(401);
    });

    it('answers 404 for another commune’s key and 400 for a malformed id', async () => {
      const other = await h.call('POST', `/api/v1/keys/${KEYS.bViewer.id}/revoke`, 'aAdmin');
      expect(other.statusCode).toBe(404);
      expect(other.json().message).toBe(`key ${KEYS.bViewer.id} not found`);
      expect((await h.call('GET', '/api/v1/whoami', 'bViewer')).statusCode).toBe(200);
      expectBadRequest(await h.call('POST', '/api/v1/keys/ABC/revoke', 'aAdmin'), /^params\/keyId: expected a key id/);
    });
  });

  route('POST /api/v1/keys/:keyId/rotate', () => {
    it('rotates a key: the new one works at once, the old one stops at once by default', async () => {
      const made = await create('à renouveler');
      const r = await h.call('POST', `/api/v1/keys/${made.id}/rotate`, 'aAdmin', {});
      expect(r.statusCode).toBe(201);
      const rotated = r.json() as { key: string; id: string; replaced: { id: string } };
      expect(rotated.replaced.id).toBe(made.id);
      expect((await whoami(rotated.key)).statusCode).toBe(200);
      expect((await whoami(made.key)).statusCode).toBe(401);
    });

    it('rejects a grace period over 30 days with a 400 naming it', async () => {
      const made = await create('grâce trop longue');
      expectBadRequest(await h.call('POST', `/api/v1/keys/${made.id}/rotate`, 'aAdmin', { graceHours: 721 }), /^body\/graceHours/);
    });
  });
});

describe('retention', () => {
  const policies = (raw = '2160h0m0s'): InfluxSeries[] => [
    { name: '', columns: ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'], values: [['autogen', raw, '24h0m0s', 1, true], ['audit', '0s', '168h0m0s', 1, false]] },
  ];
  const auditColumns = ['time', 'actor', 'applied', 'data_class', 'detail', 'new_value', 'old_value', 'reason', 'scope', 'seq', 'setting', 'source', 'tenant'];
  const entry = (tenant: string, at: number, actor: string) => [at, actor, true, 'raw', 'applied', '90d', '30d', 'délibération du conseil', 'retention', 0, 'retention.raw', 'api', tenant];

  route('GET /api/v1/retention', () => {
    it('shows every data class with what is applied; a commune key sees the instance team, not who decided', async () => {
      h.influx.on(/SHOW RETENTION POLICIES/, policies());
      h.influx.on(/audit_log/, [{ name: 'audit_log', tags: { setting: 'retention.raw' }, columns: auditColumns, values: [entry('*', T, `équipe instance (${KEYS.root.id})`)] }]);
      const r = await h.call('GET', '/api/v1/retention', 'aViewer');
      expect(r.statusCode).toBe(200);
      const body = r.json() as { managed: boolean; classes: { dataClass: string; applied: string; lastChange?: { actor: string } }[] };
      expect(body.managed).toBe(false);
      expect(body.classes.map((c) => c.dataClass)).toEqual([...DATA_CLASSES]);
      expect(body.classes.find((c) => c.dataClass === 'raw')).toMatchObject({ applied: '90d', lastChange: { actor: 'instance team' } });
      expect(h.influx.sent[0]).toBe('SHOW RETENTION POLICIES ON "veilleur"');
      expect((await h.call('GET', '/api/v1/retention', 'root')).json().classes[0].lastChange.actor).toBe(`équipe instance (${KEYS.root.id})`);
    });

    it('answers 503 when the instance has no retention settings to show', async () => {
      const bare = await apiHarness({ retention: undefined });
      try {
        const r = await bare.call('GET', '/api/v1/retention', 'aViewer');
        expect(r.statusCode).toBe(503);
        expect(r.json().message).toBe('retention is not available on this instance');
        // Answered by the second instance: its hits count for this route's check.
        h.hits.push(...bare.hits);
      } finally {
        await bare.app.close();
      }
    });
  });

  route('GET /api/v1/retention/audit', () => {
    it('gives a commune key its commune’s entries and the instance’s, from queries naming only those', async () => {
      h.influx.on(/audit_log/, [{ name: 'audit_log', columns: auditColumns, values: [entry(A, T, 'admin A'), entry('*', T - HOUR, 'config'), entry(B, T - 2 * HOUR, 'admin B')] }]);
      const r = await h.call('GET', '/api/v1/retention/audit', 'aViewer');
      expect(r.statusCode).toBe(200);
      expect((r.json() as { tenant: string }[]).map((e) => e.tenant)).toEqual([A, '*']);
      for (const q of h.influx.selects()) expect(conditionValues(q, 'tenant').sort(), q).toEqual(['*', A].sort());
    });

    it('rejects a limit of 0 with a 400 naming it', async () => {
      expectBadRequest(await h.call('GET', '/api/v1/retention/audit?limit=0', 'aViewer'), /^querystring\/limit/);
    });
  });

  route('POST /api/v1/retention', () => {
    it('lets an instance-wide admin shorten with a reason: recorded in the audit log, then applied', async () => {
      h.influx.on(/SHOW RETENTION POLICIES/, policies());
      h.influx.on(/SHOW SHARDS/, [{ name: 'veilleur', columns: ['id', 'database', 'retention_policy'], values: [[1, 'veilleur', 'autogen']] }]);
      const refused = await h.call('POST', '/api/v1/retention', 'root', { raw: '30d' });
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ error: 'reason_required', settings: ['retention.raw'] });
      expect(h.influx.sent.filter((q) => /^ALTER/.test(q))).toEqual([]);
      const r = await h.call('POST', '/api/v1/retention', 'root', { raw: '30d', reason: 'délibération du conseil du 2 mars' });
      expect(r.statusCode).toBe(200);
      expect(r.json().entries).toMatchObject([{ setting: 'retention.raw', oldValue: '90d', newValue: '30d', applied: true, reason: 'délibération du conseil du 2 mars' }]);
      expect(h.influx.sent.filter((q) => /^ALTER RETENTION POLICY/.test(q))).toEqual(['ALTER RETENTION POLICY "autogen" ON "veilleur" DURATION 720h SHARD DURATION 24h']);
      expect(h.influx.written.filter((l) => l.startsWith('audit_log,'))).not.toEqual([]);
    });

    it('refuses a commune admin (403), an empty change and a malformed duration (400)', async () => {
      expect((await h.call('POST', '/api/v1/retention', 'aAdmin', { raw: '120d' })).statusCode).toBe(403);
      expectBadRequest(await h.call('POST', '/api/v1/retention', 'root', {}), /^body: expected at least one of raw, hourly, daily, events, actions/);
      expectBadRequest(await h.call('POST', '/api/v1/retention', 'root', { raw: '3 mois' }), /^body\/raw: expected a duration like '90d'/);
    });
  });
});

describe('route registry', () => {
  it('every route of the API has a route() block in this file, and every block a route', () => {
    const api = h.routes.filter((r) => r.url.startsWith(`${API_PREFIX}/`)).map((r) => `${r.method} ${r.url}`);
    expect(api.length).toBeGreaterThan(25);
    expect(api.filter((k) => !declared.has(k))).toEqual([]);
    expect([...declared].filter((k) => !api.includes(k))).toEqual([]);
  });

  it('the OpenAPI document lists the same routes', async () => {
    const doc = (await h.call('GET', '/docs/json', 'aViewer')).json() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    expect(documented.filter((k) => k.includes(`${API_PREFIX}/`)).sort()).toEqual([...declared].sort());
  });
});
