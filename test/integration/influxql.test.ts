/**
 * The InfluxQL builder against a real InfluxDB (a private 1.x on a free loopback port): tenant and identifier names
 * with quotes, backslashes and spaces select exactly their own points, an OR-list exactly its tenants, an empty
 * list nothing, and a value crafted to widen the condition matches nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, InfluxServer, startOnFreePorts } from '../../services/dev/servers.ts';
import { allRows, createInfluxTarget, type InfluxTarget } from '../../services/storage/influx.ts';
import { during, select, showTagValues, type Condition } from '../../services/storage/influxql.ts';
import { lineWithTags, tagString } from '../../services/storage/line-protocol.ts';

const DB = 'veilleur';
const TENANTS = ['saint-veilleur', `o'brien`, 'a\\b', 'quote"d', 'deux mots', `x\\'y`];
const T0 = Date.parse('2026-03-02T00:00:00Z');

let dir: string;
let server: InfluxServer;
let influx: InfluxTarget;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'veilleur-influxql-'));
  server = await startOnFreePorts(async (attempt) => new InfluxServer(await freePort(), await freePort(), join(dir, `influxdb-${attempt}`)));
  await server.createDatabase(DB);
  influx = createInfluxTarget({ api: 'v1', url: server.url, db: DB, timeoutMs: 10_000 });
  // One point per tenant, its value its index; and one point without a tenant, which no tenant condition may reach.
  const lines = TENANTS.map((tenant, i) => lineWithTags('uplink', tagString({ tenant, site: 'mairie' }), { f_cnt: i }, T0 + i * 1000)!);
  lines.push(lineWithTags('uplink', tagString({ site: 'mairie' }), { f_cnt: 99 }, T0 + 60_000)!);
  await influx.write(Buffer.from(lines.join('\n') + '\n'));
}, 60_000);
afterAll(async () => {
  await server?.stop();
  if (dir && !process.env.KEEP_TEST_DATA) rmSync(dir, { recursive: true, force: true });
});

const counters = async (where: Condition[]): Promise<number[]> =>
  allRows(await influx.query(select({ select: [{ field: 'f_cnt' }], from: 'uplink', where: [...during(T0, T0 + 3_600_000), ...where] })))
    .map((r) => Number(r.f_cnt))
    .sort((a, b) => a - b);

describe('the InfluxQL builder on InfluxDB 1.x', () => {
  it('selects exactly the point of each tenant, whatever its name holds', async () => {
    for (const [i, tenant] of TENANTS.entries()) expect(await counters([{ tag: 'tenant', equals: tenant }]), tenant).toEqual([i]);
  });

  it('confines to an OR-list exactly, and an empty list to nothing', async () => {
    expect(await counters([{ tag: 'tenant', in: [`o'brien`, 'quote"d'] }])).toEqual([1, 3]);
    expect(await counters([{ tag: 'tenant', in: TENANTS }])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await counters([])).toEqual([0, 1, 2, 3, 4, 5, 99]);
    expect(await counters([{ tag: 'tenant', in: [] }])).toEqual([]);
  });

  it('reads a value crafted to widen the condition as one tenant name, which matches nothing', async () => {
    for (const crafted of [`x' OR '1'='1`, `x\\' OR "tenant" != '`, `saint-veilleur' OR 'a'='a`, 'saint-veilleur\nOR 1=1']) {
      expect(await counters([{ tag: 'tenant', in: [crafted] }]), crafted).toEqual([]);
    }
  });

  it('escapes identifiers: aliases, tag keys and a GROUP BY come back as named', async () => {
    const series = await influx.query(
      select({ select: [{ fn: 'sum', field: 'f_cnt', as: 'somme "totale"\\n' }], from: 'uplink', where: during(T0, T0 + 3_600_000), groupBy: ['tenant'] }),
    );
    expect(series.map((s) => s.tags?.tenant ?? '').sort()).toEqual(['', ...TENANTS].sort());
    expect(series[0]?.columns).toEqual(['time', 'somme "totale"\\n']);
    const values = await influx.query(showTagValues({ from: 'uplink', key: 'tenant', where: [{ tag: 'site', equals: 'mairie' }] }));
    expect(allRows(values).map((r) => r.value).sort()).toEqual([...TENANTS].sort());
  });
});
