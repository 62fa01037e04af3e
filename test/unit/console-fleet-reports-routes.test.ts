/**
 * The Parc, Rapports and Conservation pages through the service's own HTTP stack (API auth hook, console plugin,
 * sessions, CSRF), against an InfluxDB stand-in that answers only for the tenants a statement names: a commune's key
 * gets its own commune only (another commune, or its server room, is a 404), report documents carry their own narrow
 * CSP, downloads are attachments recorded as exports, and a retention change without a reason is a 422 that writes
 * nothing.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../services/api/deps.ts';
import { generateKey, KeyRing } from '../../services/api/keys.ts';
import type { AuditLog } from '../../services/audit/trail.ts';
import type { Config } from '../../services/config/load.ts';
import { consoleApp, page as pageOf, signIn as signInAs } from './console-app.ts';
import { REPORT_DOCUMENT_CSP } from '../../services/console/pages/reports.ts';
import { defaultRetention } from '../../services/retention/config.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import type { InfluxSeries } from '../../services/storage/influx.ts';

const A = 'saint-veilleur';
const B = 'agglo-sud';
const ROOMS = [
  { tenant: A, site: 'mairie' },
  { tenant: B, site: 'salle-agglo-b' },
];
const keys = { aViewer: generateKey('aviewer001'), aAdmin: generateKey('aadmin0001'), root: generateKey('root000001') };
const sent: string[] = [];
const writes: string[] = [];
const audited: Record<string, unknown>[] = [];
let app: FastifyInstance;

function tenantsOf(q: string): string[] | '*' {
  const names = [...q.matchAll(/"tenant" = '([^']+)'/g)].map((m) => m[1]!);
  return names.length ? names : '*';
}

const AUDIT_COLUMNS = ['time', 'actor', 'applied', 'data_class', 'detail', 'new_value', 'old_value', 'reason', 'scope', 'seq', 'setting', 'source', 'tenant'];
const AUDIT_ROW = [Date.parse('2026-11-02T10:00:00Z'), 'agglo (root000001)', true, 'raw', 'applied', '90d', '120d', 'Délibération 2026-014', 'retention', 0, 'retention.raw', 'api', '*'];

function fakeQuery(q: string): Promise<InfluxSeries[]> {
  sent.push(q);
  const tenants = tenantsOf(q);
  if (/^SHOW RETENTION POLICIES/.test(q)) {
    return Promise.resolve([{ name: '', columns: ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'], values: [['autogen', '2160h0m0s', '24h0m0s', 1, true], ['audit', '0s', '8736h0m0s', 1, false]] }]);
  }
  if (/"audit"\."audit_log"/.test(q)) {
    if (/GROUP BY "setting"/.test(q)) return Promise.resolve([{ name: 'audit_log', tags: { setting: 'retention.raw' }, columns: AUDIT_COLUMNS.filter((c) => c !== 'setting'), values: [AUDIT_ROW.filter((_, i) => AUDIT_COLUMNS[i] !== 'setting')] }]);
    return Promise.resolve([{ name: 'audit_log', columns: AUDIT_COLUMNS, values: [AUDIT_ROW] }]);
  }
  if (/GROUP BY "tenant", "site"/.test(q) && /active_energy_index_wh/.test(q)) {
    return Promise.resolve(ROOMS.filter((r) => tenants === '*' || tenants.includes(r.tenant)).map((r) => ({ name: 'electricity', tags: r, columns: ['time', 'count'], values: [[0, 10]] })));
  }
  return Promise.resolve([]);
}

/** What was recorded in the action trail, sign-ins aside. */
const actions = () => audited.filter((a) => a.action !== 'console.sign-in');

const signIn = (key: { key: string }) => signInAs(app, key);
const page = (url: string, session: string) => pageOf(app, url, session);

async function post(url: string, session: string, fields: Record<string, string>) {
  const form = await page('/conservation', session);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  return app.inject({ method: 'POST', url, payload: new URLSearchParams({ _csrf: csrf, ...fields }).toString(), headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' } });
}

beforeAll(async () => {
  const deps: ApiDeps = {
    keys: new KeyRing([
      { id: keys.aViewer.id, name: 'mairie A', role: 'viewer', tenants: [A], hash: keys.aViewer.hash },
      { id: keys.aAdmin.id, name: 'admin A', role: 'admin', tenants: [A], hash: keys.aAdmin.hash },
      { id: keys.root.id, name: 'agglo', role: 'admin', tenants: ['*'], hash: keys.root.hash },
    ]),
    influx: { query: fakeQuery },
    registry: townRegistry(),
    defaultTenant: 'default',
    audit: { ofRequest: (_req: unknown, _p: unknown, r: Record<string, unknown>) => audited.push(r) } as unknown as AuditLog,
    retention: {
      influx: { query: fakeQuery, write: async (body: Buffer) => void writes.push(body.toString()) },
      influxConfig: { api: 'v1', url: 'http://127.0.0.1:1', db: 'veilleur', timeoutMs: 1000 } as unknown as Config['influx'],
      settings: defaultRetention(),
    },
    options: { docsPublic: false, metricsPublic: false, rateLimitPerMinute: 100_000, corsOrigins: [] },
  };
  app = await consoleApp(deps);
});
afterAll(async () => {
  await app?.close();
});
beforeEach(() => {
  sent.length = 0;
  writes.length = 0;
  audited.length = 0;
});

describe('Parc', () => {
  it('shows a commune its own fleet, every statement confined to it, and another commune as not found', async () => {
    const s = await signIn(keys.aViewer);
    const r = await page('/parc', s);
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('Appareils silencieux');
    expect(r.body).toContain('Messages non lus');
    const scoped = sent.filter((q) => !/^SHOW/.test(q));
    expect(scoped.length).toBeGreaterThan(5);
    for (const q of scoped) expect(tenantsOf(q)).toEqual([A]);
    // uplink_rejected carries no commune: not read for a commune's key.
    expect(sent.join('\n')).not.toContain('uplink_rejected');
    expect((await page(`/parc?commune=${B}`, s)).statusCode).toBe(404);
  });

  it('shows an instance-wide key the refused messages of the whole instance', async () => {
    const s = await signIn(keys.root);
    const r = await page(`/parc?commune=${B}`, s);
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('Messages refusés de toute l’instance');
    expect(sent.some((q) => q.includes('uplink_rejected'))).toBe(true);
  });
});

describe('Rapports', () => {
  it('serves the report document under its own narrow CSP, and downloads as attachments recorded as exports', async () => {
    const s = await signIn(keys.aViewer);
    const doc = await page('/rapports/annuel/document?annee=2026', s);
    expect(doc.statusCode).toBe(200);
    expect(doc.headers['content-security-policy']).toBe(REPORT_DOCUMENT_CSP);
    expect(doc.body).toContain('<html lang="fr">');
    expect(doc.headers['content-disposition']).toBeUndefined();
    const csv = await page('/rapports/annuel/telecharger?annee=2026&format=csv', s);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="revue-reen-2026-${A}.csv"`);
    const html = await page('/rapports/sobriete/telecharger?jours=30&format=html', s);
    expect(html.headers['content-disposition']).toMatch(/^attachment; filename="sobriete-radio-saint-veilleur-\d{4}-\d{2}-\d{2}\.html"$/);
    expect(actions().map((a) => [a.action, a.tenant])).toEqual([
      ['report.export', A],
      ['report.export', A],
    ]);
    for (const q of sent.filter((x) => /"tenant"/.test(x))) expect(tenantsOf(q)).toEqual([A]);
  });

  it('shows the page with its period and an iframe of the document', async () => {
    const s = await signIn(keys.aViewer);
    const r = await page('/rapports/annuel?annee=2025', s);
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('Année civile 2025');
    expect(r.body).toMatch(/<iframe class="report" src="\/rapports\/annuel\/document\?annee=2025" title="Rapport : [^"]+" sandbox="allow-same-origin"><\/iframe>/);
    expect((await page('/rapports/annuel?annee=2099', s)).statusCode).toBe(400);
  });

  it('answers another commune, its report or its server room, as not found', async () => {
    const s = await signIn(keys.aViewer);
    expect((await page(`/rapports/annuel?commune=${B}`, s)).statusCode).toBe(404);
    expect((await page(`/rapports/sobriete/telecharger?commune=${B}&format=csv`, s)).statusCode).toBe(404);
    expect((await page(`/rapports/salle-serveurs?salle=${B}/salle-agglo-b`, s)).statusCode).toBe(404);
    const own = await page(`/rapports/salle-serveurs?salle=${A}/mairie&periode=2026-10`, s);
    expect(own.statusCode).toBe(200);
    expect(own.body).not.toContain('salle-agglo-b');
    const list = await page('/rapports', s);
    expect(list.body).toContain(`value="${A}/mairie"`);
    expect(list.body).not.toContain(B);
  });
});

describe('Conservation', () => {
  it('shows the instance key names to instance-wide keys only', async () => {
    const commune = await page('/conservation', await signIn(keys.aViewer));
    expect(commune.statusCode).toBe(200);
    expect(commune.body).toContain('Délibération 2026-014');
    expect(commune.body).toContain('un administrateur de l’instance');
    expect(commune.body).not.toContain('root000001');
    expect(commune.body).not.toContain('name="classe"');
    const root = await page('/conservation', await signIn(keys.root));
    expect(root.body).toContain('agglo (root000001)');
    expect(root.body).toContain('name="classe"');
  });

  it('refuses a change without a reason with a 422 and writes nothing', async () => {
    const s = await signIn(keys.root);
    const r = await post('/conservation', s, { classe: 'raw', valeur: '30', unite: 'jours', raison: ' ' });
    expect(r.statusCode).toBe(422);
    expect(r.body).toContain('Indiquez le motif de la décision');
    expect(r.body).toContain('value="30"');
    expect(writes).toEqual([]);
    expect(actions()).toMatchObject([{ action: 'retention.change', outcome: 'refused', tenant: '*' }]);
  });

  it('leaves changes to instance-wide admins, and refuses a form without its CSRF token', async () => {
    const admin = await signIn(keys.aAdmin);
    expect((await post('/conservation', admin, { classe: 'raw', valeur: '120', unite: 'jours', raison: 'essai' })).statusCode).toBe(403);
    const root = await signIn(keys.root);
    const forged = await app.inject({ method: 'POST', url: '/conservation', payload: 'classe=raw&valeur=120&unite=jours&raison=essai', headers: { cookie: root, 'content-type': 'application/x-www-form-urlencoded' } });
    expect(forged.statusCode).toBe(403);
    expect(writes).toEqual([]);
  });
});
