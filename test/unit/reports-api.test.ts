/**
 * GET /reports/parsimony and /reports/yearly as the API serves them (auth hook, zod validation, error handler of
 * services/api/app.ts), against an InfluxDB stand-in that records every statement: a key gets its own tenant
 * only, a bad parameter is a 400 before any query, and every query is confined to the tenant.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerApi } from '../../services/api/app.ts';
import type { ApiDeps } from '../../services/api/deps.ts';
import { generateKey, KeyRing } from '../../services/api/keys.ts';
import { buildDatacenterReport, datacenterReportCsv } from '../../services/datacenter/kpi.ts';
import { PARSIMONY_CSV_COLUMNS, YEARLY_CSV_COLUMNS } from '../../services/reports/csv.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import type { InfluxSeries } from '../../services/storage/influx.ts';

const keys = { a: generateKey('govkeya01'), both: generateKey('govkeyab01'), root: generateKey('govroot001') };
const sent: string[] = [];
let app: FastifyInstance;

/** One device's uplinks for the parsimony statement, nothing for the others. */
function fakeQuery(q: string): Promise<InfluxSeries[]> {
  sent.push(q);
  if (/count\("f_cnt"\) AS "uplinks"/.test(q)) {
    return Promise.resolve([
      {
        name: 'uplink',
        tags: { site: 'mairie', dev_eui: '24e124136d490001', device: 'compteur-eau-mairie' },
        columns: ['time', 'uplinks', 'airtime_ms', 'with_airtime', 'size', 'sf', 'bw'],
        values: [[Date.parse('2026-03-02T00:00:00Z'), 96, 96 * 66.816, 96, 16, 7, 125_000]],
      },
    ]);
  }
  return Promise.resolve([]);
}

beforeAll(async () => {
  app = Fastify();
  const deps: ApiDeps = {
    keys: new KeyRing([
      { id: keys.a.id, name: 'a', role: 'viewer', tenants: ['saint-veilleur'], hash: keys.a.hash },
      { id: keys.both.id, name: 'both', role: 'viewer', tenants: ['saint-veilleur', 'agglo-sud'], hash: keys.both.hash },
      { id: keys.root.id, name: 'root', role: 'viewer', tenants: ['*'], hash: keys.root.hash },
    ]),
    influx: { query: fakeQuery },
    registry: townRegistry(),
    defaultTenant: 'default',
    options: { docsPublic: false, metricsPublic: false, rateLimitPerMinute: 10_000, corsOrigins: [] },
  };
  await registerApi(app, deps);
  await app.ready();
});
afterAll(async () => {
  await app?.close();
});
beforeEach(() => {
  sent.length = 0;
});

const get = (url: string, key?: { key: string }) => app.inject({ url, headers: key ? { authorization: `Bearer ${key.key}` } : {} });

describe('GET /api/v1/reports/yearly', () => {
  it('serves the key’s only tenant as HTML by default, every query confined to it', async () => {
    const r = await get('/api/v1/reports/yearly?year=2026', keys.a);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toContain('<html lang="fr">');
    expect(r.body).toContain('saint-veilleur');
    expect(sent.length).toBeGreaterThan(10);
    for (const q of sent) expect(q).toContain(`"tenant" = 'saint-veilleur'`);
    expect(sent.join('\n')).not.toContain('agglo-sud');
  });

  it('serves JSON and CSV, and English', async () => {
    const json = await get('/api/v1/reports/yearly?year=2026&format=json', keys.a);
    expect(json.json()).toMatchObject({ tenant: 'saint-veilleur', year: 2026, timeZone: 'Europe/Paris', period: { from: '2025-12-31T23:00:00.000Z' } });
    const csv = await get('/api/v1/reports/yearly?year=2026&format=csv&lang=en', keys.a);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe('attachment; filename="saint-veilleur-2026.csv"');
    expect(csv.body.split('\r\n')[0]).toBe(YEARLY_CSV_COLUMNS.join(','));
    const en = await get('/api/v1/reports/yearly?year=2026&lang=en', keys.a);
    expect(en.body).toContain('<html lang="en">');
  });

  it('refuses another tenant (403), an ambiguous key (400), a missing key (401), before any query', async () => {
    expect((await get('/api/v1/reports/yearly?year=2026&tenant=agglo-sud', keys.a)).statusCode).toBe(403);
    const ambiguous = await get('/api/v1/reports/yearly?year=2026', keys.both);
    expect(ambiguous.statusCode).toBe(400);
    expect(ambiguous.json()).toMatchObject({ error: 'bad_request', message: expect.stringContaining('querystring/tenant') });
    expect((await get('/api/v1/reports/yearly?year=2026&tenant=saint-veilleur')).statusCode).toBe(401);
    expect(sent).toEqual([]);
    // A key covering both names one; the instance-wide key names any.
    expect((await get('/api/v1/reports/yearly?year=2026&tenant=agglo-sud&format=json', keys.both)).statusCode).toBe(200);
    expect((await get('/api/v1/reports/yearly?year=2026&tenant=agglo-sud&format=json', keys.root)).statusCode).toBe(200);
  });

  it('rejects malformed parameters with a 400 naming them, before any query', async () => {
    for (const qs of ['year=1999', 'year=20x6', '', 'year=2026&format=pdf', 'year=2026&lang=de', "year=2026&tenant=x'%20OR%201=1", 'year=2026&extra=1']) {
      const r = await get(`/api/v1/reports/yearly?${qs}`, keys.root);
      expect(r.statusCode, qs).toBe(400);
      expect(r.json().message, qs).toMatch(/querystring/);
    }
    expect(sent).toEqual([]);
  });
});

describe('GET /api/v1/reports/parsimony', () => {
  it('serves JSON by default, CSV and HTML on request', async () => {
    const range = 'from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z';
    const r = await get(`/api/v1/reports/parsimony?${range}`, keys.a);
    expect(r.statusCode).toBe(200);
    // 96 uplinks of 66.816 ms in one day: 6.41 s, 20.3 years by the battery model.
    expect(r.json().devices).toMatchObject([{ device: 'compteur-eau-mairie', role: 'water-main', uplinksPerDay: 96, airtimeSPerDay: 6.41, battery: { years: 20.3 }, flags: [] }]);
    for (const q of sent) expect(q).toContain(`"tenant" = 'saint-veilleur'`);
    const csv = await get(`/api/v1/reports/parsimony?${range}&format=csv`, keys.a);
    expect(csv.body.split('\r\n')[0]).toBe(PARSIMONY_CSV_COLUMNS.join(','));
    const html = await get(`/api/v1/reports/parsimony?${range}&format=html&lang=en`, keys.a);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.body).toContain('data-chart="airtime"');
  });

  it('refuses a period over 366 days, or reversed, and another tenant', async () => {
    expect((await get('/api/v1/reports/parsimony?from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', keys.a)).statusCode).toBe(400);
    expect((await get('/api/v1/reports/parsimony?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', keys.a)).statusCode).toBe(400);
    expect((await get('/api/v1/reports/parsimony?tenant=agglo-sud', keys.a)).statusCode).toBe(403);
    expect(sent).toEqual([]);
  });
});

describe('GET /api/v1/reports/datacenter', () => {
  /** The bounds of the statement reading the period (the other one reads the baseline before it). */
  const periodOf = () => {
    const q = sent.find((s) => /ORDER BY time ASC/.test(s))!;
    const m = /time >= (\d+)ms AND time < (\d+)ms/.exec(q)!;
    return [new Date(Number(m[1])).toISOString(), new Date(Number(m[2])).toISOString()];
  };

  it('defaults to the month under way in the site’s time zone, up to now, with French warnings', async () => {
    const before = Date.now();
    const r = await get('/api/v1/reports/datacenter?site=mairie', keys.a);
    expect(r.statusCode).toBe(200);
    const [from, to] = periodOf();
    const paris = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit' }).format(new Date(before));
    // Local midnight of the 1st: 23:00 or 22:00 UTC the day before.
    expect(new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' }).format(new Date(from!))).toBe(`${paris}-01, 00`);
    expect(Date.parse(to!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(to!)).toBeLessThanOrEqual(Date.now());
    const body = r.json() as { warnings: string[] };
    expect(body.warnings).toContain('aucun « Compteur général de la salle serveurs » sur ce site : PUE, DCiE et parts ne peuvent pas être calculés');
  });

  it('takes a month, a quarter or a year by name, and English on request', async () => {
    const cases: [string, string, string][] = [
      ['month=2026-11', '2026-10-31T23:00:00.000Z', '2026-11-30T23:00:00.000Z'],
      ['period=month&month=2026-03', '2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z'],
      ['period=quarter&quarter=2026-Q2', '2026-03-31T22:00:00.000Z', '2026-06-30T22:00:00.000Z'],
      ['year=2025', '2024-12-31T23:00:00.000Z', '2025-12-31T23:00:00.000Z'],
      ['from=2026-03-02T00:00:00Z&to=2026-03-04T00:00:00Z', '2026-03-02T00:00:00.000Z', '2026-03-04T00:00:00.000Z'],
    ];
    for (const [qs, from, to] of cases) {
      sent.length = 0;
      const r = await get(`/api/v1/reports/datacenter?site=mairie&lang=en&${qs}`, keys.a);
      expect(r.statusCode, qs).toBe(200);
      expect(periodOf(), qs).toEqual([from, to]);
      expect((r.json() as { warnings: string[] }).warnings, qs).toContain("no 'facility-total' meter (total facility energy) for this site: PUE, DCiE and shares cannot be computed");
    }
  });

  it('writes its CSV with the shared writer (services/csv.ts): formulas defused', async () => {
    const r = await get('/api/v1/reports/datacenter?site=mairie&month=2026-11&format=csv', keys.a);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const lines = r.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('tenant,site,zone,from,to,metric,device,dev_eui,role,value,unit');
    expect(lines.filter((l) => l.includes(',warning,'))).not.toHaveLength(0);
    // A device name from the field that a spreadsheet would run gets its apostrophe.
    const report = buildDatacenterReport({
      tenant: 't',
      site: 's',
      from: new Date('2026-03-01T00:00:00Z'),
      to: new Date('2026-03-02T00:00:00Z'),
      meters: [{ devEui: 'e1', device: '=HYPERLINK("x")', role: 'it-load', points: [{ t: Date.parse('2026-03-01T00:00:00Z'), wh: 0 }, { t: Date.parse('2026-03-01T23:59:00Z'), wh: 1000 }] }],
    });
    expect(datacenterReportCsv(report)).toContain(`,meter_kwh,"'=HYPERLINK(""x"")",e1,it-load,1,kWh\r\n`);
  });

  it('rejects mixed or malformed periods and unknown languages with a 400 naming the parameter, before any query', async () => {
    const cases: [string, RegExp][] = [
      ['period=month&year=2026', /querystring\/year: period=month is named by month=/],
      ['month=2026-11&year=2026', /querystring\/year: give one calendar reference/],
      ['from=2026-03-02T00:00:00Z&month=2026-03', /querystring\/month: give either from\/to dates or a calendar period/],
      ['month=2026-13', /querystring\/month/],
      ['month=1999-12', /querystring\/month: expected a year from 2000 to 2099/],
      ['quarter=2026-Q5', /querystring\/quarter/],
      ['period=week', /querystring\/period/],
      ['lang=de', /querystring\/lang/],
    ];
    for (const [qs, message] of cases) {
      const r = await get(`/api/v1/reports/datacenter?site=mairie&${qs}`, keys.a);
      expect(r.statusCode, qs).toBe(400);
      expect(r.json().message, qs).toMatch(message);
    }
    expect(sent).toEqual([]);
  });
});
