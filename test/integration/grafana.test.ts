/**
 * Grafana's read path on real servers (issue 13, item 7): the service running as a child process with two
 * communes sharing a real InfluxDB — Saint-Veilleur (A) and a copy of its devices under other DevEUIs and names (B)
 * — rollups of both written into their retention policies, and a message kept raw without a commune. Requests are
 * made as Grafana's InfluxDB datasource makes them (POST form `q=…` or GET, `db` and `epoch=ms`, the key in the
 * Authorization header it is provisioned with). Grafana itself does not run here: what enforces the commune is
 * Veilleur in front of InfluxDB, and that is what is tested.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../services/api/keys.ts';
import { grafanaCommand } from '../../services/cli/grafana.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { publishUplinks } from '../../services/simulator/publish.ts';
import { TOWN, townRegistry, type SimDevice } from '../../services/simulator/town.ts';
import { dashboardQueries, substitute, type Substitution } from '../grafana/dashboard-queries.ts';
import { countPoints, ServiceProcess, startStack, waitFor, type Stack } from './support.ts';

const A = 'saint-veilleur';
const B = 'commune-b';
const HOUR = 3_600_000;
const TOWN_A = TOWN.filter((d) => d.lnsTenant === TOWN[0]!.lnsTenant);
// B's registry names carry its id, so that any of them in an answer is seen by ofB.
const TOWN_B: SimDevice[] = TOWN_A.map((d) => ({ ...d, devEui: `b${d.devEui.slice(1)}`, name: `${d.name}-b`, label: `${d.label ?? d.name} (${B})`, lnsTenant: 'Commune B' }));

const keys = { grafanaA: generateKey('grafanaa01'), grafanaB: generateKey('grafanab01'), instance: generateKey('grafanainst') };
type Key = { key: string };

let stack: Stack;
let service: ServiceProcess;
let base: string;
let range: { from: number; to: number };

/** What Grafana sends: POST with the statement in a form body (its default), or GET with `q` in the URL. */
async function grafana(key: Key | undefined, q: string, method: 'POST' | 'GET' = 'POST'): Promise<{ status: number; body: any; text: string }> {
  const params = new URLSearchParams({ db: 'veilleur', epoch: 'ms', ...(method === 'GET' ? { q } : {}) });
  const r = await fetch(`${base}/api/v1/grafana/query?${params}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key.key}` } : {}), ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(method === 'POST' ? { body: new URLSearchParams({ q }).toString() } : {}),
  });
  const text = await r.text();
  return { status: r.status, text, body: JSON.parse(text) };
}

/** Anything of commune B in an answer: its id, DevEUIs or device names. */
const ofB = (text: string): string[] => [B, ...TOWN_B.map((d) => d.devEui), '-b"'].filter((m) => text.includes(m));
const seriesOf = (body: any): any[] => body.results?.[0]?.series ?? [];

beforeAll(async () => {
  stack = await startStack();
  const registry = townRegistry([...TOWN_A, ...TOWN_B]);
  for (const d of registry.devices) if (TOWN_B.some((b) => b.devEui === d.devEui)) d.tenant = B;
  registry.tenants.push({ id: B, name: 'Commune B', lnsTenants: ['Commune B'], applications: [] });
  registry.apiKeys = [
    { id: keys.grafanaA.id, name: 'Grafana Saint-Veilleur', role: 'viewer', tenants: [A], hash: keys.grafanaA.hash },
    { id: keys.grafanaB.id, name: 'Grafana Commune B', role: 'viewer', tenants: [B], hash: keys.grafanaB.hash },
    { id: keys.instance.id, name: 'Grafana instance', role: 'viewer', tenants: ['*'], hash: keys.instance.hash },
  ];
  service = new ServiceProcess(stack, { ALERT_EVAL_MINUTES: '1440', HTTP_RATE_LIMIT_PER_MINUTE: '100000' }, registry);
  await service.start();
  base = await service.url;

  const end = new Date();
  const uplinks = [...generateUplinks({ start: new Date(end.getTime() - 26 * HOUR), end, seed: 5, devices: [...TOWN_A, ...TOWN_B] })];
  await publishUplinks(uplinks, { url: stack.mqtt.url });
  await waitFor(async () => (await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink')) >= uplinks.length, 90_000, 'history stored');
  // A message that is not JSON: kept raw in uplink_rejected, which belongs to no commune.
  const client = await mqtt.connectAsync(stack.mqtt.url);
  await client.publishAsync(`application/x/device/${TOWN_A[0]!.devEui}/event/up`, 'pas du JSON', { qos: 1 });
  await client.endAsync();
  await waitFor(async () => (await countPoints(stack.influx, stack.db, 'SELECT count(message_bytes) FROM uplink_rejected')) >= 1, 20_000, 'rejected message stored');

  // Rollups of both communes, as the service writes them (retention policy, measurement, fields, tags).
  for (const rp of ['rollup_1h', 'rollup_1d']) await stack.influx.query(`CREATE RETENTION POLICY "${rp}" ON "${stack.db}" DURATION INF REPLICATION 1`);
  const since = `time >= ${end.getTime() - 30 * HOUR}ms`;
  for (const [measurement, field] of [['water', 'volume_index_l'], ['electricity', 'active_energy_index_wh']] as const) {
    for (const [rp, every] of [['rollup_1d', '1d'], ['rollup_1h', '1h']] as const) {
      await stack.influx.query(`SELECT non_negative_difference(last("${field}")) AS "${field}_diff" INTO "${stack.db}"."${rp}"."${measurement}_${every}" FROM "${measurement}" WHERE ${since} GROUP BY time(${every}), *`, stack.db);
    }
  }
  range = { from: end.getTime() - 3 * 24 * HOUR, to: Date.now() };
}, 240_000);

afterAll(async () => {
  await service?.stop();
  await stack?.close();
});

describe("a commune's datasource", () => {
  const queries = () => dashboardQueries();
  const sub = (tenant: Substitution['tenant']) => ({ ...range, tenant, site: 'All' as const, device: 'All' as const, interval: '1h' });

  it('answers every dashboard query (fr and en) with exactly what the dashboard filtered on that commune shows, nothing of B', async () => {
    let withData = 0;
    let bSeenByInstance = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    for (const q of queries()) {
      const all = substitute(q.template, sub('All'));
      if (seen.has(all)) continue;
      seen.add(all);
      const mine = await grafana(keys.grafanaA, all);
      // The instance's key sees everything; filtered by the dashboard on A, it is the reference of what A may see.
      const everything = await grafana(keys.instance, all);
      const reference = await grafana(keys.instance, substitute(q.template, sub([A])));
      for (const r of [mine, everything, reference]) if (r.status !== 200 || r.body.results?.[0]?.error) failures.push(`${q.file} ${q.where}: ${r.status} ${r.text.slice(0, 300)}`);
      if (ofB(mine.text).length) failures.push(`${q.file} ${q.where}: A's key sees ${ofB(mine.text).join(', ')}`);
      // The commune variable's own list (it reads no variable) is A's commune alone; everything else is filtered by it.
      if (q.template.includes('$tenant')) expect(seriesOf(mine.body), `${q.file} ${q.where}`).toEqual(seriesOf(reference.body));
      else expect(seriesOf(mine.body).flatMap((s: any) => s.values.map((v: any) => v[1]))).toEqual([A]);
      if (seriesOf(mine.body).length) withData++;
      if (ofB(everything.text).length) bSeenByInstance++;
    }
    console.log(`[grafana] ${seen.size} distinct dashboard queries: ${withData} return data for A, none of B; the instance key sees B in ${bSeenByInstance}`);
    expect(failures).toEqual([]);
    // Not vacuous: most panels have data here, and B's data is there for the instance key to see.
    expect(withData).toBeGreaterThan(seen.size * 0.6);
    expect(bSeenByInstance).toBeGreaterThan(seen.size * 0.4);
  }, 180_000);

  it('returns nothing of B when the query names B (variable set to B, or B’s DevEUI), by GET as by POST', async () => {
    let checked = 0;
    for (const q of queries().filter((x) => x.file.endsWith('.fr.json') && x.template.includes('$tenant'))) {
      const text = substitute(q.template, sub([B]));
      for (const method of ['POST', 'GET'] as const) {
        const r = await grafana(keys.grafanaA, text, method);
        expect(r.status, q.where).toBe(200);
        expect(seriesOf(r.body), `${q.file} ${q.where}`).toEqual([]);
        checked++;
      }
    }
    const bEui = TOWN_B[0]!.devEui;
    const byEui = `SELECT count("f_cnt") FROM "uplink" WHERE time >= ${range.from}ms and time <= ${range.to}ms AND "dev_eui" = '${bEui}' GROUP BY "device"`;
    expect(seriesOf((await grafana(keys.grafanaA, byEui)).body)).toEqual([]);
    // The same statement with B's own key, and with the instance's, finds B's device: the data is there.
    for (const k of [keys.grafanaB, keys.instance]) expect(seriesOf((await grafana(k, byEui)).body).map((s: any) => s.tags.device)).toEqual([TOWN_B[0]!.label]);
    // A subquery naming B, under an outer query that asks for every commune.
    const sub2 = `SELECT sum("n") FROM (SELECT count("f_cnt") AS "n" FROM "uplink" WHERE time >= ${range.from}ms and time <= ${range.to}ms AND "tenant" = '${B}' GROUP BY "device") WHERE time >= ${range.from}ms and time <= ${range.to}ms AND "tenant" =~ /.*/`;
    expect(seriesOf((await grafana(keys.grafanaA, sub2)).body)).toEqual([]);
    expect(seriesOf((await grafana(keys.instance, sub2)).body).length).toBe(1);
    console.log(`[grafana] ${checked + 2} queries naming B answered empty to A's key`);
  }, 120_000);

  it('lists only its own commune, sites and devices in the dashboard variables', async () => {
    const tenants = await grafana(keys.grafanaA, 'SHOW TAG VALUES FROM "uplink" WITH KEY = "tenant"');
    expect(seriesOf(tenants.body).flatMap((s: any) => s.values.map((v: any) => v[1]))).toEqual([A]);
    const devices = await grafana(keys.grafanaA, 'SHOW TAG VALUES FROM "uplink" WITH KEY = "device" WHERE "tenant" =~ /^.*$/ AND "site" =~ /^.*$/');
    expect(seriesOf(devices.body).flatMap((s: any) => s.values.map((v: any) => v[1])).sort()).toEqual(TOWN_A.map((d) => d.label ?? d.name).sort());
    const all = await grafana(keys.instance, 'SHOW TAG VALUES FROM "uplink" WITH KEY = "tenant"');
    expect(seriesOf(all.body).flatMap((s: any) => s.values.map((v: any) => v[1])).sort()).toEqual([B, A].sort());
  });

  it('refuses every statement outside the dashboards’ shapes with a reason, and InfluxDB is untouched', async () => {
    const before = await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink');
    const TF = `time >= ${range.from}ms and time <= ${range.to}ms`;
    const refused = [
      'SHOW DATABASES',
      'SHOW MEASUREMENTS ON "veilleur"',
      'SHOW TAG VALUES FROM "uplink" WITH KEY = "dev_eui"',
      'SHOW FIELD KEYS',
      'DROP MEASUREMENT "uplink"',
      'DROP DATABASE "veilleur"',
      `DELETE FROM "uplink" WHERE "tenant" = '${B}'`,
      `SELECT * FROM "uplink_rejected" WHERE ${TF}`,
      `SELECT "message_b64" FROM "uplink_rejected"`,
      `SELECT "name" FROM "action_log" WHERE ${TF}`,
      `SELECT count("f_cnt") FROM "uplink" WHERE ${TF}; DROP MEASUREMENT "uplink"`,
      `SELECT count("f_cnt") FROM "uplink" WHERE ${TF}; SELECT count("f_cnt") FROM "uplink" WHERE ${TF} AND "tenant" = '${B}'`,
      `SELECT count("f_cnt") FROM "uplink" WHERE ${TF} OR "tenant" = '${B}'`,
      `SELECT sum("n") FROM (SELECT count("f_cnt") AS "n" FROM "uplink") WHERE ${TF}`,
      `SELECT count("f_cnt") INTO "copie" FROM "uplink" WHERE ${TF}`,
      `SELECT count("f_cnt") FROM "veilleur"."autogen"."uplink" WHERE ${TF}`,
    ];
    for (const q of refused) {
      for (const key of [keys.grafanaA, keys.instance]) {
        const r = await grafana(key, q);
        expect(r.status, q).toBe(400);
        // Grafana shows InfluxDB's `error` under the panel: it says why, in French and English.
        expect(r.body.error, q).toMatch(/^q: requête refusée par Veilleur : .+ \(refused: .+\)$/);
      }
    }
    expect(await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM uplink')).toBe(before);
    expect(await countPoints(stack.influx, stack.db, 'SELECT count(f_cnt) FROM copie').catch(() => 0)).toBe(0);
    console.log(`[grafana] ${refused.length} statements refused to A's and the instance's keys`);
  });

  it("passes InfluxDB's own error on a well-formed statement back as InfluxDB would, for Grafana to show", async () => {
    const r = await grafana(keys.grafanaA, `SELECT "sf" FROM "uplink" WHERE time >= ${range.from}ms and time <= ${range.to}ms GROUP BY time(1h)`);
    expect(r.status).toBe(200);
    expect(r.body.results[0].error).toMatch(/aggregate/);
    expect(seriesOf(r.body)).toEqual([]);
  });

  it("answers Grafana's connection test without any data, and refuses requests without a valid key", async () => {
    const test = await grafana(keys.grafanaA, 'SHOW measurements');
    expect(test.status).toBe(200);
    expect(test.body).toEqual({ results: [{ statement_id: 0 }] });
    const q = 'SHOW TAG VALUES FROM "uplink" WITH KEY = "tenant"';
    expect((await grafana(undefined, q)).status).toBe(401);
    expect((await grafana({ key: `vk_${keys.grafanaA.id}_${'A'.repeat(43)}` }, q)).status).toBe(401);
  });
});

describe("the instance's datasource", () => {
  it('sees every commune, and the messages kept raw that belong to none', async () => {
    const q = `SELECT count("message_bytes") FROM "uplink_rejected" WHERE time >= ${range.from}ms and time <= ${Date.now()}ms AND "tenant" =~ /^.*$/ GROUP BY time(1d), "reason" fill(0) tz('Europe/Paris')`;
    const total = (body: any) => seriesOf(body).flatMap((s: any) => s.values.map((v: any) => Number(v[1]))).reduce((a: number, b: number) => a + b, 0);
    expect(total((await grafana(keys.instance, q)).body)).toBeGreaterThanOrEqual(1);
    expect(total((await grafana(keys.grafanaA, q)).body)).toBe(0);
    const perTenant = `SELECT count("f_cnt") FROM "uplink" WHERE time >= ${range.from}ms and time <= ${Date.now()}ms GROUP BY "tenant"`;
    expect(seriesOf((await grafana(keys.instance, perTenant)).body).map((s: any) => s.tags.tenant).sort()).toEqual([B, A].sort());
    expect(seriesOf((await grafana(keys.grafanaB, perTenant)).body).map((s: any) => s.tags.tenant)).toEqual([B]);
  });
});

describe('the files `veilleur grafana provision` writes for this instance', () => {
  it("give each organisation's datasource a key the running service accepts at once, confined to its commune", async () => {
    const out = join(stack.dir, 'grafana-provisioning');
    const env = { VEILLEUR_CONFIG: join(stack.dir, 'veilleur.yaml'), DATA_DIR: join(stack.dir, 'service') };
    expect(await grafanaCommand(['provision', '--out', out, '--veilleur-url', base], env)).toBe(0);
    const datasources = parse(readFileSync(join(out, 'datasources', 'veilleur.yaml'), 'utf8')).datasources as any[];
    const seen: Record<number, string[]> = {};
    for (const d of datasources) {
      // As Grafana calls it: the datasource URL + /query, its header, its database name.
      const r = await fetch(`${d.url}/query?${new URLSearchParams({ db: d.jsonData.dbName, epoch: 'ms' })}`, {
        method: d.jsonData.httpMode,
        headers: { [d.jsonData.httpHeaderName1]: d.secureJsonData.httpHeaderValue1, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ q: 'SHOW TAG VALUES FROM "uplink" WITH KEY = "tenant"' }).toString(),
      });
      expect(r.status).toBe(200);
      seen[d.orgId] = seriesOf(await r.json()).flatMap((s: any) => s.values.map((v: any) => v[1])).sort();
    }
    // Organisation 1: the instance team, every commune; then Saint-Veilleur, the town's second commune (no devices
    // here), and B, in the order of tenants:.
    expect(seen).toEqual({ 1: [B, A].sort(), 2: [A], 3: [], 4: [B] });
  });
});

// The service's log, for a failing run: where refusals and InfluxDB errors are written.
afterAll(() => {
  if (process.env.KEEP_TEST_DATA) console.log(`service log: ${join(stack.dir, 'service.log')}`);
});
