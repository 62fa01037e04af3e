/**
 * The audit trail of actions (issue 13, item 4) on a running service with real Mosquitto and InfluxDB and two
 * communes: every action (API acknowledge and resolve, re-decode, retention change, CSV and report exports, console
 * sign-in, acknowledge and sign-out, a failed sign-in) leaves a record readable through GET /api/v1/audit by the
 * right admins only, stored in its own retention policy, exported as formula-safe CSV and as JSON lines, and kept
 * through the spool while InfluxDB is down and Veilleur restarts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../services/api/keys.ts';
import { AUDIT_CSV_COLUMNS } from '../../services/audit/trail.ts';
import { loadConfig } from '../../services/config/load.ts';
import { retentionSchema } from '../../services/retention/config.ts';
import { createService, type Service } from '../../services/service.ts';
import { createMetrics } from '../../services/metrics.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { Spool } from '../../services/storage/spool.ts';
import { SpoolWriter } from '../../services/storage/writer.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { queryRows, startStack, waitFor, type Stack } from './support.ts';

const A = 'saint-veilleur';
const B = 'commune-b';
const leakA = TOWN.find((d) => d.name === 'fuite-chaufferie-mairie')!;
const leakB: SimDevice = { ...leakA, devEui: `b${leakA.devEui.slice(1)}`, name: 'fuite-chaufferie-b', lnsTenant: 'Commune B' };
const FORMULA = '=HYPERLINK("http://evil.example";"clic")';

const keys = {
  aOperator: generateKey('aoperator01'),
  aAdmin: generateKey('aadmin0001'),
  bOperator: generateKey('boperator01'),
  bAdmin: generateKey('badmin0001'),
  root: generateKey('root000001'),
};
const auth = (k: { key: string }) => ({ authorization: `Bearer ${k.key}` });

let stack: Stack;
let service: Service;
let url: string;
let configFile: string;

async function startService(): Promise<void> {
  const cfg = loadConfig({
    MQTT_URL: stack.mqtt.url,
    MQTT_CLIENT_ID: 'veilleur-audit-it',
    INFLUX_URL: stack.influx.url,
    INFLUX_DB: stack.db,
    HTTP_PORT: '0',
    DATA_DIR: join(stack.dir, 'service'),
    VEILLEUR_CONFIG: configFile,
    ALERT_EVAL_MINUTES: '1440',
    HTTP_RATE_LIMIT_PER_MINUTE: '100000',
  });
  service = createService(cfg, pino({ level: 'silent' }));
  await service.start();
  url = service.address();
}

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const r = await fetch(url + path, {
    method,
    redirect: 'manual',
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, text, json: () => JSON.parse(text), headers: r.headers };
}

/** A console form post (urlencoded, same origin), with the session cookie when there is one. */
async function form(path: string, fields: Record<string, string>, cookie?: string) {
  return fetch(url + path, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url, ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
}

async function sendLeak(d: SimDevice, fCnt: number): Promise<void> {
  const client = await mqtt.connectAsync(stack.mqtt.url);
  const frame = frameBuilders[d.decoder]!.build({ leak: true, temperatureC: 18, humidityPct: 50, batteryPct: 90 }, new Date());
  const m = chirpstackV4Up(d, fCnt, frame, new Date(), { rssi: -80, snr: 7, spreadingFactor: 8, gateways: 1 });
  await client.publishAsync(m.topic, m.payload, { qos: 1 });
  await client.endAsync();
}

async function openAlertOf(d: SimDevice, key: { key: string }): Promise<{ id: string }> {
  let found: { id: string } | undefined;
  await waitFor(
    async () => {
      const r = await call('GET', '/api/v1/alerts?state=active', auth(key));
      found = r.status === 200 ? r.json().find((a: any) => a.subject.devEui === d.devEui && a.rule.id === 'W7') : undefined;
      return found !== undefined;
    },
    15_000,
    `W7 alert of ${d.name}`,
  );
  return found!;
}

/** Every audit record a key may read (one page of up to 1000). */
async function trail(key: { key: string }, query = ''): Promise<any[]> {
  const r = await call('GET', `/api/v1/audit?pageSize=1000${query}`, auth(key));
  expect(r.status).toBe(200);
  return r.json().records;
}

/** Waits until the trail read by `key` holds a record matching `pred` (records reach InfluxDB through the spool). */
async function recordOf(key: { key: string }, pred: (r: any) => boolean, what: string): Promise<any> {
  let found: any;
  await waitFor(
    async () => {
      found = (await trail(key)).find(pred);
      return found !== undefined;
    },
    15_000,
    what,
  );
  return found;
}

let alertA: { id: string };
let alertB: { id: string };

beforeAll(async () => {
  stack = await startStack();
  mkdirSync(join(stack.dir, 'service'), { recursive: true });
  const registry = townRegistry([leakA, leakB]);
  registry.devices.find((d) => d.devEui === leakB.devEui)!.tenant = B;
  registry.tenants.push({ id: B, name: 'Commune B', lnsTenants: ['Commune B'], applications: [] });
  registry.retention = retentionSchema.parse({ changedBy: 'test' });
  registry.apiKeys = [
    { id: keys.aOperator.id, name: FORMULA, role: 'operator', tenants: [A], hash: keys.aOperator.hash },
    { id: keys.aAdmin.id, name: 'admin A', role: 'admin', tenants: [A], hash: keys.aAdmin.hash },
    { id: keys.bOperator.id, name: 'astreinte B', role: 'operator', tenants: [B], hash: keys.bOperator.hash },
    { id: keys.bAdmin.id, name: 'admin B', role: 'admin', tenants: [B], hash: keys.bAdmin.hash },
    { id: keys.root.id, name: 'agglomération', role: 'admin', tenants: ['*'], hash: keys.root.hash },
  ];
  configFile = join(stack.dir, 'veilleur.yaml');
  writeFileSync(configFile, stringify(registry));
  await startService();
  await sendLeak(leakA, 1);
  await sendLeak(leakB, 1);
  alertA = await openAlertOf(leakA, keys.aOperator);
  alertB = await openAlertOf(leakB, keys.bOperator);
}, 120_000);

afterAll(async () => {
  await service?.stop(2000);
  await stack?.close();
});

describe('every action leaves an audit record', () => {
  it('API actions: acknowledge, resolve, a refused acknowledge, re-decode, retention change, exports', async () => {
    expect((await call('POST', `/api/v1/alerts/${alertA.id}/acknowledge`, auth(keys.aOperator), { comment: FORMULA })).status).toBe(200);
    expect((await call('POST', `/api/v1/alerts/${alertA.id}/resolve`, auth(keys.aOperator), { comment: 'sonde séchée' })).status).toBe(200);
    // Commune A's operator on commune B's alert: not found, and recorded as the instance's.
    expect((await call('POST', `/api/v1/alerts/${alertB.id}/acknowledge`, auth(keys.aOperator), { comment: 'essai' })).status).toBe(404);
    expect((await call('POST', '/api/v1/admin/redecode', auth(keys.aAdmin), {})).status).toBe(200);
    expect((await call('POST', '/api/v1/retention', auth(keys.root), { actions: '400d' })).status).toBe(200);
    expect((await call('GET', '/api/v1/export/readings.csv?site=mairie&quantity=air.temperature', auth(keys.aOperator))).status).toBe(200);
    expect((await call('GET', '/api/v1/reports/parsimony?format=csv', auth(keys.aOperator))).status).toBe(200);

    const mine = (r: any) => r.keyId === keys.aOperator.id && r.actor === FORMULA && r.ip === '127.0.0.1' && r.source === 'api';
    const ack = await recordOf(keys.root, (r) => r.action === 'alert.acknowledge' && r.outcome === 'success' && r.target === alertA.id, 'acknowledge record');
    expect(ack).toMatchObject({ tenant: A, detail: FORMULA, status: 200 });
    expect(mine(ack)).toBe(true);
    expect(Date.now() - Date.parse(ack.time)).toBeLessThan(60_000);
    const resolve = await recordOf(keys.root, (r) => r.action === 'alert.resolve' && r.target === alertA.id, 'resolve record');
    expect(resolve).toMatchObject({ tenant: A, outcome: 'success', detail: 'sonde séchée' });
    const refused = await recordOf(keys.root, (r) => r.action === 'alert.acknowledge' && r.outcome === 'refused', 'refused acknowledge');
    expect(refused).toMatchObject({ tenant: '*', target: alertB.id, status: 404, keyId: keys.aOperator.id });
    const redecode = await recordOf(keys.root, (r) => r.action === 'data.redecode', 'redecode record');
    expect(redecode).toMatchObject({ tenant: A, outcome: 'success', keyId: keys.aAdmin.id, actor: 'admin A' });
    expect(redecode.detail).toMatch(/decoded of \d+ examined/);
    const retention = await recordOf(keys.root, (r) => r.action === 'retention.change', 'retention record');
    expect(retention).toMatchObject({ tenant: '*', outcome: 'success', target: 'actions', detail: 'actions=400d', actor: 'agglomération' });
    const exports = await recordOf(keys.root, (r) => r.action === 'data.export', 'export record');
    expect(exports).toMatchObject({ tenant: A, outcome: 'success', target: 'readings.csv mairie air.temperature' });
    const report = await recordOf(keys.root, (r) => r.action === 'report.export', 'report record');
    expect(report).toMatchObject({ tenant: A, outcome: 'success', target: 'parsimony' });
    expect(report.detail).toMatch(/^csv, /);
  }, 60_000);

  it('console actions: sign-in, acknowledge, sign-out, and a failed sign-in naming the key id claimed, never the key', async () => {
    const signIn = await form('/connexion', { cle: keys.bOperator.key, suite: '/' });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const page = await fetch(`${url}/alertes/${alertB.id}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const ack = await form(`/alertes/${alertB.id}/prise-en-compte`, { _csrf: csrf, commentaire: 'agent prévenu' }, cookie);
    expect(ack.status).toBe(303);
    expect(ack.headers.get('location')).toContain('fait=');
    expect((await form('/deconnexion', { _csrf: csrf }, cookie)).status).toBe(303);
    const forged = `vk_${keys.bAdmin.id}_${'Z'.repeat(43)}`;
    expect((await form('/connexion', { cle: forged })).status).toBe(401);

    const byConsole = (r: any) => r.source === 'console' && r.keyId === keys.bOperator.id && r.actor === 'astreinte B' && r.ip === '127.0.0.1';
    const signedIn = await recordOf(keys.bAdmin, (r) => r.action === 'console.sign-in' && r.outcome === 'success', 'console sign-in');
    expect(signedIn).toMatchObject({ tenant: B });
    expect(byConsole(signedIn)).toBe(true);
    const acked = await recordOf(keys.bAdmin, (r) => r.action === 'alert.acknowledge' && r.source === 'console', 'console acknowledge');
    expect(acked).toMatchObject({ tenant: B, target: alertB.id, outcome: 'success', detail: 'agent prévenu' });
    expect(byConsole(acked)).toBe(true);
    const out = await recordOf(keys.bAdmin, (r) => r.action === 'console.sign-out', 'console sign-out');
    expect(byConsole(out)).toBe(true);
    const failed = await recordOf(keys.root, (r) => r.action === 'console.sign-in' && r.outcome === 'refused', 'failed sign-in');
    expect(failed).toMatchObject({ tenant: '*', keyId: keys.bAdmin.id, actor: '', source: 'console' });
    expect(JSON.stringify(await trail(keys.root))).not.toContain('Z'.repeat(43));
  }, 60_000);
});

describe('who reads the trail', () => {
  it("a commune's admin reads its commune's records only; an instance admin reads all; others are refused", async () => {
    const all = await trail(keys.root);
    expect(new Set(all.map((r) => r.tenant))).toEqual(new Set([A, B, '*']));
    const a = await trail(keys.aAdmin);
    expect(a.length).toBe(5);
    expect(new Set(a.map((r) => r.tenant))).toEqual(new Set([A]));
    expect(a.length).toBe(all.filter((r) => r.tenant === A).length);
    // Nothing of commune B, not even its alert's id that A's operator tried.
    const aText = JSON.stringify(a);
    for (const marker of [B, alertB.id, leakB.devEui, 'astreinte B', keys.bOperator.id]) expect(aText).not.toContain(marker);
    const b = await trail(keys.bAdmin);
    expect(new Set(b.map((r) => r.tenant))).toEqual(new Set([B]));
    expect(b.map((r) => r.action).sort()).toEqual(['alert.acknowledge', 'console.sign-in', 'console.sign-out']);
    expect(JSON.stringify(b)).not.toContain(alertA.id);

    expect((await call('GET', `/api/v1/audit?tenant=${B}`, auth(keys.aAdmin))).status).toBe(403);
    expect((await call('GET', '/api/v1/audit', auth(keys.aOperator))).status).toBe(403);
    expect((await call('GET', '/api/v1/audit')).status).toBe(401);
    expect((await call('GET', `/api/v1/audit?tenant=${B}`, auth(keys.root))).json().records).toEqual(b);
  });

  it('filters by action, outcome and period, newest first, in pages', async () => {
    const acks = await trail(keys.root, '&action=alert.acknowledge');
    expect(acks.map((r) => `${r.source}:${r.outcome}:${r.tenant}`).sort()).toEqual(['api:refused:*', 'api:success:saint-veilleur', 'console:success:commune-b']);
    const refused = await trail(keys.root, '&outcome=refused');
    expect(new Set(refused.map((r) => r.action))).toEqual(new Set(['alert.acknowledge', 'console.sign-in']));
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await trail(keys.root, `&from=${encodeURIComponent(future)}&to=${encodeURIComponent(new Date(Date.now() + 120_000).toISOString())}`)).toEqual([]);

    const all = await trail(keys.root);
    const times = all.map((r) => Date.parse(r.time));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    const p1 = (await call('GET', '/api/v1/audit?pageSize=3&page=1', auth(keys.root))).json();
    const p2 = (await call('GET', '/api/v1/audit?pageSize=3&page=2', auth(keys.root))).json();
    expect(p1).toMatchObject({ page: 1, pageSize: 3, hasMore: true });
    expect([...p1.records, ...p2.records]).toEqual(all.slice(0, 6));
    const bad = await call('GET', '/api/v1/audit?action=drop', auth(keys.root));
    expect(bad.status).toBe(400);
    expect(bad.json().message).toContain('action');
  });

  it('exports CSV with formulas defused and JSON lines for a log collector; each export is itself recorded', async () => {
    const before = (await trail(keys.aAdmin)).length;
    const csv = await call('GET', '/api/v1/audit?format=csv', auth(keys.aAdmin));
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const [header, ...rows] = csv.text.trimEnd().split('\r\n');
    expect(header!.split(',')).toEqual([...AUDIT_CSV_COLUMNS]);
    expect(rows.length).toBe(before);
    // The operator's name and comment are a formula: every cell holding it starts with an apostrophe.
    expect(csv.text).toContain(`"'=HYPERLINK(""http://evil.example"";""clic"")"`);
    expect(csv.text).not.toMatch(/(^|,)"?[=+@-]/m);
    for (const row of rows) expect(row.startsWith('20')).toBe(true);

    const all = (await trail(keys.root)).length;
    const jsonl = await call('GET', '/api/v1/audit?format=jsonl', auth(keys.root));
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = jsonl.text.trimEnd().split('\n').map((l) => JSON.parse(l));
    // The CSV export's own record may or may not have reached InfluxDB yet.
    expect(lines.length).toBeGreaterThanOrEqual(all);
    expect(lines.length).toBeLessThanOrEqual(all + 1);
    for (const l of lines) expect(l).toMatchObject({ product: 'veilleur', event: 'audit', time: expect.stringMatching(/Z$/), action: expect.any(String), tenant: expect.any(String) });

    const exported = await recordOf(keys.aAdmin, (r) => r.action === 'audit.export', 'audit export record');
    expect(exported).toMatchObject({ tenant: A, keyId: keys.aAdmin.id, outcome: 'success' });
    expect(exported.detail).toMatch(/^csv, .* \d+ records$/);
    await recordOf(keys.root, (r) => r.action === 'audit.export' && r.tenant === '*' && r.detail.startsWith('jsonl'), 'instance export record');
  });
});

describe('storage', () => {
  it('records live in the actions retention policy only, not with raw data', async () => {
    const policies = await queryRows(stack.influx, stack.db, `SHOW RETENTION POLICIES ON "${stack.db}"`);
    expect(policies.find((p) => p.name === 'actions')).toMatchObject({ duration: '9600h0m0s' });
    const inActions = await queryRows(stack.influx, stack.db, 'SELECT count(key_id) FROM "actions"."action_log"');
    expect(Number(inActions[0]?.count)).toBeGreaterThanOrEqual(10);
    expect(await queryRows(stack.influx, stack.db, 'SELECT count(key_id) FROM "autogen"."action_log"')).toEqual([]);
  });

  it('the writer moves action lines to their policy, and to the default one when that policy is missing (never lost)', async () => {
    const influx = createInfluxTarget({ api: 'v1', url: stack.influx.url, db: stack.db, timeoutMs: 10_000 });
    const spool = new Spool({ dir: join(stack.dir, 'spool-moves'), maxBytes: 1 << 20, segmentBytes: 1 << 20, fsyncMs: 0 });
    spool.open();
    const moves = [{ measurement: 'action_log', rp: 'actions' }, { measurement: 'action_log_test', rp: 'no_such_policy' }];
    const writer = new SpoolWriter(spool, influx, { batchBytes: 1 << 20, flushMs: 1, moves }, createMetrics(), pino({ level: 'silent' }));
    const t = Date.now() - 3_600_000;
    spool.append([`action_log,tenant=x key_id="moved" ${t}`, `action_log_test,tenant=x key_id="kept" ${t}`, `water,tenant=x v=1 ${t}`]);
    writer.start();
    await waitFor(async () => spool.pendingBytes() === 0, 10_000, 'the spool to drain');
    await writer.stop();
    spool.close();
    expect(await queryRows(stack.influx, stack.db, `SELECT key_id FROM "actions"."action_log" WHERE tenant = 'x'`)).toEqual([{ time: t, key_id: 'moved' }]);
    expect(await queryRows(stack.influx, stack.db, `SELECT key_id FROM "autogen"."action_log_test"`)).toEqual([{ time: t, key_id: 'kept' }]);
    expect(await queryRows(stack.influx, stack.db, `SELECT v FROM "autogen"."water" WHERE tenant = 'x'`)).toEqual([{ time: t, v: 1 }]);
  });

  it('an action while InfluxDB is down and Veilleur restarts is kept by the spool and recorded once it is back', async () => {
    await stack.influx.stop();
    await expect(fetch(`${stack.influx.url}/ping`)).rejects.toThrow();
    const signIn = await form('/connexion', { cle: keys.aOperator.key, suite: '/' });
    expect(signIn.status).toBe(303);
    await service.stop(500);
    await stack.influx.start();
    await startService();
    const records = async () => {
      const r = await call('GET', '/api/v1/audit?action=console.sign-in', auth(keys.aAdmin));
      return r.status === 200 ? (r.json().records as any[]).filter((x) => x.keyId === keys.aOperator.id) : [];
    };
    await waitFor(async () => (await records()).length === 1, 20_000, 'sign-in made while InfluxDB was down');
    expect((await records())[0]).toMatchObject({ tenant: A, outcome: 'success', actor: FORMULA, source: 'console' });
  }, 90_000);
});
