/**
 * The API's defences as the HTTP layer applies them (services/api/app.ts, auth.ts, throttle.ts, routes/keys.ts),
 * with an InfluxDB stand-in: throttling before authentication per client address (behind a trusted proxy too), a
 * stricter budget for failed authentications, one log line per refusal and never the key, security headers on the
 * HTTP parser's own 400 and 431, the heavy-request slots, and key management through the API (a key created works
 * at once, a revoked one is refused at once, both survive a restart, a change by another process counts at once).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { clientErrorHandler, frameworkErrors, registerApi, SECURITY_HEADERS, trustProxyOption } from '../../services/api/app.ts';
import type { ApiDeps, ApiOptions } from '../../services/api/deps.ts';
import { generateKey, KeyRing, KeyStore, KeyStoreError, type ApiKeyEntry } from '../../services/api/keys.ts';
import { fileSchema } from '../../services/config/schema.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import type { InfluxSeries } from '../../services/storage/influx.ts';

const A = 'saint-veilleur';
const B = 'agglo-sud';
const keys = {
  aViewer: generateKey('secaviewer1'),
  aAdmin: generateKey('secaadmin01'),
  bAdmin: generateKey('secbadmin01'),
  root: generateKey('secroot0001'),
};
const entries: ApiKeyEntry[] = [
  { id: keys.aViewer.id, name: 'lecture A', role: 'viewer', tenants: [A], hash: keys.aViewer.hash },
  { id: keys.aAdmin.id, name: 'DSI A', role: 'admin', tenants: [A], hash: keys.aAdmin.hash },
  { id: keys.bAdmin.id, name: 'DSI B', role: 'admin', tenants: [B], hash: keys.bAdmin.hash },
  { id: keys.root.id, name: 'agglomération', role: 'admin', tenants: ['*'], hash: keys.root.hash },
];
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

const dirs: string[] = [];
const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'veilleur-keys-'));
  dirs.push(d);
  return d;
}

interface Built {
  app: FastifyInstance;
  deps: ApiDeps;
  lines: Record<string, any>[];
}

async function build(opts: Partial<ApiOptions> = {}, more: { keys?: KeyRing; query?: (q: string) => Promise<InfluxSeries[]> } = {}): Promise<Built> {
  const lines: Record<string, any>[] = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const options: ApiOptions = { docsPublic: false, metricsPublic: false, rateLimitPerMinute: 10_000, corsOrigins: [], ...opts };
  const app = Fastify({ loggerInstance: log, clientErrorHandler, frameworkErrors, trustProxy: trustProxyOption(options.trustProxy) }) as unknown as FastifyInstance;
  const deps: ApiDeps = {
    keys: more.keys ?? new KeyRing(entries),
    influx: { query: more.query ?? (async () => []) },
    registry: townRegistry(),
    defaultTenant: 'default',
    options,
  };
  await registerApi(app, deps);
  await app.ready();
  apps.push(app);
  return { app, deps, lines };
}

const refusals = (lines: Record<string, any>[]) => lines.filter((l) => l.msg === 'request refused');

describe('throttling before authentication', () => {
  it('answers 429 to requests without a key past the per-address limit, and counts each address apart', async () => {
    const { app, lines } = await build({ rateLimitPerMinute: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await app.inject({ url: `/api/v1/devices?n=${i}`, remoteAddress: '192.0.2.10' })).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const limited = await app.inject({ url: '/api/v1/whoami', headers: bearer(keys.aViewer.key), remoteAddress: '192.0.2.10' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ statusCode: 429, error: 'too_many_requests' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await app.inject({ url: '/api/v1/whoami', headers: bearer(keys.aViewer.key), remoteAddress: '192.0.2.11' })).statusCode).toBe(200);
    // One line per refused request, with its address, status and route.
    const logged = refusals(lines);
    expect(logged).toHaveLength(8);
    expect(logged.map((l) => l.status)).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(new Set(logged.map((l) => l.ip))).toEqual(new Set(['192.0.2.10']));
    expect(logged[0]).toMatchObject({ route: '/api/v1/devices', path: '/api/v1/devices', method: 'GET' });
    expect(logged[7]).toMatchObject({ keyId: null, reason: expect.stringContaining('rate limit') });
  });

  it('refuses an address after repeated failed authentications, even with a valid key, and never logs a key', async () => {
    const { app, lines } = await build({ authFailuresPer15Min: 3 });
    const forged = `vk_${keys.aAdmin.id}_${'Q'.repeat(43)}`;
    const from = (key: string, remoteAddress = '198.51.100.7') => app.inject({ url: '/api/v1/whoami', headers: bearer(key), remoteAddress });
    expect([(await from(forged)).statusCode, (await from('nonsense')).statusCode, (await from(forged)).statusCode]).toEqual([401, 401, 401]);
    const blocked = await from(keys.aViewer.key);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().message).toContain('failed authentications');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(800);
    // Requests without a key are not failed authentications; another address is not affected.
    expect((await from(keys.aViewer.key, '198.51.100.8')).statusCode).toBe(200);
    const logged = refusals(lines);
    expect(logged).toHaveLength(4);
    expect(logged[0]).toMatchObject({ status: 401, keyId: keys.aAdmin.id, ip: '198.51.100.7' });
    expect(logged[1]).toMatchObject({ status: 401, keyId: null });
    expect(logged[3]).toMatchObject({ status: 429, keyId: keys.aViewer.id });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('Q'.repeat(43));
    expect(text).not.toContain(keys.aViewer.key.slice(-43));
  });

  it('takes the client address from X-Forwarded-For only when the proxy is trusted', async () => {
    const trusted = await build({ rateLimitPerMinute: 2, trustProxy: ['127.0.0.1'] });
    const via = (app: FastifyInstance, client: string) => app.inject({ url: '/api/v1/whoami', headers: { ...bearer(keys.aViewer.key), 'x-forwarded-for': client } });
    expect([(await via(trusted.app, '203.0.113.1')).statusCode, (await via(trusted.app, '203.0.113.1')).statusCode, (await via(trusted.app, '203.0.113.1')).statusCode]).toEqual([200, 200, 429]);
    expect((await via(trusted.app, '203.0.113.2')).statusCode).toBe(200);
    expect(refusals(trusted.lines)[0]).toMatchObject({ ip: '203.0.113.1', status: 429 });

    // Not trusted: a client cannot pick a new address per request to escape the limit.
    const direct = await build({ rateLimitPerMinute: 2 });
    const statuses = [];
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) statuses.push((await via(direct.app, client)).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
    expect(refusals(direct.lines)[0]).toMatchObject({ ip: '127.0.0.1' });
  });
});

describe('refusals', () => {
  it('logs a 403 once, whether the auth hook or the route refuses, with the key id', async () => {
    const { app, lines } = await build();
    const low = await app.inject({ method: 'POST', url: '/api/v1/keys', headers: bearer(keys.aViewer.key), payload: {} });
    expect(low.statusCode).toBe(403);
    const other = await app.inject({ url: `/api/v1/devices?tenant=${B}`, headers: bearer(keys.aViewer.key) });
    expect(other.statusCode).toBe(403);
    const logged = refusals(lines);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ status: 403, keyId: keys.aViewer.id, route: '/api/v1/keys', reason: expect.stringContaining('admin role') });
    expect(logged[1]).toMatchObject({ status: 403, keyId: keys.aViewer.id, route: '/api/v1/devices', reason: expect.stringContaining(B) });
    expect(new Set(logged.map((l) => l.reqId)).size).toBe(2);
  });

  it("gives the HTTP parser's and the router's own 400, 414 and 431 the security headers of every other answer, and logs them", async () => {
    const { app, lines } = await build();
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const port = Number(new URL(address).port);
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const s = connect(port, '127.0.0.1', () => s.write(request));
        s.on('data', (c) => chunks.push(c));
        s.on('error', (err) => (chunks.length ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(err)));
        s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      });
    const headersOf = (response: string) => Object.fromEntries(response.split('\r\n\r\n')[0]!.split('\r\n').slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));

    const normal = await fetch(`${address}/api/v1/whoami`);
    expect(normal.status).toBe(401);
    const bad = await raw('NOT AN HTTP REQUEST\r\n\r\n');
    const huge = await raw(`GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(bad.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect(huge.startsWith('HTTP/1.1 431 ')).toBe(true);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      expect(normal.headers.get(name), name).toBe(value);
      expect(headersOf(bad)[name], name).toBe(value);
      expect(headersOf(huge)[name], name).toBe(value);
    }
    // Every security header of a normal answer is in the list (helmet adding one would show here).
    const plumbing = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'www-authenticate', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']);
    expect([...normal.headers.keys()].filter((h) => !plumbing.has(h)).sort()).toEqual(Object.keys(SECURITY_HEADERS).sort());
    expect(JSON.parse(huge.split('\r\n\r\n')[1]!)).toMatchObject({ statusCode: 431, error: 'request_header_fields_too_large' });
    // The router's own answers (before any hook): a URL that does not decode, a path parameter too long.
    const badUrl = await fetch(`${address}/api/v1/%E0%A4%A`);
    const longParam = await fetch(`${address}/api/v1/devices/${'a'.repeat(200)}`);
    expect([badUrl.status, longParam.status]).toEqual([400, 414]);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      expect(badUrl.headers.get(name), name).toBe(value);
      expect(longParam.headers.get(name), name).toBe(value);
    }
    expect(await longParam.json()).toMatchObject({ statusCode: 414, error: 'uri_too_long' });
    expect(refusals(lines).map((l) => l.status)).toEqual([401, 400, 431, 400, 414]);
  });
});

describe('heavy requests', () => {
  it('runs at most the configured number at once and answers 503 with Retry-After beyond', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let queries = 0;
    const { app, lines } = await build({ heavyConcurrency: 2 }, { query: async () => (queries++, await gate, []) });
    const yearly = () => app.inject({ url: `/api/v1/reports/yearly?tenant=${A}&year=2025&format=json`, headers: bearer(keys.root.key) });
    const first = yearly();
    const second = yearly();
    // Both are inside their handler (querying) before the third arrives.
    for (let i = 0; i < 200 && queries < 2; i++) await new Promise((r) => setImmediate(r));
    const third = await yearly();
    expect(third.statusCode).toBe(503);
    expect(third.json()).toMatchObject({ error: 'busy' });
    expect(third.headers['retry-after']).toBe('10');
    // A light request is not held.
    expect((await app.inject({ url: '/api/v1/whoami', headers: bearer(keys.root.key) })).statusCode).toBe(200);
    open();
    expect((await first).statusCode).toBe(200);
    expect((await second).statusCode).toBe(200);
    expect((await yearly()).statusCode).toBe(200);
    expect(refusals(lines)).toHaveLength(1);
  });
});

describe('key management through the API', () => {
  const ringIn = (dir: string, config: ApiKeyEntry[] = entries) => new KeyRing(config, { store: KeyStore.inDataDir(dir) });

  it('creates a key that works at once, revokes it at once, and both survive a restart', async () => {
    const dir = tempDir();
    const { app, deps } = await build({}, { keys: ringIn(dir) });
    const created = await app.inject({ method: 'POST', url: '/api/v1/keys', headers: bearer(keys.aAdmin.key), payload: { name: 'Grafana mairie', role: 'viewer' } });
    expect(created.statusCode).toBe(201);
    const made = created.json();
    expect(made).toMatchObject({ name: 'Grafana mairie', role: 'viewer', tenants: [A], source: 'store', state: 'active', createdBy: `DSI A (${keys.aAdmin.id})` });
    expect(made.key).toMatch(/^vk_[a-z0-9]+_/);
    const who = await app.inject({ url: '/api/v1/whoami', headers: bearer(made.key) });
    expect(who.statusCode).toBe(200);

    const kept = await app.inject({ method: 'POST', url: '/api/v1/keys', headers: bearer(keys.root.key), payload: { name: 'astreinte', role: 'operator', tenants: [A, B] } });
    expect(kept.statusCode).toBe(201);

    const revoked = await app.inject({ method: 'POST', url: `/api/v1/keys/${made.id}/revoke`, headers: bearer(keys.aAdmin.key) });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ state: 'revoked', revoked: { by: `DSI A (${keys.aAdmin.id})` } });
    expect((await app.inject({ url: '/api/v1/whoami', headers: bearer(made.key) })).statusCode).toBe(401);
    // A console session holding the key id ends with it.
    expect(deps.keys.principalById(made.id)).toBeUndefined();

    // Restart: a new ring over the same store and configuration.
    const again = ringIn(dir);
    expect(again.authenticate(made.key)).toBeUndefined();
    expect(again.authenticate(kept.json().key)).toMatchObject({ keyId: kept.json().id, role: 'operator' });
    expect(again.list().find((k) => k.id === made.id)).toMatchObject({ state: 'revoked', name: 'Grafana mairie' });
  });

  it("keeps a commune's admin to its commune's keys", async () => {
    const { app } = await build({}, { keys: ringIn(tempDir()) });
    const post = (key: string, payload: unknown) => app.inject({ method: 'POST', url: '/api/v1/keys', headers: bearer(key), payload: payload as object });
    expect((await post(keys.aAdmin.key, { name: 'x', role: 'admin', tenants: [B] })).statusCode).toBe(403);
    expect((await post(keys.aAdmin.key, { name: 'x', role: 'admin', tenants: ['*'] })).statusCode).toBe(403);
    const unknown = await post(keys.root.key, { name: 'x', role: 'viewer', tenants: ['nulle-part'] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toContain('body/tenants');
    expect((await post(keys.root.key, { name: 'x', role: 'viewer' })).statusCode).toBe(400);
    expect((await post(keys.root.key, { name: 'x', role: 'viewer', expires: '2020-01-01T00:00:00Z' })).statusCode).toBe(400);
    const both = (await post(keys.root.key, { name: 'deux communes', role: 'viewer', tenants: [A, B] })).json();

    const listed = (await app.inject({ url: '/api/v1/keys', headers: bearer(keys.aAdmin.key) })).json() as { id: string; hash?: string }[];
    expect(listed.map((k) => k.id).sort()).toEqual([keys.aAdmin.id, keys.aViewer.id].sort());
    expect(listed.every((k) => k.hash === undefined)).toBe(true);
    const all = (await app.inject({ url: '/api/v1/keys', headers: bearer(keys.root.key) })).json() as { id: string }[];
    expect(all.map((k) => k.id)).toEqual(expect.arrayContaining([keys.root.id, keys.bAdmin.id, both.id]));
    expect((await app.inject({ url: `/api/v1/keys?tenant=${B}`, headers: bearer(keys.aAdmin.key) })).statusCode).toBe(403);

    // Another commune's key, a key shared with another commune, an instance-wide key: "not found", unchanged.
    for (const id of [keys.bAdmin.id, both.id, keys.root.id]) {
      expect((await app.inject({ method: 'POST', url: `/api/v1/keys/${id}/revoke`, headers: bearer(keys.aAdmin.key) })).statusCode).toBe(404);
      expect((await app.inject({ method: 'POST', url: `/api/v1/keys/${id}/rotate`, headers: bearer(keys.aAdmin.key), payload: {} })).statusCode).toBe(404);
    }
    expect((await app.inject({ url: '/api/v1/whoami', headers: bearer(keys.bAdmin.key) })).statusCode).toBe(200);
  });

  it('rotates a key: the new one works at once, the old one until the end of its grace period', async () => {
    const dir = tempDir();
    const { app } = await build({}, { keys: ringIn(dir) });
    const rotate = (id: string, graceHours: number) => app.inject({ method: 'POST', url: `/api/v1/keys/${id}/rotate`, headers: bearer(keys.root.key), payload: { graceHours } });
    const r = await rotate(keys.aViewer.id, 2);
    expect(r.statusCode).toBe(201);
    const body = r.json();
    expect(body).toMatchObject({ name: 'lecture A', role: 'viewer', tenants: [A], rotatedFrom: keys.aViewer.id, replaced: { id: keys.aViewer.id, source: 'config', state: 'active' } });
    expect(Date.parse(body.replaced.expires) - Date.now()).toBeGreaterThan(1.9 * 3_600_000);
    expect((await app.inject({ url: '/api/v1/whoami', headers: bearer(body.key) })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/whoami', headers: bearer(keys.aViewer.key) })).statusCode).toBe(200);
    // At once (no grace): the configuration's key is refused now and after a restart, though the file still lists it.
    expect((await rotate(body.id, 0)).statusCode).toBe(201);
    expect((await app.inject({ url: '/api/v1/whoami', headers: bearer(body.key) })).statusCode).toBe(401);
    expect((await rotate(keys.aAdmin.id, 0)).statusCode).toBe(201);
    expect(ringIn(dir).authenticate(keys.aAdmin.key)).toBeUndefined();
    expect(ringIn(dir).authenticate(keys.aViewer.key)).toBeDefined();
    expect((await rotate(keys.aAdmin.id, 0)).statusCode).toBe(409);
  });

  it('keeps the expiry of a rotated key on its successor', async () => {
    const ring = ringIn(tempDir());
    const expires = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const first = await ring.create({ name: 'prestataire', role: 'operator', tenants: [A], expires }, 'test');
    const next = await ring.rotate(first.view.id, 'test', 3_600_000);
    expect(next.view.expires).toBe(expires);
    expect(Date.parse(next.old.expires!) - Date.now()).toBeLessThanOrEqual(3_600_000);
  });

  it('applies a change made by another process (the CLI) from the next request on', async () => {
    const dir = tempDir();
    const { app } = await build({}, { keys: ringIn(dir) });
    const cli = ringIn(dir);
    const made = await cli.create({ name: 'script', role: 'viewer', tenants: [A] }, 'CLI test');
    expect((await app.inject({ url: '/api/v1/whoami', headers: bearer(made.key) })).statusCode).toBe(200);
    await ringIn(dir).revoke(made.view.id, 'CLI test');
    expect((await app.inject({ url: '/api/v1/whoami', headers: bearer(made.key) })).statusCode).toBe(401);
    await cli.revoke(keys.bAdmin.id, 'CLI test');
    expect((await app.inject({ url: '/api/v1/whoami', headers: bearer(keys.bAdmin.key) })).statusCode).toBe(401);
  });

  it('records when a key was last used, across a restart', async () => {
    const dir = tempDir();
    const ring = ringIn(dir);
    expect(ring.list().find((k) => k.id === keys.aViewer.id)?.lastUsed).toBeNull();
    const at = new Date('2026-12-01T10:00:00Z');
    ring.authenticate(keys.aViewer.key, at);
    ring.flushUsage();
    expect(ringIn(dir).list().find((k) => k.id === keys.aViewer.id)?.lastUsed).toBe(at.toISOString());
  });
});

describe('key ids', () => {
  it('refuses a key id given twice in the configuration, naming both entries', () => {
    const parsed = fileSchema.safeParse({ apiKeys: [entries[0], entries[1], { ...entries[3], id: keys.aViewer.id }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]).toMatchObject({ path: ['apiKeys', 2, 'id'] });
    expect(parsed.error!.issues[0]!.message).toBe(`key id '${keys.aViewer.id}' (name 'agglomération') is already the id of apiKeys[0] (name 'lecture A'): each key needs its own id`);
  });

  it('refuses a key id both in the configuration and in the key store, naming both', async () => {
    const dir = tempDir();
    const made = await new KeyRing([], { store: KeyStore.inDataDir(dir) }).create({ name: 'créée par la CLI', role: 'viewer', tenants: [A], id: 'dupliquee1' }, 'test');
    const config = [{ ...entries[0]!, id: made.view.id, name: 'collée dans le YAML' }];
    expect(() => new KeyRing(config, { store: KeyStore.inDataDir(dir), configFile: '/etc/veilleur.yaml' })).toThrow(KeyStoreError);
    expect(() => new KeyRing(config, { store: KeyStore.inDataDir(dir), configFile: '/etc/veilleur.yaml' })).toThrow(
      /key id 'dupliquee1' is in the configuration file \/etc\/veilleur\.yaml \(apiKeys, name 'collée dans le YAML'\) and in the key store .*api-keys\.json \(name 'créée par la CLI'/,
    );
  });
});
