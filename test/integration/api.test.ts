/**
 * The HTTP API on a running service with real Mosquitto and InfluxDB, two communes sharing the instance:
 * Saint-Veilleur (tenant A) and a copy of the town with other DevEUIs (tenant B), both with a wet leak sensor.
 * The isolation, authentication and malformed-input suites are generated from the service's route table and its
 * OpenAPI document, so a route added later is covered without editing this file.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, KeyRing } from '../../services/api/keys.ts';
import { buildHttpServer } from '../../services/http/server.ts';
import { createMetrics } from '../../services/metrics.ts';
import { DAILY_CSV_COLUMNS, READINGS_CSV_COLUMNS } from '../../services/api/csv.ts';
import { loadConfig } from '../../services/config/load.ts';
import { createService, type Service } from '../../services/service.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { countPoints, queryRows, ROOT, startStack, waitFor, type Stack } from './support.ts';

const A = 'saint-veilleur';
const B = 'commune-b';
const HOUR = 3_600_000;

// Tenant B: the town again, other DevEUIs and names, same site names (isolation must not rely on names), in its own
// network-server tenant (a device registered to B but published through A's tenant is refused: tenant-mismatch.test.ts).
const TOWN_A = TOWN.filter((d) => d.lnsTenant === TOWN[0]!.lnsTenant);
const TOWN_B: SimDevice[] = TOWN_A.map((d) => ({ ...d, devEui: `b${d.devEui.slice(1)}`, name: `${d.name}-b`, label: `${d.label ?? d.name} (B)`, lnsTenant: 'Commune B' }));
const B_EUIS = TOWN_B.map((d) => d.devEui);
const leakA = TOWN_A.find((d) => d.name === 'fuite-chaufferie-mairie')!;
const leakB = TOWN_B.find((d) => d.name === 'fuite-chaufferie-mairie-b')!;
const meterA = TOWN_A.find((d) => d.name === 'compteur-eau-mairie')!;

const keys = {
  aViewer: generateKey('aviewer01'),
  aOperator: generateKey('aoperator01'),
  aAdmin: generateKey('aadmin0001'),
  bOperator: generateKey('boperator01'),
  root: generateKey('root000001'),
  /** Named by the malformed-input suite as the key to revoke or rotate (every such request must be a 400). */
  spare: generateKey('spare00001'),
};
const auth = (k: { key: string }) => ({ authorization: `Bearer ${k.key}` });

let stack: Stack;
let service: Service;
let url: string;
let configFile: string;
const logFile = () => join(stack.dir, 'api-service.log');
/** Every InfluxQL statement the service sent, to prove that no request parameter reached it as raw text. */
const sentQueries: string[] = [];

async function startService(): Promise<void> {
  const cfg = loadConfig({
    MQTT_URL: stack.mqtt.url,
    MQTT_CLIENT_ID: 'veilleur-api-it',
    INFLUX_URL: stack.influx.url,
    INFLUX_DB: stack.db,
    HTTP_PORT: '0',
    DATA_DIR: join(stack.dir, 'service'),
    VEILLEUR_CONFIG: configFile,
    ALERT_EVAL_MINUTES: '1440',
    HTTP_RATE_LIMIT_PER_MINUTE: '100000',
    // The suites present hundreds of forged keys from one address on purpose.
    HTTP_AUTH_FAILURE_LIMIT: '100000',
  });
  service = createService(cfg, pino({ level: 'info', redact: ['req.headers.authorization'] }, pino.destination({ dest: logFile(), append: true, sync: true })));
  const query = service.influx.query.bind(service.influx);
  service.influx.query = (q: string) => {
    sentQueries.push(q);
    return query(q);
  };
  await service.start();
  url = service.address();
}

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<{ status: number; text: string; json: () => any; headers: Headers }> {
  const r = await fetch(url + path, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, text, json: () => JSON.parse(text), headers: r.headers };
}

async function sendLeak(d: SimDevice, fCnt: number, leak: boolean): Promise<void> {
  const client = await mqtt.connectAsync(stack.mqtt.url);
  const frame = frameBuilders[d.decoder]!.build({ leak, temperatureC: 18, humidityPct: 50, batteryPct: 90 }, new Date());
  const m = chirpstackV4Up(d, fCnt, frame, new Date(), { rssi: -80, snr: 7, spreadingFactor: 8, gateways: 1 });
  await client.publishAsync(m.topic, m.payload, { qos: 1 });
  await client.endAsync();
}

async function openAlertOf(d: SimDevice, key: { key: string }): Promise<any> {
  let found: any;
  await waitFor(
    async () => {
      const r = await call('GET', '/api/v1/alerts?state=active', auth(key));
      found = r.status === 200 ? r.json().find((a: any) => a.subject.devEui === d.devEui && a.rule.id === 'W7') : undefined;
      return found !== undefined;
    },
    10_000,
    `W7 alert of ${d.name}`,
  );
  return found;
}

beforeAll(async () => {
  stack = await startStack();
  mkdirSync(join(stack.dir, 'service'), { recursive: true });
  const registry = townRegistry([...TOWN_A, ...TOWN_B]);
  for (const d of registry.devices) if (B_EUIS.includes(d.devEui)) d.tenant = B;
  registry.tenants.push({ id: B, name: 'Commune B', lnsTenants: ['Commune B'], applications: [] });
  registry.apiKeys = [
    { id: keys.aViewer.id, name: 'mairie A lecture', role: 'viewer', tenants: [A], hash: keys.aViewer.hash },
    { id: keys.aOperator.id, name: 'astreinte A', role: 'operator', tenants: [A], hash: keys.aOperator.hash },
    { id: keys.aAdmin.id, name: 'admin A', role: 'admin', tenants: [A], hash: keys.aAdmin.hash },
    { id: keys.bOperator.id, name: 'astreinte B', role: 'operator', tenants: [B], hash: keys.bOperator.hash },
    { id: keys.root.id, name: 'agglomération', role: 'admin', tenants: ['*'], hash: keys.root.hash },
    { id: keys.spare.id, name: 'réserve A', role: 'viewer', tenants: [A], hash: keys.spare.hash },
  ];
  configFile = join(stack.dir, 'veilleur.yaml');
  writeFileSync(configFile, stringify(registry));
  await startService();
  const end = new Date();
  const uplinks = [...generateUplinks({ start: new Date(end.getTime() - 26 * HOUR), end, seed: 3, devices: [...TOWN_A, ...TOWN_B] })];
  await publishUplinks(uplinks, { url: stack.mqtt.url });
  await waitFor(async () => (await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink')) >= uplinks.length, 60_000, 'history stored');
  await sendLeak(leakA, 100_000, true);
  await sendLeak(leakB, 100_000, true);
  await openAlertOf(leakA, keys.aViewer);
  await openAlertOf(leakB, keys.bOperator);
}, 180_000);

afterAll(async () => {
  await service?.stop(2000);
  await stack?.close();
});

describe('what a tenant sees', () => {
  it('lists its own devices with last seen and radio, none of the other commune', async () => {
    const r = await call('GET', '/api/v1/devices', auth(keys.aViewer));
    expect(r.status).toBe(200);
    const devices = r.json() as { devEui: string; tenant: string; lastSeen: string | null; rssiDbm: number | null }[];
    expect(new Set(devices.map((d) => d.tenant))).toEqual(new Set([A]));
    expect(devices.map((d) => d.devEui).sort()).toEqual(TOWN_A.map((d) => d.devEui).sort());
    const meter = devices.find((d) => d.devEui === meterA.devEui)!;
    expect(Date.now() - Date.parse(meter.lastSeen!)).toBeLessThan(2 * HOUR);
    expect(meter.rssiDbm).toBeLessThan(0);
  });

  it('reads a water meter: last index, hourly and daily consumption in local time', async () => {
    const detail = await call('GET', `/api/v1/devices/${meterA.devEui}`, auth(keys.aViewer));
    expect(detail.status).toBe(200);
    const index = detail.json().lastReadings.find((x: { quantity: string }) => x.quantity === 'metering.water.total');
    expect(index).toMatchObject({ unit: 'L', channel: '' });
    expect(index.value).toBeGreaterThan(0);
    // The quantity names the readings endpoint takes are listed with the device, with the path to read them.
    const listed = detail.json().quantities as { quantity: string; unit: string; readings: string }[];
    expect(listed.find((q) => q.quantity === 'metering.water.total')).toMatchObject({ unit: 'L', readings: `/api/v1/devices/${meterA.devEui}/readings?quantity=metering.water.total` });
    expect((await call('GET', listed[0]!.readings, auth(keys.aViewer))).status).toBe(200);

    const to = new Date();
    const from = new Date(to.getTime() - 24 * HOUR);
    const hourly = await call('GET', `/api/v1/devices/${meterA.devEui}/readings?quantity=metering.water.total&aggregation=hourly&from=${from.toISOString()}&to=${to.toISOString()}`, auth(keys.aViewer));
    expect(hourly.status).toBe(200);
    const h = hourly.json();
    expect(h).toMatchObject({ unit: 'L', cumulative: true, aggregation: 'hourly', timeZone: 'Europe/Paris' });
    expect(h.points.length).toBeGreaterThanOrEqual(20);
    const total = h.points.reduce((s: number, p: { consumption: number }) => s + p.consumption, 0);
    expect(total).toBeGreaterThan(0);

    // The same volume read as raw indexes: last minus first, within the hour at each end.
    const raw = await call('GET', `/api/v1/devices/${meterA.devEui}/readings?quantity=metering.water.total&aggregation=raw&from=${new Date(from.getTime() - HOUR).toISOString()}&to=${to.toISOString()}`, auth(keys.aViewer));
    const values = raw.json().points.map((p: { value: number }) => p.value);
    expect(values.at(-1) - values[0]).toBeGreaterThanOrEqual(total * 0.9);

    const daily = await call('GET', `/api/v1/devices/${meterA.devEui}/readings?quantity=metering.water.total&aggregation=daily&from=${from.toISOString()}&to=${to.toISOString()}`, auth(keys.aViewer));
    const days = daily.json().points as { time: string }[];
    expect(days.length).toBeGreaterThanOrEqual(1);
    // Daily buckets start at local midnight in Paris: 23:00 or 22:00 UTC.
    for (const d of days) expect(new Date(d.time).getUTCHours()).toBeOneOf([22, 23]);
  });

  it('exports readings and daily totals as CSV with exactly the documented columns', async () => {
    const documented = (section: string) => {
      const doc = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
      const part = doc.slice(doc.indexOf(`### \`${section}\``));
      const table = part.slice(0, part.indexOf('\n\n', part.indexOf('| column')));
      return [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    };
    expect(documented('readings.csv')).toEqual([...READINGS_CSV_COLUMNS]);
    expect(documented('daily.csv')).toEqual([...DAILY_CSV_COLUMNS]);

    const raw = await call('GET', '/api/v1/export/readings.csv?site=mairie&quantity=air.temperature', auth(keys.aViewer));
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toContain('text/csv');
    const [header, ...rows] = raw.text.trimEnd().split('\r\n');
    expect(header!.split(',')).toEqual(documented('readings.csv'));
    expect(rows.length).toBeGreaterThan(20);
    for (const row of rows) {
      const c = row.split(',');
      expect(c).toHaveLength(READINGS_CSV_COLUMNS.length);
      expect(c[1]).toBe(A);
      expect(c[7]).toMatch(/^-?\d+(\.\d+)?$/);
      expect(c[8]).toBe('°C');
    }

    const daily = await call('GET', `/api/v1/export/daily.csv?site=mairie&quantity=metering.water.total&from=${new Date(Date.now() - 2 * 86_400_000).toISOString()}`, auth(keys.aViewer));
    const [dh, ...drows] = daily.text.trimEnd().split('\r\n');
    expect(dh!.split(',')).toEqual(documented('daily.csv'));
    expect(drows.length).toBeGreaterThan(0);
    for (const row of drows) expect(row).toMatch(/^\d{4}-\d{2}-\d{2},Europe\/Paris,saint-veilleur,mairie,[0-9a-f]{16},[^,]+,,metering\.water\.total,consumption,\d+(\.\d+)?,L$/);
  });

  it('serves the datacenter report of its server room as JSON and CSV', async () => {
    const q = `site=mairie&from=${new Date(Date.now() - 24 * HOUR).toISOString()}&to=${new Date().toISOString()}`;
    const json = await call('GET', `/api/v1/reports/datacenter?${q}`, auth(keys.aViewer));
    expect(json.status).toBe(200);
    const report = json.json();
    expect(report).toMatchObject({ tenant: A, site: 'mairie' });
    expect(report.pue).toBeGreaterThan(1.2);
    expect(report.pue).toBeLessThan(2.5);
    const csv = await call('GET', `/api/v1/reports/datacenter?${q}&format=csv`, auth(keys.aViewer));
    expect(csv.text.split(/\r?\n/)[0]).toBe('tenant,site,zone,from,to,metric,device,dev_eui,role,value,unit');
    expect(csv.text).toMatch(/\npue,|,pue,/);
  });

  it('serves the OpenAPI document at /docs with a key, and refuses it without', async () => {
    const doc = await call('GET', '/docs/json', auth(keys.aViewer));
    expect(doc.status).toBe(200);
    expect(doc.json()).toMatchObject({ openapi: expect.stringMatching(/^3\./), info: { title: 'Veilleur API' } });
    expect(Object.keys(doc.json().paths)).toContain('/api/v1/alerts/{id}/acknowledge');
    expect((await call('GET', '/docs')).status).toBe(401);
    expect((await call('GET', '/docs', auth(keys.aViewer))).status).toBe(200);
  });

  it('sends security headers and no CORS headers', async () => {
    const r = await fetch(`${url}/api/v1/whoami`, { headers: { ...auth(keys.aViewer), origin: 'https://evil.example' } });
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('strict-transport-security')).toContain('max-age=');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('alerts through the API', () => {
  it('an operator acknowledges and then resolves; a viewer may not; both survive a restart', async () => {
    const alert = await openAlertOf(leakA, keys.aOperator);
    expect(alert).toMatchObject({ state: 'open', severity: 'critical', rule: { id: 'W7' }, subject: { tenant: A, site: 'mairie' } });
    expect(alert.text).toContain("Présence d'eau");

    const denied = await call('POST', `/api/v1/alerts/${alert.id}/acknowledge`, auth(keys.aViewer), { comment: 'vu' });
    expect(denied.status).toBe(403);
    const ack = await call('POST', `/api/v1/alerts/${alert.id}/acknowledge`, auth(keys.aOperator), { comment: 'plombier prévenu' });
    expect(ack.status).toBe(200);
    expect(ack.json()).toMatchObject({ state: 'acknowledged', acknowledged: { by: 'astreinte A (aoperator01)', comment: 'plombier prévenu' } });
    expect((await call('POST', `/api/v1/alerts/${alert.id}/acknowledge`, auth(keys.aOperator), { comment: 'encore' })).status).toBe(409);

    // Restart: the acknowledgement comes back from the stored alert events.
    await waitFor(async () => (await queryRows(stack.influx, stack.db, `SELECT * FROM alert_event WHERE alert_id = '${alert.id}'`)).length >= 2, 10_000, 'acknowledgement stored');
    await service.stop(5000);
    await startService();
    await waitFor(
      async () => {
        const r = await call('GET', `/api/v1/alerts/${alert.id}`, auth(keys.aViewer));
        return r.status === 200 && r.json().state === 'acknowledged';
      },
      15_000,
      'acknowledged alert after restart',
    );
    // Still wet after the restart: the same alert, not a second one.
    await sendLeak(leakA, 100_001, true);
    // The stream rules ran on that uplink before it was spooled: once it is in InfluxDB, a second alert would be in the book.
    await waitFor(async () => (await queryRows(stack.influx, stack.db, `SELECT f_cnt FROM uplink WHERE dev_eui = '${leakA.devEui}' AND f_cnt = 100001`)).length === 1, 15_000, 'the wet uplink after the restart stored');
    const active = (await call('GET', '/api/v1/alerts?rule=W7', auth(keys.aViewer))).json().filter((a: any) => a.subject.devEui === leakA.devEui);
    expect(active.map((a: any) => a.id)).toEqual([alert.id]);

    const resolved = await call('POST', `/api/v1/alerts/${alert.id}/resolve`, auth(keys.aOperator), { comment: 'fuite réparée' });
    expect(resolved.status).toBe(200);
    expect(resolved.json()).toMatchObject({ state: 'resolved', resolved: { by: 'astreinte A (aoperator01)', comment: 'fuite réparée' } });
    await waitFor(async () => (await queryRows(stack.influx, stack.db, `SELECT * FROM alert_event WHERE alert_id = '${alert.id}'`)).length >= 3, 10_000, 'resolution stored');
    const events = await queryRows(stack.influx, stack.db, `SELECT * FROM alert_event WHERE alert_id = '${alert.id}'`);
    expect(events.map((e) => e.event)).toEqual(['opened', 'acknowledged', 'resolved']);
    const history = (await call('GET', '/api/v1/alerts?state=resolved&rule=W7', auth(keys.aViewer))).json();
    expect(history.map((a: any) => a.id)).toContain(alert.id);
  }, 60_000);

  it('serves the rule catalogue with sources and runs a backtest', async () => {
    const rules = (await call('GET', '/api/v1/rules', auth(keys.aViewer))).json() as { id: string; source: { reference: string } }[];
    for (const id of ['W1', 'W7', 'E4', 'D2', 'S1']) expect(rules.find((r) => r.id === id)?.source.reference).toBeTruthy();
    const from = new Date(Date.now() - 24 * HOUR).toISOString();
    const bt = await call('POST', '/api/v1/rules/W1/backtest', auth(keys.aOperator), { from, to: new Date().toISOString(), stepHours: 6 });
    expect(bt.status).toBe(200);
    expect(Array.isArray(bt.json())).toBe(true);
    expect((await call('POST', '/api/v1/rules/W1/backtest', auth(keys.aViewer), { from, to: new Date().toISOString() })).status).toBe(403);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Suites generated from the route table and the OpenAPI document.

interface Operation {
  method: string;
  path: string;
  params: { name: string; in: 'path' | 'query'; required: boolean; schema: any }[];
  body?: { properties: Record<string, any>; required: string[] };
}

async function operations(): Promise<Operation[]> {
  const doc = (await call('GET', '/docs/json', auth(keys.root))).json();
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(methods)) {
      const body = op.requestBody?.content?.['application/json']?.schema;
      ops.push({ method: method.toUpperCase(), path, params: op.parameters ?? [], ...(body ? { body: { properties: body.properties ?? {}, required: body.required ?? [] } } : {}) });
    }
  }
  return ops;
}

interface Ids {
  devEui: string;
  alertId: string;
  tenant?: string;
  /** An API key id (key management routes). */
  keyId: string;
}

/** A valid value for a parameter, by name: the suites then change one thing at a time. */
function validValue(name: string, schema: any, ids: Ids): unknown {
  const now = Date.now();
  const values: Record<string, unknown> = {
    devEui: ids.devEui,
    id: ids.alertId,
    rule: 'W1',
    site: 'mairie',
    quantity: 'metering.water.total',
    from: new Date(now - 24 * HOUR).toISOString(),
    to: new Date(now).toISOString(),
    comment: 'essai',
    stepHours: 24,
    keyId: ids.keyId,
    name: 'essai',
  };
  if (name === 'tenant') return ids.tenant;
  if (name === 'tenants') return ids.tenant ? [ids.tenant] : undefined;
  // Grafana's read path (/grafana/query): a dashboard-shaped statement naming the attempt's commune and DevEUI.
  if (name === 'q') return `SELECT count("f_cnt") FROM "uplink" WHERE time >= ${now - 24 * HOUR}ms and time <= ${now}ms AND "tenant" =~ /^${ids.tenant ?? '.*'}$/ AND "dev_eui" = '${ids.devEui}' GROUP BY "device"`;
  if (name in values) return values[name];
  if (schema?.enum) return schema.enum[0];
  return undefined;
}

function buildRequest(op: Operation, ids: Ids, override: Record<string, unknown> = {}): { path: string; body?: Record<string, unknown> } {
  let path = op.path;
  const query = new URLSearchParams();
  for (const p of op.params) {
    const v = p.name in override ? override[p.name] : validValue(p.name, p.schema, ids);
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(String(v)));
    else if (v !== undefined && (p.required || p.name in override || p.name === 'tenant')) query.set(p.name, String(v));
  }
  const qs = query.toString();
  if (!op.body) return { path: qs ? `${path}?${qs}` : path };
  const body: Record<string, unknown> = {};
  for (const name of Object.keys(op.body.properties)) {
    const v = name in override ? override[name] : validValue(name, op.body.properties[name], ids);
    if (v !== undefined && (op.body.required.includes(name) || name in override || name === 'tenant' || name === 'tenants')) body[name] = v;
  }
  return { path: qs ? `${path}?${qs}` : path, body };
}

describe('tenant isolation (generated from the route table)', () => {
  it('no key of commune A reads or changes anything of commune B, on any endpoint', async () => {
    const bAlert = await openAlertOf(leakB, keys.bOperator);
    // B's commune, devices, alert and key; keys created meanwhile are cut out first (their random secrets could hold '-b"').
    const leaks = (text: string) =>
      [B, ...B_EUIS, bAlert.id, '-b"', '-b,', keys.bOperator.id, 'astreinte B'].filter((marker) => text.replace(/vk_[a-z0-9]{8,32}_[A-Za-z0-9_-]{43}/g, 'vk_').includes(marker));
    let attempts = 0;
    let refused = 0;
    const failures: string[] = [];
    const ops = await operations();
    const routes = service.routes().filter((r) => !r.public && r.url.startsWith('/api/'));
    // Every API route is in the OpenAPI document: the suite covers the whole route table.
    for (const r of routes) expect(ops.some((o) => o.method === r.method && o.path === r.url.replace(/:(\w+)/g, '{$1}'))).toBe(true);

    for (const op of ops) {
      for (const key of [keys.aViewer, keys.aOperator, keys.aAdmin]) {
        // B's identifiers everywhere, B named as tenant, and A's own view (which must not contain B either).
        const variants = [
          buildRequest(op, { devEui: leakB.devEui, alertId: bAlert.id, tenant: B, keyId: keys.bOperator.id }),
          buildRequest(op, { devEui: leakB.devEui, alertId: bAlert.id, keyId: keys.bOperator.id }),
          buildRequest(op, { devEui: leakA.devEui, alertId: bAlert.id, keyId: keys.bOperator.id }),
        ];
        for (const v of variants) {
          attempts++;
          const r = await call(op.method, v.path, auth(key), v.body);
          const leaked = r.status < 300 ? leaks(r.text) : [];
          if (leaked.length === 0) refused++;
          else failures.push(`${op.method} ${v.path} ${JSON.stringify(v.body ?? {})} → ${r.status} leaks ${leaked.join(', ')}`);
        }
      }
    }
    // B's alert is untouched by A's acknowledge and resolve attempts, and B's key by A's revoke and rotate attempts.
    const after = await call('GET', `/api/v1/alerts/${bAlert.id}`, auth(keys.bOperator));
    expect(after.status).toBe(200);
    expect(after.json()).toMatchObject({ state: 'open', acknowledged: null, resolved: null });
    // The audit trail is one of the operations above, and what A's admin reads of it is A's actions, none of B's.
    expect(ops.some((o) => o.method === 'GET' && o.path === '/api/v1/audit')).toBe(true);
    let trail = '';
    await waitFor(async () => (trail = (await call('GET', '/api/v1/audit?pageSize=1000', auth(keys.aAdmin))).text).includes(`"tenant":"${A}"`), 10_000, "A's audit records");
    expect(leaks(trail)).toEqual([]);
    console.log(`[isolation] ${ops.length} operations, ${attempts} cross-tenant attempts, ${refused} refused or filtered, ${failures.length} leaks`);
    expect(failures).toEqual([]);
    expect(refused).toBe(attempts);
    expect(attempts).toBeGreaterThanOrEqual(ops.length * 9);
  }, 120_000);
});

describe('authentication and roles (generated from the route table)', () => {
  it('refuses every protected route without a key, with a bad key, and with a role too low', async () => {
    const routes = service.routes().filter((r) => !r.public);
    expect(routes.length).toBeGreaterThan(15);
    const fill = (u: string) =>
      u.replace(':devEui', leakA.devEui).replace(':keyId', keys.spare.id).replace(':id', '00000000-0000-0000-0000-000000000000').replace(':rule', 'W1').replace('*', 'index.html').replace(/:[a-z]+/gi, 'x');
    const forged = `vk_${keys.aAdmin.id}_${'A'.repeat(43)}`;
    let checked = 0;
    for (const r of routes) {
      const path = fill(r.url);
      const body = r.method === 'POST' ? {} : undefined;
      if (r.console) {
        // Console pages and forms take a session, never a key (even a valid one): without one, the sign-in page.
        for (const headers of [{}, { authorization: `Bearer ${forged}` }, auth(keys.root)]) {
          const res = await fetch(url + path, { method: r.method, headers, redirect: 'manual' });
          expect(res.status, `${r.method} ${r.url} without a session`).toBe(303);
          expect(res.headers.get('location'), `${r.method} ${r.url}`).toMatch(/^\/connexion/);
          checked++;
        }
        continue;
      }
      expect((await call(r.method, path, {}, body)).status, `${r.method} ${r.url} without key`).toBe(401);
      expect((await call(r.method, path, { authorization: `Bearer ${forged}` }, body)).status, `${r.method} ${r.url} forged key`).toBe(401);
      expect((await call(r.method, path, { 'x-api-key': 'not-a-key' }, body)).status, `${r.method} ${r.url} malformed key`).toBe(401);
      checked += 3;
      const lower = r.role === 'admin' ? [keys.aViewer, keys.aOperator] : r.role === 'operator' ? [keys.aViewer] : [];
      if (r.instanceWide) lower.push(keys.aAdmin);
      for (const k of lower) {
        expect((await call(r.method, path, auth(k), body)).status, `${r.method} ${r.url} with ${k.id}`).toBe(403);
        checked++;
      }
    }
    console.log(`[auth] ${routes.length} protected routes, ${checked} refused requests checked`);
    // The keys presented never reach the log.
    const log = readFileSync(logFile(), 'utf8');
    for (const k of Object.values(keys)) expect(log).not.toContain(k.key.slice(-43));
    expect(log).not.toContain('A'.repeat(43));
  }, 60_000);

  it('rate-limits a client that sends too many requests', async () => {
    const { app } = await buildHttpServer({
      log: pino({ level: 'silent' }, { write: () => undefined }),
      metrics: createMetrics(),
      readiness: { mqttConnected: () => true, influxReachable: async () => true, spool: () => ({ bytes: 0, maxBytes: 1, full: false }), draining: () => false },
      api: {
        keys: new KeyRing([{ id: keys.aViewer.id, name: 'a', role: 'viewer', tenants: [A], hash: keys.aViewer.hash }]),
        influx: service.influx,
        registry: townRegistry(),
        defaultTenant: 'default',
        options: { docsPublic: false, metricsPublic: false, rateLimitPerMinute: 5, corsOrigins: [] },
      },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await app.inject({ method: 'GET', url: '/api/v1/whoami', headers: auth(keys.aViewer) })).statusCode);
    const limited = await app.inject({ method: 'GET', url: '/api/v1/whoami', headers: auth(keys.aViewer) });
    await app.close();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(limited.json()).toMatchObject({ statusCode: 429, error: 'too_many_requests' });
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('answers health and readiness without a key', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect([200, 503]).toContain((await call('GET', '/readyz')).status);
  });
});

describe('malformed input (generated from the OpenAPI document)', () => {
  it('answers 400 with the parameter named, and never sends the text to InfluxDB', async () => {
    const markers = ['DROP', 'OR 1=1', '/.*/', 'x'.repeat(5000)];
    const bad: unknown[] = ["' OR 1=1 --", "mairie' OR \"tenant\" =~ /.*/ --", '"; DROP MEASUREMENT uplink; --', 'x'.repeat(5000), 12345.678e300, -1, true, ['a', 'b'], { $ne: 1 }];
    const ops = await operations();
    let requests = 0;
    const failures: string[] = [];
    sentQueries.length = 0;
    for (const op of ops) {
      const fields = [...op.params.map((p) => ({ name: p.name, schema: p.schema })), ...Object.entries(op.body?.properties ?? {}).map(([name, schema]) => ({ name, schema }))];
      for (const f of fields) {
        // Free text (a comment, a reason) is stored as a string field, never put in a query: only its length is bounded.
        const values = f.name === 'comment' || f.name === 'reason' || f.name === 'name' ? ['x'.repeat(5000), 42, ''] : bad;
        for (const value of values) {
          const inQuery = op.params.some((p) => p.name === f.name);
          // A query string carries text only; in a JSON body every wrong type is tried.
          if (inQuery && typeof value !== 'string') continue;
          const req = buildRequest(op, { devEui: leakA.devEui, alertId: '00000000-0000-0000-0000-000000000000', tenant: A, keyId: keys.spare.id }, { [f.name]: value });
          const r = await call(op.method, req.path, auth(keys.root), req.body);
          requests++;
          // The router refuses a path parameter over 100 characters before any handler: 414 URI Too Long.
          const tooLongPath = op.params.some((p) => p.name === f.name && p.in === 'path') && String(value).length > 100;
          if (tooLongPath && r.status === 414) continue;
          if (r.status !== 400) failures.push(`${op.method} ${op.path} ${f.name}=${JSON.stringify(value).slice(0, 40)} → ${r.status}`);
          else if (!r.json().message.includes(f.name)) failures.push(`${op.method} ${op.path} ${f.name}: message does not name it: ${r.json().message}`);
        }
      }
    }
    console.log(`[malformed] ${requests} malformed requests over ${ops.length} operations, ${sentQueries.length} InfluxDB queries sent meanwhile`);
    expect(failures).toEqual([]);
    for (const q of sentQueries) for (const m of markers) expect(q).not.toContain(m);
    // Unknown parameters and an oversized body are refused too.
    expect((await call('GET', '/api/v1/devices?tenant=saint-veilleur&evil=1', auth(keys.root))).status).toBe(400);
    expect((await call('POST', '/api/v1/admin/redecode', auth(keys.root), JSON.stringify({ pad: 'x'.repeat(200_000) }))).status).toBe(413);
    expect((await call('POST', '/api/v1/admin/redecode', auth(keys.root), '{not json')).status).toBe(400);
    // Nothing of the above revoked or rotated the key named in the key routes.
    expect((await call('GET', '/api/v1/whoami', auth(keys.spare))).status).toBe(200);
  }, 120_000);
});
