import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { KeyRing, KeyStore } from '../../services/api/keys.js';
import { emptyStoreState, mergeStoreStates, parseStoreState, type StoreState } from '../../services/api/key-store.js';
import { SharedKeyStore } from '../../services/cluster/shared-keys.js';
import { SharedSessions } from '../../services/cluster/shared-sessions.js';
import { SessionStore, SHARED_TOUCH_MS } from '../../services/console/session.js';
import { generateKey } from '../../services/api/keys.js';
import { scaledTown, townRegistry } from '../../services/simulator/town.js';
import { privateNats, Replica, startClusterStack, writeClusterConfig, type ClusterStack } from './cluster-support.js';
import { waitFor } from './support.js';

// Issue 17: the state two replicas must share in cluster mode — API keys and console sessions — through a real
// nats-server (JetStream, file storage), each "replica" with its own connection and its own data directory.
const log = pino({ level: 'silent' });
/** A change made on one replica must be in force on the others within a second (the watch delivers it). */
const PROPAGATION_MS = 1000;

const nats = privateNats('veilleur-shared-');
const stops: (() => unknown)[] = [];

beforeAll(async () => {
  await nats.start();
});

afterAll(async () => {
  for (const stop of stops) await stop();
  await nats.stop();
});

async function conn(): Promise<NatsConnection> {
  // Reconnecting for ever, as the service's connection does (services/cluster/node.ts).
  return nats.connect({ maxReconnectAttempts: -1, reconnectTimeWait: 250 });
}

/** One replica's key ring, wired as services/service.ts does in cluster mode. */
async function replicaKeys(name: string, bucket: string, configKeys: ConstructorParameters<typeof KeyRing>[0] = []) {
  const file = KeyStore.inDataDir(join(nats.dir, name));
  const store = new SharedKeyStore<StoreState>({ cache: file, parse: parseStoreState, merge: mergeStoreStates, empty: emptyStoreState, log, bucket });
  const ring = new KeyRing(configKeys, { store });
  await store.attach(await conn());
  stops.push(() => store.stop());
  return { ring, store, file };
}

async function replicaSessions(bucket: string, limits = { idleMs: 2 * 3_600_000, absoluteMs: 12 * 3_600_000, max: 100 }) {
  const shared = new SharedSessions({ maxAgeMs: limits.absoluteMs, log, bucket });
  const sessions = new SessionStore(limits, shared);
  await shared.attach(await conn());
  stops.push(() => shared.stop());
  return { sessions, shared };
}

/** Elapsed time of a waitFor, to report how fast a change spread. */
async function timed(check: () => boolean, what: string): Promise<number> {
  const t0 = Date.now();
  await waitFor(async () => check(), PROPAGATION_MS, what);
  return Date.now() - t0;
}

describe('API keys shared by replicas through NATS', () => {
  it('a key created on one replica authenticates on the other; revoked on the other, it is refused on the first', async () => {
    const a = await replicaKeys('a', 'keys_one');
    const b = await replicaKeys('b', 'keys_one');
    const made = await a.ring.create({ name: 'Supervision mairie', role: 'operator', tenants: ['saint-veilleur'] }, 'test');
    expect(a.ring.authenticate(made.key)?.keyId).toBe(made.view.id);
    const spread = await timed(() => b.ring.authenticate(made.key)?.keyId === made.view.id, 'the new key on replica b');

    await b.ring.revoke(made.view.id, 'test');
    expect(b.ring.authenticate(made.key)).toBeUndefined();
    const revoked = await timed(() => a.ring.authenticate(made.key) === undefined, 'the revocation on replica a');
    expect(a.ring.find(made.view.id)?.state).toBe('revoked');
    expect(a.ring.find(made.view.id)?.revoked?.by).toBe('test');
    // Each replica's file is its cache of the shared state (used at its next start until NATS answers).
    await waitFor(async () => (KeyStore.inDataDir(join(nats.dir, 'a')).read().keys.find((k) => k.id === made.view.id)?.revoked?.by ?? '') === 'test', 2000, "replica a's cache file");
    console.log(`key created on a → usable on b after ≤ ${spread} ms; revoked on b → refused on a after ≤ ${revoked} ms`);
  });

  it('a rotation on one replica ends the old key on the other and starts the new one there', async () => {
    const a = await replicaKeys('a2', 'keys_rotate');
    const b = await replicaKeys('b2', 'keys_rotate');
    const old = await a.ring.create({ name: 'Grafana', role: 'viewer', tenants: ['*'] }, 'test');
    await timed(() => b.ring.authenticate(old.key) !== undefined, 'the key on b');
    const rotated = await b.ring.rotate(old.view.id, 'test', 0);
    await timed(() => a.ring.authenticate(old.key) === undefined && a.ring.authenticate(rotated.key)?.keyId === rotated.view.id, 'the rotation on a');
    expect(a.ring.find(rotated.view.id)?.rotatedFrom).toBe(old.view.id);
  });

  it('keys created at the same moment on both replicas are all kept (compare-and-set, retried)', async () => {
    const a = await replicaKeys('a3', 'keys_race');
    const b = await replicaKeys('b3', 'keys_race');
    const made = await Promise.all([
      ...[1, 2, 3, 4].map((i) => a.ring.create({ name: `a${i}`, role: 'viewer', tenants: ['*'] }, 'test')),
      ...[1, 2, 3, 4].map((i) => b.ring.create({ name: `b${i}`, role: 'viewer', tenants: ['*'] }, 'test')),
    ]);
    for (const ring of [a.ring, b.ring]) await timed(() => made.every((m) => ring.authenticate(m.key)?.keyId === m.view.id), 'all eight keys on both replicas');
    expect(a.ring.list().map((k) => k.name).sort()).toEqual(['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'b3', 'b4']);
  });

  it('a replica joining with its own key file adds its keys and revocations to the cluster; a duplicate id is refused everywhere', async () => {
    const first = await replicaKeys('a4', 'keys_join', [{ id: 'configkey01', name: 'Configuration', role: 'admin', tenants: ['*'], hash: `sha256:${'0'.repeat(64)}` }]);
    // A replica that ran alone before: its file holds a key and a revocation of a configuration key.
    const alone = new KeyRing([{ id: 'configkey01', name: 'Configuration', role: 'admin', tenants: ['*'], hash: `sha256:${'0'.repeat(64)}` }], { store: KeyStore.inDataDir(join(nats.dir, 'b4')) });
    const local = await alone.create({ name: 'Made alone', role: 'viewer', tenants: ['*'] }, 'test');
    await alone.revoke('configkey01', 'test');
    const joined = await replicaKeys('b4', 'keys_join', [{ id: 'configkey01', name: 'Configuration', role: 'admin', tenants: ['*'], hash: `sha256:${'0'.repeat(64)}` }]);
    expect(joined.ring.authenticate(local.key)?.keyId).toBe(local.view.id);
    await timed(() => first.ring.authenticate(local.key)?.keyId === local.view.id && first.ring.find('configkey01')?.state === 'revoked', 'the joining replica’s keys on the first');

    await expect(first.ring.create({ id: local.view.id, name: 'Same id', role: 'viewer', tenants: ['*'] }, 'test')).rejects.toThrow(/exists already/);
  });

  it('a damaged document in the bucket is refused with a message naming it; the keys in force stay', async () => {
    const a = await replicaKeys('a5', 'keys_bad');
    const made = await a.ring.create({ name: 'Kept', role: 'viewer', tenants: ['*'] }, 'test');
    const { Kvm } = await import('@nats-io/kv');
    const { jetstream } = await import('@nats-io/jetstream');
    const kv = await new Kvm(jetstream(await conn())).open('keys_bad');
    await kv.put('state', '{"version": 2}');
    const b = new SharedKeyStore<StoreState>({ cache: KeyStore.inDataDir(join(nats.dir, 'b5')), parse: parseStoreState, merge: mergeStoreStates, empty: emptyStoreState, log, bucket: 'keys_bad' });
    await expect(b.attach(await conn())).rejects.toThrow(/key store NATS bucket keys_bad \(key 'state'\): version/);
    // Replica a saw the damaged write through its watch and kept what it had.
    await new Promise((r) => setImmediate(r));
    expect(a.ring.authenticate(made.key)?.keyId).toBe(made.view.id);
  });
});

describe('console sessions shared by replicas through NATS', () => {
  it('a session created on one replica is honoured on the other at once; signed out on one, it is gone on the other', async () => {
    const a = await replicaSessions('sessions_one');
    const b = await replicaSessions('sessions_one');
    const made = a.sessions.create('operatorkey1', 'fr');
    await made.stored;
    // The browser's next request may reach b before b's watch saw the new record: b reads it from NATS.
    const onB = await b.sessions.lookup(made.id);
    expect(onB?.keyId).toBe('operatorkey1');
    expect(onB?.csrf).toBe(made.session.csrf);
    // An unknown cookie is no session anywhere.
    expect(await b.sessions.lookup('x'.repeat(43))).toBeUndefined();

    expect(await a.sessions.end(made.id)).toBe(true);
    expect(await a.sessions.lookup(made.id)).toBeUndefined();
    await timed(() => b.sessions.get(made.id) === undefined, 'the sign-out on replica b');
    expect(await b.sessions.lookup(made.id)).toBeUndefined();
  });

  it('the record is keyed by the SHA-256 of the session id, never the id; a single sign-on person keeps communes and role', async () => {
    const a = await replicaSessions('sessions_person');
    const b = await replicaSessions('sessions_person');
    const principal = { keyId: 'oidc:keycloak:42', name: 'Agent Eau', role: 'operator' as const, tenants: new Set(['saint-veilleur']), person: { provider: 'keycloak', subject: '42' } };
    const made = a.sessions.create(principal.keyId, 'en', Date.now(), { principal, expiresAt: Date.now() + 3_600_000 });
    await made.stored;
    const { Kvm } = await import('@nats-io/kv');
    const { jetstream } = await import('@nats-io/jetstream');
    const kv = await new Kvm(jetstream(await conn())).open('sessions_person');
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(made.id);
    expect(JSON.stringify(await kv.get(keys[0]!).then((e) => e?.string()))).not.toContain(made.id);

    const onB = await b.sessions.lookup(made.id);
    expect(onB?.lang).toBe('en');
    expect(onB?.person?.principal.role).toBe('operator');
    expect([...(onB?.person?.principal.tenants ?? [])]).toEqual(['saint-veilleur']);
    expect(onB?.person?.principal.person?.subject).toBe('42');
  });

  it('idle expiry holds across replicas: use on one keeps the session alive on the other (last-seen written at most once a minute)', async () => {
    const idleMs = 5 * 60_000;
    const a = await replicaSessions('sessions_idle', { idleMs, absoluteMs: 12 * 3_600_000, max: 100 });
    const b = await replicaSessions('sessions_idle', { idleMs, absoluteMs: 12 * 3_600_000, max: 100 });
    const t0 = Date.now();
    const made = a.sessions.create('viewerkey01', 'fr', t0);
    await made.stored;
    expect((await b.sessions.lookup(made.id, t0))?.keyId).toBe('viewerkey01');
    // Used on a for 9 minutes (clock passed explicitly): within its idle limit each time, and written now and then.
    for (let m = 1; m <= 9; m++) expect(a.sessions.get(made.id, t0 + m * 60_000)).toBeDefined();
    const lastWritten = t0 + 9 * 60_000;
    await timed(() => (b.sessions.get(made.id, t0 + 1000)?.lastSeenAt ?? 0) >= lastWritten - SHARED_TOUCH_MS, "a's last use on b");
    // Another replica, 4 minutes after that last use: alive (and its own use is written in turn).
    const c = await replicaSessions('sessions_idle', { idleMs, absoluteMs: 12 * 3_600_000, max: 100 });
    const usedOnC = lastWritten + 4 * 60_000;
    expect(await c.sessions.lookup(made.id, usedOnC)).toBeDefined();
    await timed(() => (b.sessions.get(made.id, t0)?.lastSeenAt ?? 0) >= usedOnC, "c's use on b");
    // A fourth: alive just within the idle limit counted from c's use, gone just past it.
    const d = await replicaSessions('sessions_idle', { idleMs, absoluteMs: 12 * 3_600_000, max: 100 });
    expect(await d.sessions.lookup(made.id, usedOnC + idleMs - 30_000)).toBeDefined();
    expect(await d.sessions.lookup(made.id, usedOnC + idleMs - 30_000 + idleMs + 1000)).toBeUndefined();
  });
});

// Keep the cache file's format the file store's: a replica can leave the cluster and run alone with it.
describe('the cache file', () => {
  it('is the same JSON as the single-process key store', async () => {
    const a = await replicaKeys('a6', 'keys_file');
    await a.ring.create({ name: 'Fichier', role: 'viewer', tenants: ['*'] }, 'test');
    await waitFor(async () => existsSync(a.file.file) && readFileSync(a.file.file, 'utf8').includes('Fichier'), 2000, 'the cache file');
    const alone = new KeyRing([], { store: KeyStore.inDataDir(join(nats.dir, 'a6')) });
    expect(alone.list().map((k) => k.name)).toEqual(['Fichier']);
  });
});

describe('single sign-on logins in progress shared by replicas', () => {
  it('a login started on one replica is taken by the other, once; of two replicas taking it at the same time, one gets it', async () => {
    const a = await replicaSessions('sessions_logins');
    const b = await replicaSessions('sessions_logins');
    const c = await replicaSessions('sessions_logins');
    await a.shared.logins.put('login-hash-1', '{"state":"s1"}');
    expect(await b.shared.logins.take('login-hash-1')).toBe('{"state":"s1"}');
    expect(await a.shared.logins.take('login-hash-1')).toBeUndefined();
    for (let i = 0; i < 5; i++) {
      await a.shared.logins.put(`login-race-${i}`, `{"n":${i}}`);
      const got = await Promise.all([b.shared.logins.take(`login-race-${i}`), c.shared.logins.take(`login-race-${i}`)]);
      expect(got.filter((g) => g !== undefined)).toEqual([`{"n":${i}}`]);
    }
    // Logins are not sessions: the replicas' session caches never see them.
    expect(b.sessions.size).toBe(0);
  });
});

describe('after a nats-server restart', () => {
  it('a revocation on one replica still reaches the other (the watch resumes; a poll every 5 s covers a lost one)', async () => {
    const a = await replicaKeys('a7', 'keys_restart');
    const b = await replicaKeys('b7', 'keys_restart');
    const made = await a.ring.create({ name: 'Avant redémarrage', role: 'viewer', tenants: ['*'] }, 'test');
    await timed(() => b.ring.authenticate(made.key) !== undefined, 'the key on b');
    await nats.server.stop();
    // While NATS is away, each replica keeps the keys it knew: nothing can be changed, nothing is forgotten.
    expect(b.ring.authenticate(made.key)?.keyId).toBe(made.view.id);
    await nats.server.start();
    await waitFor(async () => {
      try {
        await a.ring.revoke(made.view.id, 'test');
        return true;
      } catch {
        return false;
      }
    }, 20_000, 'replica a reconnected and revoking');
    const t0 = Date.now();
    await waitFor(async () => b.ring.authenticate(made.key) === undefined, 8000, 'the revocation on b after the restart');
    console.log(`after a nats-server restart: revocation on a refused on b after ≤ ${Date.now() - t0} ms`);
  }, 40_000);
});

// The same through the real service: two replicas (child processes, each its own DATA_DIR and port) behind no sticky
// proxy, i.e. each request sent to either of them, as docker-compose.ha.yml's proxy does.
describe('two replicas of the service', () => {
  let stack: ClusterStack;
  let r1: Replica;
  let r2: Replica;
  const admin = generateKey();

  beforeAll(async () => {
    stack = await startClusterStack();
    const registry = townRegistry(scaledTown(2));
    registry.apiKeys = [{ id: admin.id, name: 'Administrateur', role: 'admin', tenants: ['*'], hash: admin.hash }];
    const config = writeClusterConfig(stack, registry, { partitions: 4 }, 'veilleur-shared.yaml');
    [r1, r2] = ['s1', 's2'].map((id) => new Replica(id, stack, config, { ALERT_EVAL_MINUTES: '60' })) as [Replica, Replica];
    await Promise.all([r1.start(), r2.start()]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([r1?.stop(), r2?.stop()]);
    await stack?.close();
  });

  const api = async (r: Replica, path: string, key: string, body?: unknown) =>
    fetch(`${await r.url}/api/v1${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const form = async (r: Replica, path: string, fields: Record<string, string>, cookie?: string) => {
    const url = await r.url;
    return fetch(url + path, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url, ...(cookie ? { cookie } : {}) }, body: new URLSearchParams(fields).toString() });
  };
  const page = async (r: Replica, path: string, cookie: string) => fetch(`${await r.url}${path}`, { redirect: 'manual', headers: { cookie } });

  it('a key created through one replica works on the other; revoked through the other, the first refuses it', async () => {
    const created = await api(r1, '/keys', admin.key, { name: 'Astreinte eau', role: 'operator', tenants: ['saint-veilleur'] });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const id = /^vk_([a-z0-9]+)_/.exec(key)![1]!;
    await waitFor(async () => (await api(r2, '/alerts', key)).status === 200, PROPAGATION_MS, 'the new key on replica 2');

    expect((await api(r2, `/keys/${id}/revoke`, admin.key, {})).status).toBe(200);
    expect((await api(r2, '/alerts', key)).status).toBe(401);
    await waitFor(async () => (await api(r1, '/alerts', key)).status === 401, PROPAGATION_MS, 'the revocation on replica 1');
  }, 30_000);

  it('a console session started on one replica is honoured by the other at once; a sign-out on the other ends it on the first', async () => {
    const signIn = await form(r1, '/connexion', { cle: admin.key, suite: '/' });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const onR2 = await page(r2, '/', cookie);
    expect(onR2.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await onR2.text())![1]!;

    expect((await form(r2, '/deconnexion', { _csrf: csrf }, cookie)).status).toBe(303);
    expect((await page(r2, '/', cookie)).status).toBe(303);
    await waitFor(async () => (await page(r1, '/', cookie)).headers.get('location')?.startsWith('/connexion') === true, PROPAGATION_MS, 'the sign-out on replica 1');
  }, 30_000);
});
