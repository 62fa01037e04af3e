/**
 * The production stack's databases and Grafana, in containers (Testcontainers): InfluxDB 2.7 and InfluxDB 3 Core
 * each behind the real service, and Grafana 12 (the image of docker-compose.yml) provisioned as production is
 * (`veilleur grafana provision`: a datasource on Veilleur's /api/v1/grafana with a read-only key, the dashboards of
 * infra/grafana/dashboards). For each database: the simulated town published over MQTT and stored, the service
 * restarted with a `retention:` section so that it creates the 2.x buckets or 3.x databases of the rollups and
 * fills them, then every dashboard Grafana loaded is read back from Grafana and every panel query run through
 * Grafana's own query API (/api/ds/query), each expected to return data.
 *
 * The town, the rollups and the per-query expectation are those of test/dashboards/panels.test.ts, which runs
 * everywhere on InfluxDB 1.x (test/dashboards/panel-checks.ts). Without a Docker engine (as on the development
 * machine) these suites report themselves skipped, with the reason: they have NOT been run there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { StartedTestContainer } from 'testcontainers';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../services/api/keys.ts';
import type { FileConfig } from '../../services/config/schema.ts';
import { provisioningFiles, DASHBOARDS_PATH, DATASOURCE_UID } from '../../services/grafana/provisioning.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import { createInfluxTarget, type InfluxTarget } from '../../services/storage/influx.ts';
import { publishTown, queryEveryPanel, rollupsRetention, waitForRollups, type RunQuery, type Series } from '../dashboards/panel-checks.ts';
import { panelQueries } from '../dashboards/support.ts';
import { DASHBOARD_DIR } from '../grafana/dashboard-queries.ts';
import { ROOT, ServiceProcess, startStack, type Stack } from '../integration/support.ts';
import { dockerEngine } from './engine.ts';

const engine = await dockerEngine();
const skipped = engine.ok ? '' : ` — skipped: ${engine.reason}`;
if (!engine.ok) console.warn(`[containers] InfluxDB 2.7, InfluxDB 3 Core and Grafana 12 suites skipped: ${engine.reason}`);

/** The images production runs (docker-compose.yml), and InfluxDB 3 Core. */
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { image?: string }> };
const GRAFANA_IMAGE = compose.services.grafana!.image!;
const INFLUX2_IMAGE = compose.services.influxdb!.image!;
const INFLUX3_IMAGE = 'influxdb:3-core';

const TOKEN = 'veilleur-test-token-0123456789';
const ORG = 'veilleur';
const BUCKET = 'veilleur';
const GRAFANA_ADMIN = { user: 'admin', password: 'veilleur-test-admin' };

interface Database {
  name: string;
  /** Starts the container; returns the InfluxDB URL as the service on the host reaches it. */
  start(): Promise<{ container: StartedTestContainer; url: string }>;
}

const DATABASES: Database[] = [
  {
    name: 'InfluxDB 2.7',
    async start() {
      const { GenericContainer, Wait } = await import('testcontainers');
      const container = await new GenericContainer(INFLUX2_IMAGE)
        .withEnvironment({
          DOCKER_INFLUXDB_INIT_MODE: 'setup',
          DOCKER_INFLUXDB_INIT_USERNAME: 'veilleur',
          DOCKER_INFLUXDB_INIT_PASSWORD: 'veilleur-test-password',
          DOCKER_INFLUXDB_INIT_ORG: ORG,
          DOCKER_INFLUXDB_INIT_BUCKET: BUCKET,
          DOCKER_INFLUXDB_INIT_ADMIN_TOKEN: TOKEN,
        })
        .withExposedPorts(8086)
        // The setup runs on a temporary server before 8086 opens: the bucket answering means it is done.
        .withWaitStrategy(Wait.forHttp(`/api/v2/buckets?name=${BUCKET}`, 8086).withHeaders({ Authorization: `Token ${TOKEN}` }).forStatusCode(200))
        .withStartupTimeout(120_000)
        .start();
      return { container, url: `http://${container.getHost()}:${container.getMappedPort(8086)}` };
    },
  },
  {
    name: 'InfluxDB 3 Core',
    async start() {
      const { GenericContainer, Wait } = await import('testcontainers');
      // Databases are created by the first write (and the rollups' by the service); no token asked.
      const container = await new GenericContainer(INFLUX3_IMAGE)
        .withCommand(['influxdb3', 'serve', '--node-id', 'veilleur-test', '--object-store', 'memory', '--without-auth'])
        .withExposedPorts(8181)
        .withWaitStrategy(Wait.forHttp('/health', 8181).forStatusCode(200))
        .withStartupTimeout(120_000)
        .start();
      return { container, url: `http://${container.getHost()}:${container.getMappedPort(8181)}` };
    },
  },
];

/** Grafana 12 provisioned as production: the datasource on Veilleur (at `veilleurPort` on the host), the dashboards. */
async function startGrafana(veilleurPort: number, key: string): Promise<{ container: StartedTestContainer; url: string }> {
  const { GenericContainer, TestContainers, Wait } = await import('testcontainers');
  await TestContainers.exposeHostPorts(veilleurPort);
  const files = provisioningFiles([{ orgId: 1, name: 'Veilleur', tenant: '*' }], new Map([['*', key]]), { veilleurUrl: `http://host.testcontainers.internal:${veilleurPort}` });
  const container = await new GenericContainer(GRAFANA_IMAGE)
    .withEnvironment({ GF_SECURITY_ADMIN_USER: GRAFANA_ADMIN.user, GF_SECURITY_ADMIN_PASSWORD: GRAFANA_ADMIN.password })
    .withCopyContentToContainer([...files].map(([path, content]) => ({ content, target: `/etc/grafana/provisioning/${path}` })))
    .withCopyDirectoriesToContainer([{ source: DASHBOARD_DIR, target: DASHBOARDS_PATH }])
    .withExposedPorts(3000)
    .withWaitStrategy(Wait.forHttp('/api/health', 3000).forStatusCode(200))
    .withStartupTimeout(120_000)
    .start();
  return { container, url: `http://${container.getHost()}:${container.getMappedPort(3000)}` };
}

/** A call to Grafana's HTTP API as its administrator. */
async function grafanaApi(base: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${GRAFANA_ADMIN.user}:${GRAFANA_ADMIN.password}`).toString('base64')}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`Grafana ${path}: HTTP ${r.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

interface GrafanaFrame {
  schema?: { name?: string; fields?: { name: string; type?: string; labels?: Record<string, string> }[] };
  data?: { values?: unknown[][] };
}

/** Grafana's data frames (columns of values) as InfluxDB series (rows), the shape the shared checks read. */
function framesAsSeries(frames: GrafanaFrame[]): Series[] {
  return frames.map((f) => {
    const fields = f.schema?.fields ?? [];
    const columns = f.data?.values ?? [];
    const rows = columns[0]?.length ?? 0;
    return {
      ...(f.schema?.name ? { name: f.schema.name } : {}),
      tags: fields.find((x) => x.labels)?.labels ?? {},
      columns: fields.map((x) => (x.type === 'time' ? 'time' : x.name)),
      values: Array.from({ length: rows }, (_, i) => columns.map((c) => c[i] ?? null)),
    };
  });
}

/**
 * A panel query run by Grafana (/api/ds/query): Grafana makes the time filter and the interval itself, from the
 * range and the interval given; the dashboard variables, made by its browser side, are on "All" (`.*`).
 */
const viaGrafana = (base: string, resultFormat: Map<string, string>): RunQuery => async (_sql, q, range) => {
  const answer = await grafanaApi(base, '/api/ds/query', {
    from: String(range.from.getTime()),
    to: String(range.to.getTime()),
    queries: [
      {
        refId: q.refId,
        datasource: { type: 'influxdb', uid: DATASOURCE_UID },
        query: q.query.replace(/\$(tenant|site|device)\b/g, '.*'),
        rawQuery: true,
        resultFormat: resultFormat.get(`${q.dashboard} / ${q.panel} / ${q.refId}`) ?? 'time_series',
        intervalMs: 3_600_000,
        maxDataPoints: 1000,
      },
    ],
  });
  const result = answer.results?.[q.refId];
  if (result?.error) throw new Error(`Grafana: ${result.error}`);
  return framesAsSeries(result?.frames ?? []);
};

for (const db of DATABASES) {
  describe.skipIf(!engine.ok)(`${db.name} behind Veilleur, read by Grafana 12${skipped}`, () => {
    let stack: Stack;
    let influxContainer: StartedTestContainer | undefined;
    let grafana: StartedTestContainer | undefined;
    let service: ServiceProcess | undefined;
    let influxUrl: string;
    let influx: InfluxTarget;
    const key = generateKey('grafanacontainers');
    const config: FileConfig = { ...townRegistry(), apiKeys: [{ id: key.id, name: 'Grafana instance', role: 'viewer', tenants: ['*'], hash: key.hash }] };
    // The 2.x/3.x API; the local stack's InfluxDB 1.x is not used (its Mosquitto is).
    const influxEnv = () => ({ INFLUX_URL: influxUrl, INFLUX_DB: '', INFLUX_TOKEN: TOKEN, INFLUX_ORG: ORG, INFLUX_BUCKET: BUCKET });

    beforeAll(async () => {
      stack = await startStack();
      const started = await db.start();
      influxContainer = started.container;
      influxUrl = started.url;
      influx = createInfluxTarget({ api: 'v2', url: influxUrl, token: TOKEN, org: ORG, bucket: BUCKET, timeoutMs: 10_000 });
      service = new ServiceProcess(stack, influxEnv(), config);
      await service.start();
    }, 240_000);

    afterAll(async () => {
      await service?.stop();
      await grafana?.stop();
      await influxContainer?.stop();
      await stack?.close();
    });

    it('stores the town and its rollups; every provisioned panel query answers through Grafana', async () => {
      const count = async (q: string) => Number((await influx.query(q))[0]?.values[0]?.[1] ?? 0);
      const published = await publishTown(stack.mqtt.url, count);

      // The rollups, written to the buckets (2.x) or databases (3.x) the service creates for them.
      await service!.stop();
      service = new ServiceProcess(stack, influxEnv(), { ...config, retention: rollupsRetention() });
      const restarted = Date.now();
      await service.start();
      await waitForRollups(influx, restarted);

      // The dashboards as Grafana loaded them from its provisioning: all of them, both languages.
      const g = await startGrafana(await service.port, key.key);
      grafana = g.container;
      const found = (await grafanaApi(g.url, '/api/search?type=dash-db&limit=100')) as { uid: string; title: string }[];
      const loaded = await Promise.all(found.map(async (s) => (await grafanaApi(g.url, `/api/dashboards/uid/${s.uid}`)).dashboard as Dashboard & { uid: string }));
      const generated = published.queries;
      expect(loaded.length).toBe(new Set(generated.map((q) => q.dashboard)).size * 2);
      const french = loaded.filter((d) => d.uid.endsWith('-fr'));
      const queries = french.flatMap((d) => panelQueries(d));
      // What Grafana holds is what dashboards/ generates.
      expect(queries.map((q) => `${q.dashboard} / ${q.panel} / ${q.refId}: ${q.query}`).sort()).toEqual(generated.map((q) => `${q.dashboard} / ${q.panel} / ${q.refId}: ${q.query}`).sort());
      const resultFormat = new Map(
        french.flatMap((d) => ((d.panels ?? []) as { title?: string; targets?: { refId: string; resultFormat?: string }[] }[]).flatMap((p) => (p.targets ?? []).map((t) => [`${d.title} / ${p.title} / ${t.refId}`, t.resultFormat ?? 'time_series'] as const))),
      );

      const now = new Date(Math.max(Date.now(), published.end.getTime()));
      const { failures, panels } = await queryEveryPanel(queries, now, viaGrafana(g.url, resultFormat));
      console.log(`[containers] ${db.name}: ${loaded.length} dashboards loaded by Grafana, ${panels.size} panels, ${queries.length} queries run through /api/ds/query`);
      expect(failures).toEqual([]);
      expect(panels.size).toBeGreaterThanOrEqual(34);
    }, 600_000);
  });
}
