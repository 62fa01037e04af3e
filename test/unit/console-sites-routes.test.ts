/**
 * The Sites and Appareil pages through the service's own HTTP stack (API auth hook, console plugin, sessions,
 * CSRF), against an InfluxDB stand-in that answers only for the tenants a statement names: a commune's key never
 * gets another commune's site or device (404), every statement is confined, and re-decoding is for admins only and
 * goes to the device's own commune.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../services/api/deps.ts';
import type { AuditLog } from '../../services/audit/trail.ts';
import { generateKey, KeyRing } from '../../services/api/keys.ts';
import { consoleApp, page as pageOf, signIn as signInAs } from './console-app.ts';
import type { RedecodeOptions } from '../../services/pipeline/redecode.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import type { InfluxSeries } from '../../services/storage/influx.ts';

const A = 'saint-veilleur';
const B = 'agglo-sud';
const DEVICES = [
  { tenant: A, site: 'gymnase', dev_eui: '0018b2200000a001', device: 'Compteur d’eau du gymnase', role: 'water-main' },
  { tenant: B, site: 'reservoir-nord', dev_eui: '70b3d59ba0002f01', device: 'Compteur d’entrée – réservoir nord', role: 'district-inflow' },
];
const keys = { aOperator: generateKey('aoperator1'), aAdmin: generateKey('aadmin0001'), root: generateKey('root000001') };
const sent: string[] = [];
const redecodes: RedecodeOptions[] = [];
const audited: Record<string, unknown>[] = [];
let app: FastifyInstance;

/** The tenants a statement is confined to ('*' when it names none). */
function tenantsOf(q: string): string[] | '*' {
  const names = [...q.matchAll(/"tenant" = '([^']+)'/g)].map((m) => m[1]!);
  return names.length ? names : '*';
}

function fakeQuery(q: string): Promise<InfluxSeries[]> {
  sent.push(q);
  const tenants = tenantsOf(q);
  const eui = /"dev_eui" = '([0-9a-f]{16})'/.exec(q)?.[1];
  const site = /"site" = '([^']+)'/.exec(q)?.[1];
  const visible = DEVICES.filter((d) => (tenants === '*' || tenants.includes(d.tenant)) && (!eui || d.dev_eui === eui) && (!site || d.site === site));
  const now = Date.now();
  if (/FROM "uplink"/.test(q) && /last\("f_cnt"\)/.test(q)) {
    return Promise.resolve(visible.map((d) => ({ name: 'uplink', tags: { tenant: d.tenant, site: d.site, dev_eui: d.dev_eui, device: d.device }, columns: ['time', 'f'], values: [[now - 60_000, 12]] })));
  }
  if (/"rollup_1d"\."water_1d"/.test(q)) {
    // The daily rollup of the days before today: 1000 L → 1400 L yesterday.
    const day = 86_400_000;
    const today = Math.floor(now / day) * day - 3_600_000;
    return Promise.resolve(
      visible.map((d) => ({
        name: 'water_1d',
        tags: { tenant: d.tenant, site: d.site, dev_eui: d.dev_eui, role: d.role },
        columns: ['time', 'diff', 'last'],
        values: [
          [today - 2 * day, 100, 1000],
          [today - day, 400, 1400],
        ],
      })),
    );
  }
  if (/first\("volume_index_l"\)/.test(q)) {
    // Two local days of each visible water meter: 1000 L → 1400 L yesterday, → 1500 L today.
    const day = 86_400_000;
    const today = Math.floor(now / day) * day - 3_600_000;
    return Promise.resolve(
      visible.map((d) => ({
        name: 'water',
        tags: { tenant: d.tenant, site: d.site, dev_eui: d.dev_eui, role: d.role },
        columns: ['time', 'first', 'last'],
        values: [
          [today - 2 * day, 900, 1000],
          [today - day, 1100, 1400],
          [today, 1450, 1500],
        ],
      })),
    );
  }
  return Promise.resolve([]);
}

const signIn = (key: { key: string }) => signInAs(app, key);
const page = (url: string, session: string) => pageOf(app, url, session);

beforeAll(async () => {
  const deps: ApiDeps = {
    keys: new KeyRing([
      { id: keys.aOperator.id, name: 'astreinte A', role: 'operator', tenants: [A], hash: keys.aOperator.hash },
      { id: keys.aAdmin.id, name: 'admin A', role: 'admin', tenants: [A], hash: keys.aAdmin.hash },
      { id: keys.root.id, name: 'agglo', role: 'admin', tenants: ['*'], hash: keys.root.hash },
    ]),
    influx: { query: fakeQuery },
    registry: townRegistry(),
    defaultTenant: 'default',
    audit: { ofRequest: (_req: unknown, _p: unknown, r: Record<string, unknown>) => audited.push(r) } as unknown as AuditLog,
    redecode: async (opts) => {
      redecodes.push(opts);
      return { examined: 3, decoded: 2, stillUndecoded: 1, alreadyDone: 0, linesWritten: 4 };
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
  redecodes.length = 0;
  audited.length = 0;
});

describe('Sites', () => {
  it('shows a commune’s key its own sites with their tiles, confined in every statement', async () => {
    const s = await signIn(keys.aOperator);
    sent.length = 0;
    const r = await page('/sites', s);
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('Gymnase municipal');
    expect(r.body).toContain('Eau hier');
    expect(r.body).toContain('400\u202fL'); // yesterday: 1000 → 1400
    expect(r.body).toContain('href="/sites/saint-veilleur/gymnase"');
    expect(r.body).toContain('href="/?commune=saint-veilleur&amp;site=gymnase"');
    expect(r.body).not.toMatch(/r[ée]servoir|agglo|70b3d59ba0002f01/i);
    expect(sent.length).toBeGreaterThan(0);
    // A fixed handful of grouped statements, whatever the number of devices (9: no second round with a rollup).
    expect(sent.length).toBeLessThanOrEqual(9);
    for (const q of sent) expect(tenantsOf(q), q).toEqual([A]);
  });

  it('answers another commune’s site, or an unknown one, as not found', async () => {
    const s = await signIn(keys.aOperator);
    expect((await page(`/sites/${B}/reservoir-nord`, s)).statusCode).toBe(404);
    expect((await page(`/sites/${A}/nulle-part`, s)).statusCode).toBe(404);
    const own = await page(`/sites/${A}/gymnase`, s);
    expect(own.statusCode).toBe(200);
    expect(own.body).toContain('href="/appareils/0018b2200000a001"');
  });
});

describe('Appareil', () => {
  it('shows a device of the key’s commune and 404s another commune’s or a malformed EUI', async () => {
    const s = await signIn(keys.aOperator);
    const own = await page('/appareils/0018b2200000a001?periode=24h', s);
    expect(own.statusCode).toBe(200);
    expect(own.body).toContain('Compteur d’eau du gymnase');
    expect(own.body).toContain('Gymnase municipal');
    expect(own.body).not.toContain('redecodage'); // an operator has no re-decode form
    expect((await page('/appareils/70b3d59ba0002f01', s)).statusCode).toBe(404);
    expect((await page('/appareils/not-an-eui', s)).statusCode).toBe(404);
    for (const q of sent.filter((x) => /dev_eui/.test(x))) expect(tenantsOf(q), q).not.toBe('*');
  });

  it('re-decodes for admins only, for the device’s own commune and the local days asked for', async () => {
    const operator = await signIn(keys.aOperator);
    const form = (session: string, csrf: string, eui = '0018b2200000a001') =>
      app.inject({
        method: 'POST',
        url: `/appareils/${eui}/redecodage`,
        headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf, du: '2026-12-01', au: '2026-12-02' }).toString(),
      });
    expect((await form(operator, 'x')).statusCode).toBe(403);

    const admin = await signIn(keys.aAdmin);
    const body = (await page('/appareils/0018b2200000a001', admin)).body;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
    expect(body).toContain('action="/appareils/0018b2200000a001/redecodage"');
    expect(csrf).toBeDefined();
    expect((await form(admin, 'forged')).statusCode).toBe(403);
    expect(redecodes).toHaveLength(0);
    expect((await form(admin, csrf!, '70b3d59ba0002f01')).statusCode).toBe(404);

    const done = await form(admin, csrf!);
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toContain('fait=redecodage&examines=3&decodes=2&restants=1&deja=0');
    expect(redecodes).toEqual([{ devEui: '0018b2200000a001', tenants: [A], from: new Date('2026-11-30T23:00:00Z'), to: new Date('2026-12-02T23:00:00Z') }]);
    expect(audited.filter((r) => r.action === 'data.redecode')).toEqual([expect.objectContaining({ tenant: A, target: '0018b2200000a001', source: 'console' })]);
    const shown = await page(done.headers.location as string, admin);
    expect(shown.body).toContain('3 messages examinés, 2 décodés, 1 toujours indécodable');
  });
});
