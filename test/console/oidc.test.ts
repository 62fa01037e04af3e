/**
 * Single sign-on to the console against a real OpenID Connect provider: `oidc-provider` (the certified Node.js
 * implementation) on a free loopback port with a registered client and two people, its own login and consent pages
 * driven in Debian's Chromium, and the service on real Mosquitto and InfluxDB with two communes, each with an alert
 * opened by a wet leak sensor. The provider is reached as `localhost` and the console as `127.0.0.1`: two different
 * sites, so the browser treats the provider's redirect back as cross-site, as it will in production.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import mqtt from 'mqtt';
import Provider from 'oidc-provider';
import pino from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../services/api/keys.ts';
import { loadConfig } from '../../services/config/load.ts';
import { freePort } from '../../services/dev/servers.ts';
import { createService, type Service } from '../../services/service.ts';
import { chirpstackV4Up } from '../../services/simulator/envelopes.ts';
import { frameBuilders } from '../../services/simulator/frames/index.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { countPoints, startStack, waitFor, type Stack } from '../integration/support.ts';
import { axe, launchBrowser, newVisitor } from './browser.ts';

const A = 'saint-veilleur';
const B = 'bellerive';
const HOUR = 3_600_000;
const TOWN_A = TOWN.filter((d) => d.lnsTenant === TOWN[0]!.lnsTenant);
const TOWN_B: SimDevice[] = TOWN_A.map((d) => ({ ...d, devEui: `b${d.devEui.slice(1)}`, name: `${d.name}-bellerive`, label: `${d.label ?? d.name} (bellerive)`, lnsTenant: 'Commune de Bellerive', site: `${d.site}-bellerive` }));
const leakA = TOWN_A.find((d) => d.name === 'fuite-chaufferie-mairie')!;
const leakB = TOWN_B.find((d) => d.name === 'fuite-chaufferie-mairie-bellerive')!;
const root = generateKey('root000001');

const PROVIDER_ID = 'commune';
const LABEL = 'Compte agent de Saint-Veilleur';
const CLIENT_ID = 'veilleur-console';
const CLIENT_SECRET = 'un-secret-de-test-assez-long-pour-hs256-0123456789';
/** A second registration of the console that authenticates with a signed assertion (private_key_jwt), no secret. */
const KEY_PROVIDER_ID = 'commune-cle';
const KEY_LABEL = 'Compte agent (clé privée)';
const KEY_CLIENT_ID = 'veilleur-console-cle';
/** The provider's people: Marie is in the water team's group, Paul in none that Veilleur maps. */
const PEOPLE: Record<string, { name: string; email: string; groups: string[] }> = {
  marie: { name: 'Marie Dupont', email: 'marie.dupont@saint-veilleur.fr', groups: ['personnel', 'veilleur-eau-stv'] },
  paul: { name: 'Paul Martin', email: 'paul.martin@saint-veilleur.fr', groups: ['personnel', 'comptabilite'] },
};

let stack: Stack;
let service: Service;
let base: string;
let issuer: string;
let idp: Server;
let browser: Browser;
const logFile = () => join(stack.dir, 'oidc-service.log');

async function sendLeak(d: SimDevice, fCnt: number): Promise<void> {
  const client = await mqtt.connectAsync(stack.mqtt.url);
  const frame = frameBuilders[d.decoder]!.build({ leak: true, temperatureC: 18, humidityPct: 50, batteryPct: 90 }, new Date());
  const m = chirpstackV4Up(d, fCnt, frame, new Date(), { rssi: -80, snr: 7, spreadingFactor: 8, gateways: 1 });
  await client.publishAsync(m.topic, m.payload, { qos: 1 });
  await client.endAsync();
}

async function api(path: string): Promise<any> {
  const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${root.key}` } });
  expect(r.status, path).toBe(200);
  return r.json();
}

async function leakAlert(d: SimDevice): Promise<any> {
  let found: any;
  await waitFor(
    async () => {
      const alerts = (await fetch(`${base}/api/v1/alerts?state=all&rule=W7`, { headers: { authorization: `Bearer ${root.key}` } }).then((r) => r.json())) as any[];
      found = alerts.find((a) => a.subject.devEui === d.devEui);
      return found !== undefined;
    },
    20_000,
    `W7 alert of ${d.name}`,
  );
  return found;
}

/** Audit records of an action, once they have reached InfluxDB through the spool. */
async function auditOf(action: string, match: (r: any) => boolean): Promise<any> {
  let found: any;
  await waitFor(
    async () => {
      found = ((await api(`/api/v1/audit?action=${action}&pageSize=1000`)).records as any[]).find(match);
      return found !== undefined;
    },
    15_000,
    `audit record ${action}`,
  );
  return found;
}

/** A visitor whose browser never reaches outside (the provider's development pages link a web font). */
async function visitor(): Promise<{ context: BrowserContext; page: Page }> {
  const v = await newVisitor(browser);
  await v.context.route((url) => !['127.0.0.1', 'localhost'].includes(url.hostname), (route) => route.abort());
  return v;
}

/** From the console's sign-in page to the provider's consent page, through its login page, as a person would. */
async function toConsent(page: Page, login: string, label = LABEL): Promise<void> {
  await page.goto(`${base}/connexion`);
  await page.getByRole('link', { name: `Se connecter\u202f: ${label}` }).click();
  await page.waitForURL((u) => u.host === new URL(issuer).host);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('mot-de-passe');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).waitFor();
}

async function throughProvider(page: Page, login: string, label = LABEL): Promise<void> {
  await toConsent(page, login, label);
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** axe-core on the page: no violation of impact serious or critical (the count is printed, as the console test does). */
async function expectAccessible(page: Page, what: string): Promise<void> {
  const serious = (await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  console.log(`[oidc] axe on ${what}: ${serious.length} serious or critical`);
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

async function sessionCookie(context: BrowserContext) {
  return (await context.cookies(base)).find((c) => c.name === 'veilleur_session');
}

beforeAll(async () => {
  stack = await startStack();
  mkdirSync(join(stack.dir, 'service'), { recursive: true });
  const consolePort = await freePort();
  const idpPort = await freePort();
  const consoleBase = `http://127.0.0.1:${consolePort}`;
  issuer = `http://localhost:${idpPort}`;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = join(stack.dir, 'oidc-client-key.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${consoleBase}/connexion/oidc/${PROVIDER_ID}/retour`],
        post_logout_redirect_uris: [`${consoleBase}/connexion`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
      {
        client_id: KEY_CLIENT_ID,
        redirect_uris: [`${consoleBase}/connexion/oidc/${KEY_PROVIDER_ID}/retour`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'veilleur-1', use: 'sig', alg: 'ES256' }] },
      },
    ],
    claims: { openid: ['sub'], profile: ['name'], email: ['email'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'email', 'groups'],
    cookies: { keys: ['cle-de-cookies-du-fournisseur-de-test'] },
    findAccount: (_ctx: unknown, id: string) => {
      const person = PEOPLE[id];
      return person ? { accountId: id, claims: async () => ({ sub: id, ...person }) } : undefined;
    },
  } as never);
  idp = await new Promise<Server>((resolve) => {
    const s = provider.listen(idpPort, '127.0.0.1', () => resolve(s));
  });

  const registry = townRegistry([...TOWN_A, ...TOWN_B]);
  registry.tenants.push({ id: B, name: 'Commune de Bellerive', lnsTenants: ['Commune de Bellerive'], applications: [] });
  for (const d of registry.devices) if (d.devEui.startsWith('b')) d.tenant = B;
  registry.apiKeys = [{ id: root.id, name: 'Agglomération', role: 'admin', tenants: ['*'], hash: root.hash }];
  (registry as any).oidc = {
    providers: [
      {
        id: PROVIDER_ID,
        label: LABEL,
        issuer,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUrl: `${consoleBase}/connexion/oidc/${PROVIDER_ID}/retour`,
        postLogoutRedirectUrl: `${consoleBase}/connexion`,
        scopes: ['openid', 'profile', 'email', 'groups'],
        claim: 'groups',
        map: [
          { value: 'veilleur-eau-stv', tenants: [A], role: 'operator' },
          { value: 'veilleur-bellerive', tenants: [B], role: 'operator' },
        ],
      },
      {
        id: KEY_PROVIDER_ID,
        label: KEY_LABEL,
        issuer,
        clientId: KEY_CLIENT_ID,
        privateKeyJwt: { keyFile, alg: 'ES256', kid: 'veilleur-1' },
        redirectUrl: `${consoleBase}/connexion/oidc/${KEY_PROVIDER_ID}/retour`,
        scopes: ['openid', 'profile', 'email', 'groups'],
        map: [{ value: 'personnel', tenants: [A], role: 'viewer' }],
      },
    ],
  };
  const configFile = join(stack.dir, 'veilleur.yaml');
  writeFileSync(configFile, stringify(registry), { mode: 0o600 });
  const cfg = loadConfig({
    MQTT_URL: stack.mqtt.url,
    MQTT_CLIENT_ID: 'veilleur-oidc-it',
    INFLUX_URL: stack.influx.url,
    INFLUX_DB: stack.db,
    HTTP_PORT: String(consolePort),
    DATA_DIR: join(stack.dir, 'service'),
    VEILLEUR_CONFIG: configFile,
    ALERT_EVAL_MINUTES: '1440',
    HTTP_RATE_LIMIT_PER_MINUTE: '100000',
  });
  service = createService(cfg, pino({ level: 'info' }, pino.destination({ dest: logFile(), append: true, sync: true })));
  await service.start();
  base = service.address();
  expect(base).toBe(consoleBase);

  const end = new Date();
  const sent = [...generateUplinks({ start: new Date(end.getTime() - 2 * HOUR), end, seed: 5, devices: [...TOWN_A, ...TOWN_B] })];
  await publishUplinks(sent, { url: stack.mqtt.url });
  await waitFor(async () => (await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink')) >= sent.length, 60_000, 'uplinks stored');
  await sendLeak(leakA, 100_000);
  await sendLeak(leakB, 100_000);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop(2000);
  await new Promise((r) => (idp ? idp.close(r) : r(undefined)));
  await stack?.close();
});

describe('single sign-on through an OpenID Connect provider', () => {
  it('signs a person of the water team in as operator of Saint-Veilleur only, and the acknowledgement and the audit trail name her', async () => {
    const alertA = await leakAlert(leakA);
    const alertB = await leakAlert(leakB);
    const { context, page } = await visitor();
    await throughProvider(page, 'marie');
    await page.waitForURL((u) => u.origin === base && u.pathname === '/');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Alertes');
    expect(await page.locator('.who').textContent()).toContain('Connecté : Marie Dupont (intervention)');
    const cookie = await sessionCookie(context);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // Her session ends with the ID token (an hour at this provider), not after the 12 hours of a key's.
    expect(cookie!.expires * 1000 - Date.now()).toBeLessThanOrEqual(HOUR + 5_000);

    // Operator of Saint-Veilleur: its leak alert is listed, Bellerive's is neither listed nor reachable.
    await page.goto(`${base}/?etat=all`);
    expect(await page.locator(`main a[href="/alertes/${alertA.id}"]`).count()).toBeGreaterThan(0);
    expect(await page.locator(`main a[href="/alertes/${alertB.id}"]`).count()).toBe(0);
    expect((await page.locator('main').textContent()) ?? '').not.toContain('bellerive');
    expect((await page.goto(`${base}/alertes/${alertB.id}`))!.status()).toBe(404);

    await page.goto(`${base}/alertes/${alertA.id}`);
    const comment = 'Vanne de la chaufferie fermée, plombier prévenu';
    await page.getByLabel('Commentaire (obligatoire)').first().fill(comment);
    await page.getByRole('button', { name: 'Prendre en compte' }).click();
    await page.getByRole('status').filter({ hasText: 'Alerte prise en compte.' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('.history').textContent()).toContain('par Marie Dupont');
    const stored = await api(`/api/v1/alerts/${alertA.id}`);
    expect(stored.state).toBe('acknowledged');
    expect(stored.acknowledged.by).toContain('Marie Dupont');

    const ack = await auditOf('alert.acknowledge', (r) => r.target === alertA.id);
    expect(ack).toMatchObject({ actor: 'Marie Dupont', keyId: `oidc:${PROVIDER_ID}:marie`, tenant: A, outcome: 'success', source: 'console', detail: comment });
    const signIn = await auditOf('console.sign-in', (r) => r.keyId === `oidc:${PROVIDER_ID}:marie`);
    expect(signIn).toMatchObject({ actor: 'Marie Dupont', tenant: A, outcome: 'success', source: 'console' });
    expect(signIn.detail).toContain('groups veilleur-eau-stv → operator');
    await context.close();
  });

  it('refuses a person whose groups map to no commune, with a page that says what to ask for, logged and audited', async () => {
    const { context, page } = await visitor();
    await throughProvider(page, 'paul');
    await page.getByRole('heading', { level: 1, name: 'Aucun accès dans Veilleur' }).waitFor();
    expect(await page.locator('main').textContent()).toContain('Paul Martin, votre compte est bien reconnu par Compte agent de Saint-Veilleur, mais il ne donne accès à aucune commune');
    expect(await sessionCookie(context)).toBeUndefined();
    await expectAccessible(page, 'refused');
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/connexion');

    const refused = await auditOf('console.sign-in', (r) => r.keyId === `oidc:${PROVIDER_ID}:paul`);
    expect(refused).toMatchObject({ actor: 'Paul Martin', outcome: 'refused', tenant: '*', source: 'console' });
    expect(refused.detail).toContain("no entry of its map matches the claim 'groups'");
    const log = readFileSync(logFile(), 'utf8').split('\n').filter((l) => l.includes('console sign-in refused: single sign-on') && l.includes(`oidc:${PROVIDER_ID}:paul`));
    expect(log).toHaveLength(1);
    await context.close();
  });

  it('refuses a callback whose state was tampered with, replayed, or brought to another browser', async () => {
    const { context, page } = await visitor();
    // Consent is given with the browser's own cookies, but the provider's redirects are followed by hand up to the
    // genuine callback, which is kept before it reaches the console, to be altered and replayed.
    await toConsent(page, 'marie');
    let next = new URL((await page.locator('form', { has: page.getByRole('button', { name: 'Continue' }) }).getAttribute('action'))!, page.url()).href;
    let answer = await context.request.post(next, { form: { prompt: 'consent' }, maxRedirects: 0 });
    for (let hops = 0; hops < 5 && !next.startsWith(`${base}/`); hops++) {
      next = new URL(answer.headers().location!, next).href;
      if (!next.startsWith(`${base}/`)) answer = await context.request.get(next, { maxRedirects: 0 });
    }
    const genuine = next;
    expect(new URL(genuine).pathname).toBe(`/connexion/oidc/${PROVIDER_ID}/retour`);
    expect(new URL(genuine).searchParams.get('code')).toBeTruthy();

    // Another browser (no sign-in started there): login CSRF and stolen codes are refused.
    const other = await visitor();
    expect((await other.page.goto(genuine))!.status()).toBe(400);
    expect(await other.page.getByRole('heading', { level: 1 }).textContent()).toBe('Connexion non vérifiée');
    expect(await sessionCookie(other.context)).toBeUndefined();
    await other.context.close();

    // The same browser with a forged state: refused, and the pending sign-in is spent.
    const forged = new URL(genuine);
    forged.searchParams.set('state', 'etat-forge');
    expect((await page.goto(forged.href))!.status()).toBe(400);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Connexion non vérifiée');
    expect((await page.goto(genuine))!.status()).toBe(400);
    expect(await sessionCookie(context)).toBeUndefined();

    const refusals = ((await api('/api/v1/audit?action=console.sign-in&outcome=refused&pageSize=1000')).records as any[]).length;
    expect(refusals).toBeGreaterThanOrEqual(1);
    const log = readFileSync(logFile(), 'utf8');
    expect(log).toMatch(/callback refused: .*state/);
    await context.close();
  });

  it('authenticates the console to the provider with a private key (private_key_jwt) as well as with a secret', async () => {
    const { context, page } = await visitor();
    await throughProvider(page, 'paul', KEY_LABEL);
    await page.waitForURL((u) => u.origin === base && u.pathname === '/');
    // This registration maps the staff group (the claim's default, groups) to reading Saint-Veilleur.
    expect(await page.locator('.who').textContent()).toContain('Connecté : Paul Martin (lecture)');
    await auditOf('console.sign-in', (r) => r.keyId === `oidc:${KEY_PROVIDER_ID}:paul` && r.outcome === 'success');
    await context.close();
  });

  it('signs out: the session ends on the server, and the provider’s own sign-out is offered', async () => {
    const { context, page } = await visitor();
    await throughProvider(page, 'marie');
    await page.waitForURL((u) => u.origin === base && u.pathname === '/');
    const cookie = (await sessionCookie(context))!;
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.waitForURL((u) => u.pathname === '/connexion');
    expect(await page.getByRole('status').first().textContent()).toContain('Vous êtes déconnecté.');

    const old = await fetch(`${base}/`, { headers: { cookie: `veilleur_session=${cookie.value}` }, redirect: 'manual' });
    expect(old.status).toBe(303);
    expect(old.headers.get('location')).toMatch(/^\/connexion/);
    await auditOf('console.sign-out', (r) => r.keyId === `oidc:${PROVIDER_ID}:marie` && r.actor === 'Marie Dupont');

    const end = page.getByRole('link', { name: `Se déconnecter aussi de ${LABEL}` });
    const href = new URL((await end.getAttribute('href'))!);
    expect(href.origin).toBe(issuer);
    expect(href.searchParams.get('client_id')).toBe(CLIENT_ID);
    await expectAccessible(page, 'signed out, with the providers and the key form');
    await end.click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL((u) => u.origin === base && u.pathname === '/connexion');
    await context.close();
  });
});
