/** Single sign-on's pure parts: the `oidc:` configuration, the claim → communes and role map, and session expiry. */
import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { registerApi } from '../../services/api/app.ts';
import type { ApiDeps } from '../../services/api/deps.ts';
import { generateKey, KeyRing } from '../../services/api/keys.ts';
import type { AuditLog } from '../../services/audit/trail.ts';
import { createConsole } from '../../services/console/plugin.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import { ConfigError, loadFile } from '../../services/config/load.ts';
import { claimValues, grantOf, oidcSchema, personName } from '../../services/console/oidc-config.ts';
import { OidcLogins } from '../../services/console/oidc.ts';
import { SessionStore } from '../../services/console/session.ts';

const provider = {
  id: 'keycloak-stv',
  label: 'Compte agent de Saint-Veilleur',
  issuer: 'https://sso.saint-veilleur.fr/realms/agents',
  clientId: 'veilleur',
  clientSecretEnv: 'VEILLEUR_OIDC_SECRET',
  redirectUrl: 'https://veilleur.saint-veilleur.fr/connexion/oidc/keycloak-stv/retour',
  claim: 'realm_access.roles',
  map: [
    { value: 'veilleur-admin', tenants: ['*'], role: 'admin' },
    { value: 'veilleur-eau-stv', tenants: ['saint-veilleur'], role: 'operator' },
    { value: 'elus', tenants: ['saint-veilleur', 'bellerive'], role: 'viewer' },
  ],
};

function configError(oidc: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'veilleur-oidc-'));
  const file = join(dir, 'veilleur.yaml');
  writeFileSync(file, stringify({ oidc }));
  try {
    loadFile(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('oidc: configuration', () => {
  it('accepts a provider and fills the defaults', () => {
    const parsed = oidcSchema.parse({ providers: [provider] });
    expect(parsed.keysInConsole).toBe(true);
    expect(parsed.providers[0]!.scopes).toEqual(['openid', 'profile', 'email']);
  });

  it('names the path of each mistake', () => {
    expect(configError({ providers: [{ ...provider, issuer: 'http://sso.saint-veilleur.fr' }] })).toContain('path oidc.providers[0].issuer: expected an https:// URL');
    expect(configError({ providers: [{ ...provider, redirectUrl: 'https://veilleur.saint-veilleur.fr/retour' }] })).toContain('path oidc.providers[0].redirectUrl: its path must be /connexion/oidc/keycloak-stv/retour');
    expect(configError({ providers: [{ ...provider, clientSecret: 's3cret' }] })).toContain('path oidc.providers[0]: give exactly one of clientSecret, clientSecretEnv or privateKeyJwt');
    expect(configError({ providers: [{ ...provider, map: [{ value: 'x', tenants: ['saint-veilleur'], role: 'maire' }] }] })).toContain('path oidc.providers[0].map[0].role');
    expect(configError({ providers: [{ ...provider, scopes: ['profile'] }] })).toContain("path oidc.providers[0].scopes: must include 'openid'");
    expect(configError({ providers: [provider, provider] })).toContain("path oidc.providers[1].id: 'keycloak-stv' is already the id of another provider");
    expect(configError({ providers: [{ ...provider, clientSecretEnv: undefined, privateKeyJwt: { keyFile: 'cle.pem' } }] })).toContain('path oidc.providers[0].privateKeyJwt.keyFile: expected an absolute path');
  });

  it('stops the start-up when the secret variable is missing, naming it', () => {
    const cfg = oidcSchema.parse({ providers: [provider] });
    expect(() => new OidcLogins(cfg, { env: {} })).toThrow('oidc.providers[0].clientSecretEnv: the environment variable VEILLEUR_OIDC_SECRET is not set');
    expect(new OidcLogins(cfg, { env: { VEILLEUR_OIDC_SECRET: 'x' } }).providers()).toEqual([{ id: 'keycloak-stv', label: 'Compte agent de Saint-Veilleur' }]);
  });
});

describe('claims to communes and role', () => {
  const p = oidcSchema.parse({ providers: [provider] }).providers[0]!;

  it('reads a dotted claim path, a string or a list', () => {
    expect(claimValues({ realm_access: { roles: ['a', 'b', 3] } }, 'realm_access.roles')).toEqual(['a', 'b']);
    expect(claimValues({ groups: 'veilleur' }, 'groups')).toEqual(['veilleur']);
    expect(claimValues({ groups: { nested: true } }, 'groups')).toEqual([]);
    expect(claimValues({}, 'realm_access.roles')).toEqual([]);
  });

  it('gives what the first matching entry says, and nothing without a match', () => {
    expect(grantOf(p, { realm_access: { roles: ['elus', 'veilleur-eau-stv'] } })).toEqual({ tenants: ['saint-veilleur'], role: 'operator', value: 'veilleur-eau-stv' });
    expect(grantOf(p, { realm_access: { roles: ['elus'] } })).toEqual({ tenants: ['saint-veilleur', 'bellerive'], role: 'viewer', value: 'elus' });
    expect(grantOf(p, { realm_access: { roles: ['veilleur-admin'] } })).toEqual({ tenants: undefined, role: 'admin', value: 'veilleur-admin' });
    expect(grantOf(p, { realm_access: { roles: ['comptabilite'] } })).toBeUndefined();
    expect(grantOf(p, { groups: ['veilleur-eau-stv'] })).toBeUndefined();
  });

  it('names a person by name, else e-mail, else username', () => {
    expect(personName({ sub: 'x', name: ' Marie Dupont ', email: 'm@d.fr' })).toBe('Marie Dupont');
    expect(personName({ sub: 'x', email: 'm@d.fr' })).toBe('m@d.fr');
    expect(personName({ sub: 'x' })).toBe('x');
  });
});

describe('a person’s session', () => {
  it('ends when the ID token expires, before the session limits', () => {
    const store = new SessionStore({ idleMs: 3_600_000, absoluteMs: 12 * 3_600_000, max: 10 });
    const principal = { keyId: 'oidc:keycloak-stv:abc', name: 'Marie Dupont', role: 'operator' as const, tenants: new Set(['saint-veilleur']), person: { provider: 'keycloak-stv', subject: 'abc' } };
    const t0 = 1_000_000;
    const { id } = store.create(principal.keyId, 'fr', t0, { principal, expiresAt: t0 + 300_000 });
    expect(store.get(id, t0 + 299_000)?.person?.principal.name).toBe('Marie Dupont');
    expect(store.get(id, t0 + 300_000)).toBeUndefined();
    // A key's session is not bounded by any token.
    const key = store.create('aoperator01', 'fr', t0);
    expect(store.get(key.id, t0 + 3_000_000)?.keyId).toBe('aoperator01');
  });
});

describe('the sign-in page with single sign-on only (keysInConsole: false)', () => {
  it('offers the providers and no key form, refuses a key, and says when a provider does not answer', async () => {
    const key = generateKey('aoperator1');
    const audited: Record<string, unknown>[] = [];
    const registry = townRegistry();
    // Nothing listens on port 9 of loopback: the provider "does not answer".
    registry.oidc = oidcSchema.parse({ keysInConsole: false, providers: [{ ...provider, issuer: 'http://127.0.0.1:9/realms/agents', clientSecretEnv: undefined, clientSecret: 's3cret' }] });
    const deps: ApiDeps = {
      keys: new KeyRing([{ id: key.id, name: 'astreinte', role: 'operator', tenants: ['saint-veilleur'], hash: key.hash }]),
      influx: { query: async () => [] },
      registry,
      defaultTenant: 'default',
      audit: { ofRequest: (_req: unknown, _p: unknown, r: Record<string, unknown>) => audited.push(r) } as unknown as AuditLog,
      options: { docsPublic: false, metricsPublic: false, rateLimitPerMinute: 100_000, corsOrigins: [] },
    };
    const app = Fastify();
    await app.register(cookie);
    const webConsole = createConsole(deps, { oidc: registry.oidc });
    await registerApi(app, deps, webConsole.auth);
    await app.register(webConsole.plugin);
    await app.ready();
    try {
      const signIn = await app.inject({ url: '/connexion?suite=%2Fsites' });
      expect(signIn.statusCode).toBe(200);
      expect(signIn.body).toContain('href="/connexion/oidc/keycloak-stv?suite=%2Fsites"');
      expect(signIn.body).toContain('Se connecter\u202f: Compte agent de Saint-Veilleur');
      expect(signIn.body).not.toContain('name="cle"');

      const byKey = await app.inject({ method: 'POST', url: '/connexion', payload: `cle=${encodeURIComponent(key.key)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(byKey.statusCode).toBe(403);
      expect(byKey.headers['set-cookie']).toBeUndefined();
      expect(byKey.body).toContain('uniquement avec le compte de votre collectivité');

      const down = await app.inject({ url: '/connexion/oidc/keycloak-stv' });
      expect(down.statusCode).toBe(503);
      expect(down.body).toContain('Compte agent de Saint-Veilleur ne répond pas pour le moment');
      expect((await app.inject({ url: '/connexion/oidc/inconnu' })).statusCode).toBe(404);

      // A callback this browser never started: refused before any request to the provider, and audited.
      const forged = await app.inject({ url: '/connexion/oidc/keycloak-stv/retour?code=abc&state=xyz' });
      expect(forged.statusCode).toBe(400);
      expect(forged.body).toContain('Connexion non vérifiée');
      expect(audited).toEqual([expect.objectContaining({ action: 'console.sign-in', outcome: 'refused', source: 'console' })]);
    } finally {
      await app.close();
    }
  });
});
