/**
 * The web console end to end, as people use it: a real Chromium (Debian's, through playwright-core) against the
 * service on real Mosquitto and InfluxDB, with two communes sharing the instance: Saint-Veilleur (the simulated
 * town) and Bellerive (a copy with its own devices, sites and names). The town raises its alerts by itself (the
 * gymnasium leak, the over-cooled server room…); the tests read them, act on them, walk every page and link, run
 * axe-core on each page, and refresh the screenshots under docs/console/.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { generateKey } from '../../services/api/keys.ts';
import { loadConfig } from '../../services/config/load.ts';
import { createService, type Service } from '../../services/service.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { countPoints, ROOT, startStack, waitFor, type Stack } from '../integration/support.ts';
import { axe, canvasPixels, launchBrowser, newVisitor, signIn, tabTo } from './browser.ts';

const A = 'saint-veilleur';
const B = 'bellerive';
const HOUR = 3_600_000;
const TOWN_A = TOWN.filter((d) => d.lnsTenant === TOWN[0]!.lnsTenant);
// Bellerive: the same kinds of devices, with its own DevEUIs, names and sites; everything of it carries "bellerive".
const TOWN_B: SimDevice[] = TOWN_A.map((d) => ({
  ...d,
  devEui: `b${d.devEui.slice(1)}`,
  name: `${d.name}-bellerive`,
  label: `${d.label ?? d.name} (Bellerive)`,
  lnsTenant: 'Commune de Bellerive',
  site: `${d.site}-bellerive`,
  ...(d.building ? { building: `${d.building}-bellerive` } : {}),
}));

const keys = {
  aOperator: generateKey('aoperator01'),
  aViewer: generateKey('aviewer001'),
  aAdmin: generateKey('aadmin0001'),
  bOperator: generateKey('boperator01'),
  root: generateKey('root000001'),
};
const OPERATOR_NAME = 'Astreinte eau de Saint-Veilleur';

/** The trimmed text of the one element a locator finds. */
async function text(locator: import('playwright-core').Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

let stack: Stack;
let service: Service;
let base: string;
let browser: Browser;
let configFile: string;

async function startService(): Promise<void> {
  const cfg = loadConfig({
    MQTT_URL: stack.mqtt.url,
    MQTT_CLIENT_ID: 'veilleur-console-it',
    INFLUX_URL: stack.influx.url,
    INFLUX_DB: stack.db,
    HTTP_PORT: base ? new URL(base).port : '0',
    DATA_DIR: join(stack.dir, 'service'),
    VEILLEUR_CONFIG: configFile,
    ALERT_EVAL_MINUTES: '1',
    HTTP_RATE_LIMIT_PER_MINUTE: '100000',
  });
  service = createService(cfg, pino({ level: 'info' }, pino.destination({ dest: join(stack.dir, 'service.log'), append: true, sync: true })));
  await service.start();
  base = service.address();
}

async function api(path: string, key = keys.root): Promise<any> {
  const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key.key}` } });
  expect(r.status, path).toBe(200);
  return r.json();
}

/** The open (or acknowledged) alert of a rule in a commune, once the windowed rules have raised it. */
async function alertOf(rule: string, tenant: string, site?: string): Promise<any> {
  let found: any;
  await waitFor(
    async () => {
      const alerts = (await fetch(`${base}/api/v1/alerts?state=all&tenant=${tenant}`, { headers: { authorization: `Bearer ${keys.root.key}` } }).then((r) => r.json())) as any[];
      found = alerts.find((a) => a.rule.id === rule && (!site || a.subject.site === site));
      return found !== undefined;
    },
    150_000,
    `alert ${rule} of ${tenant}`,
  );
  return found;
}

beforeAll(async () => {
  stack = await startStack();
  mkdirSync(join(stack.dir, 'service'), { recursive: true });
  const registry = townRegistry([...TOWN_A, ...TOWN_B]);
  registry.tenants.push({ id: B, name: 'Commune de Bellerive', lnsTenants: ['Commune de Bellerive'], applications: [] });
  for (const d of registry.devices) if (d.devEui.startsWith('b')) d.tenant = B;
  for (const s of [...new Set(TOWN_B.map((d) => d.site))]) registry.sites.push({ tenant: B, site: s, name: `Bellerive – ${s.replace('-bellerive', '')}`, calendar: registry.sites[0]!.calendar });
  registry.apiKeys = [
    { id: keys.aOperator.id, name: OPERATOR_NAME, role: 'operator', tenants: [A], hash: keys.aOperator.hash },
    { id: keys.aViewer.id, name: 'Élus de Saint-Veilleur (lecture)', role: 'viewer', tenants: [A], hash: keys.aViewer.hash },
    { id: keys.aAdmin.id, name: 'DSI de Saint-Veilleur', role: 'admin', tenants: [A], hash: keys.aAdmin.hash },
    { id: keys.bOperator.id, name: 'Astreinte de Bellerive', role: 'operator', tenants: [B], hash: keys.bOperator.hash },
    { id: keys.root.id, name: 'Agglomération', role: 'admin', tenants: ['*'], hash: keys.root.hash },
  ];
  registry.retention = { raw: '90d', hourly: '730d', daily: '1900d', events: '3650d', changedBy: 'test', reason: 'essai de la console' } as never;
  configFile = join(stack.dir, 'veilleur.yaml');
  writeFileSync(configFile, stringify(registry));
  await startService();
  const end = new Date();
  const sent = [...generateUplinks({ start: new Date(end.getTime() - 30 * HOUR), end, seed: 1, devices: [...TOWN_A, ...TOWN_B] })];
  await publishUplinks(sent, { url: stack.mqtt.url });
  await waitFor(async () => (await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink')) >= sent.length, 60_000, 'the two towns stored');
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await stack?.close();
});

describe('the console, signed in as an operator', () => {
  it('lists the town’s alerts in French, draws the gymnasium leak’s evidence, and keeps an acknowledgement across a restart', async () => {
    const leak = await alertOf('W1', A, 'gymnase');
    const { context, page, errors } = await newVisitor(browser);
    await signIn(page, base, keys.aOperator.key);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await text(page.getByRole('heading', { level: 1 }))).toBe('Alertes');
    const item = page.locator('.alert-item', { hasText: 'Débit continu' });
    expect(await item.count()).toBe(1);
    expect(await text(item.locator('.sentence'))).toContain('fuite probable après compteur');
    expect(await text(item)).toContain('Gymnase municipal');

    await item.getByRole('link', { name: /Débit continu/ }).click();
    expect(new URL(page.url()).pathname).toBe(`/alertes/${leak.id}`);
    await page.locator('[data-chart][data-drawn="true"]').waitFor();
    // The meter's series (blue) and the threshold (red, dashed) are drawn on the canvas, not only described.
    const seriesPixels = await canvasPixels(page, [0x1a, 0x4f, 0xa3]);
    const thresholdPixels = await canvasPixels(page, [0xa4, 0x16, 0x1a]);
    console.log(`[console] evidence chart of W1: ${seriesPixels} series pixels, ${thresholdPixels} threshold pixels`);
    expect(seriesPixels).toBeGreaterThan(300);
    expect(thresholdPixels).toBeGreaterThan(100);
    expect(await text(page.locator('.chart-summary'))).toContain('Consommation par heure');
    expect(await page.getByText('Plus petit volume horaire').count()).toBe(2);

    const comment = 'Plombier appelé, vanne du vestiaire à contrôler';
    await page.getByLabel('Commentaire (obligatoire)').first().fill(comment);
    await page.getByRole('button', { name: 'Prendre en compte' }).click();
    await page.getByRole('status').filter({ hasText: 'Alerte prise en compte.' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    expect(await text(page.locator('.history'))).toContain(OPERATOR_NAME);

    const acknowledgedList = async () => {
      await page.goto(`${base}/?etat=acknowledged`);
      const acked = page.locator('.alert-item', { hasText: 'Débit continu' });
      expect(await acked.count()).toBe(1);
      expect(await text(acked.locator('.handled'))).toContain(OPERATOR_NAME);
      expect(await text(acked.locator('.handled'))).toContain(comment);
    };
    await acknowledgedList();
    await page.goto(`${base}/?etat=open`);
    expect(await page.locator('.alert-item', { hasText: 'Débit continu' }).count()).toBe(0);

    // A restart ends the sessions (they live in memory) but not the acknowledgement (stored in InfluxDB).
    await service.stop();
    await startService();
    await page.goto(`${base}/?etat=acknowledged`);
    expect(new URL(page.url()).pathname).toBe('/connexion');
    await signIn(page, base, keys.aOperator.key);
    await acknowledgedList();
    expect((await api(`/api/v1/alerts/${leak.id}`)).state).toBe('acknowledged');
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);
});

describe('a viewer', () => {
  it('sees no acknowledge control, and a forged acknowledge or resolve with the viewer’s session is refused on the server', async () => {
    const cold = await alertOf('D2', A);
    const { context, page } = await newVisitor(browser);
    await signIn(page, base, keys.aViewer.key);
    await page.goto(`${base}/alertes/${cold.id}`);
    expect(await text(page.getByRole('heading', { level: 1 }))).toBe('Salle serveur trop refroidie');
    expect(await page.getByRole('button', { name: 'Prendre en compte' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Marquer comme résolue' }).count()).toBe(0);
    await page.getByText('Votre rôle permet de consulter cette alerte').first().waitFor({ state: 'visible', timeout: 10_000 });
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    for (const action of ['prise-en-compte', 'resolution']) {
      const r = await context.request.post(`${base}/alertes/${cold.id}/${action}`, { form: { _csrf: csrf, commentaire: 'forgé' }, maxRedirects: 0 });
      expect(r.status(), action).toBe(403);
    }
    expect((await api(`/api/v1/alerts/${cold.id}`)).state).toBe('open');
    await context.close();

    // An operator's form without its session's CSRF token is refused too.
    const op = await newVisitor(browser);
    await signIn(op.page, base, keys.aOperator.key);
    const forged = await op.context.request.post(`${base}/alertes/${cold.id}/prise-en-compte`, { form: { _csrf: 'x'.repeat(32), commentaire: 'sans jeton' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    const crossSite = await op.context.request.post(`${base}/alertes/${cold.id}/prise-en-compte`, {
      form: { _csrf: await op.page.locator('input[name="_csrf"]').first().inputValue(), commentaire: 'autre site' },
      headers: { origin: 'https://evil.example' },
      maxRedirects: 0,
    });
    expect(crossSite.status()).toBe(403);
    expect((await api(`/api/v1/alerts/${cold.id}`)).state).toBe('open');
    await op.context.close();
  }, 240_000);
});

describe('sessions', () => {
  it('sends a request without a session to the sign-in page, and sign-out makes the old cookie worthless', async () => {
    const anonymous = await fetch(`${base}/parc`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/connexion?suite=%2Fparc');
    const wrong = await fetch(`${base}/connexion`, { method: 'POST', body: new URLSearchParams({ cle: 'vk_notakey' }), redirect: 'manual' });
    expect(wrong.status).toBe(401);

    const { context, page } = await newVisitor(browser);
    await signIn(page, base, keys.aOperator.key);
    const cookie = (await context.cookies()).find((c) => c.name === 'veilleur_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const before = await fetch(`${base}/`, { headers: { cookie: `veilleur_session=${cookie.value}` }, redirect: 'manual' });
    expect(before.status).toBe(200);
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.getByText('Vous êtes déconnecté.').first().waitFor({ state: 'visible', timeout: 10_000 });
    const after = await fetch(`${base}/`, { headers: { cookie: `veilleur_session=${cookie.value}` }, redirect: 'manual' });
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toMatch(/^\/connexion/);
    await context.close();
  }, 120_000);
});

describe('keyboard only', () => {
  it('goes from sign-in to acknowledging an alert without a mouse', async () => {
    const cold = await alertOf('D2', A);
    const { context, page } = await newVisitor(browser);
    await page.goto(`${base}/connexion`);
    // The key field has the focus on arrival.
    await page.keyboard.type(keys.aOperator.key);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/`);
    await tabTo(page, (el) => el.tag === 'a' && el.text === 'Salle serveur trop refroidie');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/alertes/${cold.id}`);
    await tabTo(page, (el) => el.id === 'commentaire-prise-en-compte');
    await page.keyboard.type('Consigne de climatisation relevée à 24 °C');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Prendre en compte');
    await page.keyboard.press('Enter');
    await page.waitForURL(/fait=prise-en-compte/);
    expect((await api(`/api/v1/alerts/${cold.id}`)).state).toBe('acknowledged');
    await context.close();
  }, 120_000);
});

/** Every console page reachable by links from the home page, fetched with the browser's session (bounded). */
async function walk(context: import('playwright-core').BrowserContext, limit = 300): Promise<Map<string, { status: number; body: string; type: string }>> {
  const seen = new Map<string, { status: number; body: string; type: string }>();
  const queue = ['/'];
  while (queue.length && seen.size < limit) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    const r = await context.request.get(`${base}${path}`, { maxRedirects: 0 });
    const body = await r.text();
    const type = r.headers()['content-type'] ?? '';
    seen.set(path, { status: r.status(), body, type });
    if (!type.startsWith('text/html')) continue;
    for (const m of body.matchAll(/(?:href|src|action)="([^"]+)"/g)) {
      const link = m[1]!.replace(/&amp;/g, '&');
      if (!link.startsWith('/') || link.startsWith('//')) continue;
      // Sign-out and the language switch change the session; assets and the API are not pages.
      if (/^\/(deconnexion|langue|assets|api|docs)/.test(link)) continue;
      if (!seen.has(link) && !queue.includes(link)) queue.push(link);
    }
  }
  return seen;
}

describe('two communes on one instance', () => {
  it('shows nothing of Bellerive to Saint-Veilleur’s key, on any page or link', async () => {
    await alertOf('W1', B, 'gymnase-bellerive');
    const bAlerts = (await api(`/api/v1/alerts?state=all&tenant=${B}`)) as any[];
    const forbidden = [...TOWN_B.map((d) => d.devEui), 'bellerive', 'Bellerive', ...bAlerts.map((a) => a.id)];
    const { context, page } = await newVisitor(browser);
    await signIn(page, base, keys.aAdmin.key);
    const pages = await walk(context);
    const htmlPages = [...pages].filter(([, p]) => p.type.startsWith('text/html'));
    let leaks = 0;
    for (const [path, p] of pages) {
      expect(p.status, path).toBeLessThan(500);
      for (const f of forbidden) {
        if (p.body.includes(f)) {
          leaks++;
          console.log(`[console isolation] ${path} shows '${f}'`);
        }
      }
    }
    // The walk really saw Saint-Veilleur's data: its devices, sites and alerts.
    const all = [...pages.values()].map((p) => p.body).join('\n');
    expect(all).toContain('Gymnase municipal');
    expect(TOWN_A.filter((d) => all.includes(d.devEui)).length).toBeGreaterThan(3);
    // Its devices by the names the commune gave them, never the network server's identifiers.
    expect(all).toContain('Compteur d’eau du gymnase');
    for (const d of TOWN_A) if (d.name !== d.zone) expect(all, d.name).not.toContain(d.name);
    console.log(`[console isolation] ${pages.size} URLs walked (${htmlPages.length} pages), ${forbidden.length} strings of Bellerive looked for, ${leaks} found`);
    expect(leaks).toBe(0);

    // Asking for Bellerive's things by their address is refused or answered as if they did not exist.
    for (const path of [`/appareils/${TOWN_B[0]!.devEui}`, `/alertes/${bAlerts[0].id}`, `/?commune=${B}`, `/sites?commune=${B}`, `/parc?commune=${B}`]) {
      const r = await context.request.get(`${base}${path}`, { maxRedirects: 0 });
      // A device or an alert of Bellerive does not exist for this key; a filter naming Bellerive is refused or
      // falls back to the key's own commune (a shared link), and the body check below holds either way.
      expect(path.includes('?') ? [200, 403, 404] : [403, 404], path).toContain(r.status());
      // The page may repeat the address asked for (the language link does); nothing else of Bellerive.
      const body = (await r.text()).replaceAll(path, '').replaceAll(encodeURIComponent(path), '');
      for (const f of forbidden) expect(body, path).not.toContain(f);
    }
    await context.close();
  }, 240_000);
});

/** The pages of the console, with the URL of one example of each: for axe and the screenshots. */
async function examplePages(): Promise<{ name: string; path: string }[]> {
  const leak = await alertOf('W1', A, 'gymnase');
  const devices = (await api(`/api/v1/devices?tenant=${A}`)) as any[];
  const meter = devices.find((d) => d.name === 'Compteur d’eau du gymnase');
  return [
    { name: 'alertes', path: '/' },
    { name: 'alerte-fuite-gymnase', path: `/alertes/${leak.id}` },
    { name: 'sites', path: '/sites' },
    { name: 'appareil-compteur-gymnase', path: `/appareils/${meter.devEui}` },
    { name: 'parc', path: '/parc' },
    { name: 'site-gymnase', path: `/sites/${A}/gymnase` },
    { name: 'rapports', path: '/rapports' },
    { name: 'rapport-annuel', path: `/rapports/annuel?annee=${new Date().getFullYear()}` },
    { name: 'rapport-salle-serveurs', path: `/rapports/salle-serveurs?salle=${A}%2Fmairie` },
    { name: 'conservation', path: '/conservation' },
  ];
}

describe('accessibility', () => {
  it('has no serious or critical axe-core violation on any page (WCAG 2.1 A and AA rules)', async () => {
    const { context, page } = await newVisitor(browser);
    const counts: string[] = [];
    let serious = 0;
    const check = async (name: string) => {
      const violations = await axe(page);
      const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      serious += bad.length;
      counts.push(`${name}: ${violations.length} violations, ${bad.length} serious or critical`);
      for (const v of bad) console.log(`[axe] ${name}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
    };
    await page.goto(`${base}/connexion`);
    await check('connexion');
    await signIn(page, base, keys.aAdmin.key);
    for (const p of await examplePages()) {
      const r = await page.goto(`${base}${p.path}`);
      expect(r?.status(), p.path).toBe(200);
      await check(p.name);
    }
    await page.goto(`${base}/langue/en?suite=%2F`);
    await check('alerts (English)');
    console.log(`[axe]\n${counts.join('\n')}`);
    expect(serious).toBe(0);
    await context.close();
  }, 240_000);
});

const SHOTS = join(ROOT, 'docs', 'console');

/** A digest of everything that decides what the console shows: its sources and the simulated town. */
function consoleSourcesDigest(): string {
  const files: string[] = [];
  const walkDir = (dir: string) => {
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walkDir(p);
      else files.push(p);
    }
  };
  walkDir(join(ROOT, 'services', 'console'));
  files.push(join(ROOT, 'services', 'simulator', 'town.ts'));
  const h = createHash('sha256');
  for (const f of files) h.update(f.slice(ROOT.length)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

describe('screenshots in docs/console', () => {
  it('are current: regenerated from the simulated town when the console changed (CI fails when they are stale)', async () => {
    const digestFile = join(SHOTS, 'SOURCES.sha256');
    const digest = consoleSourcesDigest();
    let recorded = '';
    try {
      recorded = readFileSync(digestFile, 'utf8').trim();
    } catch {
      recorded = '';
    }
    const pages = await examplePages();
    if (process.env.CI) {
      // CI checks what was committed: screenshots made from these very sources, one per page.
      expect(recorded, 'docs/console is stale: run the console tests locally (npx vitest run test/console) and commit docs/console').toBe(digest);
      for (const p of pages) expect(statSync(join(SHOTS, `${p.name}.png`)).size).toBeGreaterThan(10_000);
      return;
    }
    mkdirSync(SHOTS, { recursive: true });
    const { context, page } = await newVisitor(browser);
    await signIn(page, base, keys.aOperator.key);
    for (const p of pages) {
      await page.goto(`${base}${p.path}`);
      if (await page.locator('[data-chart]').count()) await page.locator('[data-chart][data-drawn="true"]').first().waitFor();
      await page.screenshot({ path: join(SHOTS, `${p.name}.png`), fullPage: true });
    }
    writeFileSync(digestFile, `${digest}\n`);
    for (const p of pages) expect(statSync(join(SHOTS, `${p.name}.png`)).size).toBeGreaterThan(10_000);
    await context.close();
  }, 240_000);
});

// Last: it spends this address's budget of failed authentications, after which even a right key waits.
describe('a key guesser', () => {
  it('is throttled after the failed-authentication budget shared with the API, with a page that says so', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30 && !statuses.includes(429); i++) {
      const r = await fetch(`${base}/connexion`, { method: 'POST', body: new URLSearchParams({ cle: `vk_${keys.aViewer.id}_${'A'.repeat(43)}` }), redirect: 'manual' });
      statuses.push(r.status);
    }
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // The right key is refused too while the address waits, and the API counts the same failures.
    const right = await fetch(`${base}/connexion`, { method: 'POST', body: new URLSearchParams({ cle: keys.aOperator.key }), redirect: 'manual' });
    expect(right.status).toBe(429);
    expect(await right.text()).toContain('Trop d’essais infructueux');
    const apiCall = await fetch(`${base}/api/v1/whoami`, { headers: { authorization: `Bearer ${keys.aOperator.key}` } });
    expect(apiCall.status).toBe(429);
    console.log(`[console] sign-in throttled after ${statuses.length - 1} failed attempts`);
  }, 60_000);
});
