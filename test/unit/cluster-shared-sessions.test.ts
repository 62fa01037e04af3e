import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { oidcSchema } from '../../services/console/oidc-config.ts';
import { OidcLogins } from '../../services/console/oidc.ts';
import { decodeSession, encodeSession, SessionStore, SHARED_TOUCH_MS, type SharedSessionRecords } from '../../services/console/session.ts';

// The console's side of shared sessions (issue 17), pure logic: what a record holds, and when the store writes to
// the shared records. `Records` stands in for the NATS bucket (services/cluster/shared-sessions.ts, tested on a real
// nats-server in test/integration/cluster-shared-state.test.ts) so that every write can be counted.
class Records implements SharedSessionRecords {
  readonly data = new Map<string, string>();
  writes: string[] = [];
  removes: string[] = [];
  failing = false;
  /** The stores following the records; the bucket's watch is played by `emit`. */
  readonly listeners: ((key: string, value: string | undefined) => void)[] = [];
  async put(key: string, value: string) {
    this.writes.push(key);
    this.data.set(key, value);
  }
  async get(key: string) {
    if (this.failing) throw new Error('NATS unreachable');
    return this.data.get(key);
  }
  async remove(key: string) {
    this.removes.push(key);
    this.data.delete(key);
  }
  follow(onChange: (key: string, value: string | undefined) => void) {
    this.listeners.push(onChange);
  }
  emit(key: string, value: string | undefined) {
    for (const l of this.listeners) l(key, value);
  }
}

const LIMITS = { idleMs: 2 * 3_600_000, absoluteMs: 12 * 3_600_000, max: 100 };
const flush = () => new Promise((r) => setImmediate(r));

describe('session records', () => {
  it('round-trip a key session and a single sign-on person (communes as a list, instance-wide as null)', () => {
    const store = new SessionStore(LIMITS);
    const { session } = store.create('operatorkey1', 'fr', 1000);
    expect(decodeSession(encodeSession(session))).toEqual(session);
    for (const tenants of [new Set(['saint-veilleur', 'agglo-sud']), undefined]) {
      const person = { principal: { keyId: 'oidc:kc:7', name: 'Agent', role: 'admin' as const, tenants, person: { provider: 'kc', subject: '7' } }, expiresAt: 99_000 };
      const s = store.create('oidc:kc:7', 'en', 2000, person).session;
      const back = decodeSession(encodeSession(s))!;
      expect(back.person?.principal.tenants).toEqual(tenants);
      expect(back.person).toEqual(person);
    }
  });

  it('a damaged or foreign record is no session', () => {
    for (const bad of ['', 'not json', '{}', '{"keyId":"k","csrf":"c","lang":"de","createdAt":1,"lastSeenAt":1}', '{"keyId":"k","csrf":"c","lang":"fr","createdAt":1,"lastSeenAt":1,"person":{"expiresAt":1,"principal":{"keyId":"p","name":"n","role":"root","tenants":null}}}'])
      expect(decodeSession(bad), bad).toBeUndefined();
    expect(decodeSession(undefined)).toBeUndefined();
  });
});

describe('SessionStore with shared records', () => {
  it('writes a session when it starts, then its last use at most once a minute', async () => {
    const records = new Records();
    const store = new SessionStore(LIMITS, records);
    const t0 = Date.now();
    const { id, stored } = store.create('viewerkey01', 'fr', t0);
    await stored;
    expect(records.writes).toHaveLength(1);
    expect(records.writes[0]).not.toContain(id);
    for (let s = 1; s < 60; s += 5) store.get(id, t0 + s * 1000);
    expect(records.writes).toHaveLength(1);
    store.get(id, t0 + SHARED_TOUCH_MS);
    await flush();
    expect(records.writes).toHaveLength(2);
    expect(decodeSession(records.data.get(records.writes[0]!))?.lastSeenAt).toBe(t0 + SHARED_TOUCH_MS);
    store.setLang(id, 'en');
    await flush();
    expect(records.writes).toHaveLength(3);
    expect(decodeSession(records.data.get(records.writes[0]!))?.lang).toBe('en');
  });

  it('finds a session another replica wrote, and honours its end, its idle limit and a sign-out from elsewhere', async () => {
    const records = new Records();
    // Two replicas over the same records: `here` reads what `other` wrote before any watch delivery.
    const other = new SessionStore(LIMITS, records);
    const here = new SessionStore(LIMITS, records);
    const t0 = 5_000_000;
    const { id } = other.create('operatorkey1', 'fr', t0);
    expect(here.get(id, t0)).toBeUndefined();
    expect((await here.lookup(id, t0 + 1000))?.keyId).toBe('operatorkey1');
    expect(here.get(id, t0 + 2000)).toBeDefined();
    expect(await here.lookup(id, t0 + 2000 + LIMITS.idleMs + 1)).toBeUndefined();

    const second = other.create('operatorkey1', 'fr', t0).id;
    await here.lookup(second, t0);
    expect(here.get(second, t0 + 500)).toBeDefined();
    // The bucket's watch reports the purge of a sign-out elsewhere: gone here without asking NATS.
    records.emit(records.writes.at(-1)!, undefined);
    expect(here.get(second, t0 + 1000)).toBeUndefined();
    records.failing = true;
    expect(await here.lookup(second, t0 + 1000)).toBeUndefined();
  });

  it('a sign-out removes the shared record; a revoked key ends its sessions everywhere; NATS unreachable signs nobody in', async () => {
    const records = new Records();
    const errors: string[] = [];
    const store = new SessionStore(LIMITS, records, (err) => errors.push(err.message));
    const a = store.create('keyaaaaaaa', 'fr');
    const b = store.create('keybbbbbbb', 'fr');
    const c = store.create('keybbbbbbb', 'en');
    await Promise.all([a.stored, b.stored, c.stored]);
    expect(await store.end(a.id)).toBe(true);
    expect(records.removes).toHaveLength(1);
    expect(store.destroyKey('keybbbbbbb')).toBe(2);
    await flush();
    expect(records.removes).toHaveLength(3);
    expect(records.data.size).toBe(0);

    records.failing = true;
    expect(await store.lookup('y'.repeat(43))).toBeUndefined();
    expect(errors).toEqual(['NATS unreachable']);
  });

  it('without shared records nothing changes: no write, lookup is get', async () => {
    const store = new SessionStore(LIMITS);
    const { id, stored } = store.create('viewerkey01', 'fr', 10);
    await stored;
    expect((await store.lookup(id, 20))?.lastSeenAt).toBe(20);
    expect(await store.lookup('z'.repeat(43))).toBeUndefined();
    expect(await store.end(id)).toBe(true);
    expect(store.size).toBe(0);
  });
});

describe('single sign-on logins in progress over shared records', () => {
  const provider = {
    id: 'keycloak-stv',
    label: 'Compte agent',
    issuer: 'https://sso.saint-veilleur.fr/realms/agents',
    clientId: 'veilleur',
    clientSecretEnv: 'VEILLEUR_OIDC_SECRET',
    redirectUrl: 'https://veilleur.saint-veilleur.fr/connexion/oidc/keycloak-stv/retour',
    claim: 'groups',
    map: [{ value: 'eau', tenants: ['saint-veilleur'], role: 'operator' }],
  };
  const hash = (id: string) => createHash('sha256').update(id).digest('base64url');

  it('takes the login another replica stored, once, and refuses a stale, foreign or damaged one', async () => {
    const records = new Map<string, string>();
    const shared = {
      put: async (k: string, v: string) => void records.set(k, v),
      take: async (k: string) => {
        const v = records.get(k);
        records.delete(k);
        return v;
      },
    };
    const logins = new OidcLogins(oidcSchema.parse({ providers: [provider] }), { env: { VEILLEUR_OIDC_SECRET: 'x' }, shared });
    const now = Date.now();
    const login = { provider: 'keycloak-stv', state: 'st', nonce: 'no', verifier: 've', next: '/', lang: 'fr', createdAt: now };
    records.set(hash('cookie-1'), JSON.stringify(login));
    expect(await logins.take('cookie-1', 'keycloak-stv', now + 1000)).toEqual(login);
    expect(await logins.take('cookie-1', 'keycloak-stv', now + 1000)).toBeUndefined();
    records.set(hash('cookie-2'), JSON.stringify(login));
    expect(await logins.take('cookie-2', 'keycloak-stv', now + 11 * 60_000)).toBeUndefined();
    records.set(hash('cookie-3'), JSON.stringify(login));
    expect(await logins.take('cookie-3', 'entra', now)).toBeUndefined();
    records.set(hash('cookie-4'), '{"provider":"keycloak-stv"}');
    expect(await logins.take('cookie-4', 'keycloak-stv', now)).toBeUndefined();
    expect(records.size).toBe(0);
  });
});
