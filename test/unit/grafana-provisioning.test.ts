/**
 * `veilleur grafana provision` (services/cli/grafana.ts): the files Grafana reads, checked against the configuration
 * they come from and against docker-compose.yml (Grafana 12 itself cannot run here: no Docker engine). Each
 * organisation's datasource must hold a key that the service's key ring maps to exactly that commune, read-only.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_PREFIX } from '../../services/api/app.ts';
import { KeyRing, KeyStore } from '../../services/api/keys.ts';
import { grafanaCommand } from '../../services/cli/grafana.ts';
import { loadFile } from '../../services/config/load.ts';
import { grafanaOrgs } from '../../services/grafana/provisioning.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import { DASHBOARD_DIR } from '../grafana/dashboard-queries.ts';
import { ROOT } from '../integration/support.ts';

let dir: string;
let env: Record<string, string>;
let stderr: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'veilleur-grafana-'));
  const registry = townRegistry();
  registry.tenants.push({ id: 'commune-b', name: 'Commune B', lnsTenants: ['Commune B'], applications: [] });
  writeFileSync(join(dir, 'veilleur.yaml'), stringify(registry));
  env = { VEILLEUR_CONFIG: join(dir, 'veilleur.yaml'), DATA_DIR: join(dir, 'data') };
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    stderr += String(s);
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const out = () => join(dir, 'provisioning');
const read = (path: string) => parse(readFileSync(join(out(), path), 'utf8'));
const ring = () => new KeyRing(loadFile(env.VEILLEUR_CONFIG!).apiKeys, { store: KeyStore.inDataDir(env.DATA_DIR!) });
const keyOf = (ds: any) => String(ds.secureJsonData.httpHeaderValue1).replace(/^Bearer /, '');

describe('veilleur grafana provision', () => {
  it("writes one organisation per commune and the instance team's, each datasource reading its commune only", async () => {
    expect(await grafanaCommand(['provision', '--out', out()], env)).toBe(0);
    const config = loadFile(env.VEILLEUR_CONFIG!);
    expect(readdirSync(out()).sort()).toEqual(['dashboards', 'datasources']);
    for (const f of ['datasources/veilleur.yaml', 'dashboards/veilleur.yaml']) expect(statSync(join(out(), f)).mode & 0o777).toBe(0o600);

    const ds = read('datasources/veilleur.yaml');
    expect(ds.apiVersion).toBe(1);
    expect(ds.deleteDatasources).toEqual([{ name: 'InfluxDB', orgId: 1 }]);
    const orgs = grafanaOrgs(config);
    expect(orgs.map((o) => o.tenant)).toEqual(['*', ...config.tenants.map((t) => t.id)]);
    expect(ds.datasources.map((d: any) => d.orgId)).toEqual(orgs.map((o) => o.orgId));
    expect(new Set(ds.datasources.map((d: any) => d.orgId)).size).toBe(orgs.length);

    const keys = ring();
    for (const [i, d] of (ds.datasources as any[]).entries()) {
      const tenant = orgs[i]!.tenant;
      // What Grafana's InfluxDB datasource needs in InfluxQL mode, aimed at the read path: …/api/v1/grafana + /query.
      expect(d).toMatchObject({ name: 'Veilleur', uid: 'veilleur', type: 'influxdb', access: 'proxy', isDefault: true, editable: false, url: `http://veilleur:8080${API_PREFIX}/grafana` });
      expect(d.jsonData).toEqual({ version: 'InfluxQL', dbName: 'veilleur', httpMode: 'POST', httpHeaderName1: 'Authorization' });
      const principal = keys.authenticate(keyOf(d));
      expect(principal, tenant).toBeDefined();
      expect(principal!.role).toBe('viewer');
      expect(principal!.tenants === undefined ? '*' : [...principal!.tenants]).toEqual(tenant === '*' ? '*' : [tenant]);
    }
    // Keys are distinct and the organisations are listed, by name, in the file's header.
    expect(new Set(ds.datasources.map(keyOf)).size).toBe(orgs.length);
    const text = readFileSync(join(out(), 'datasources/veilleur.yaml'), 'utf8');
    for (const o of orgs) expect(text).toContain(`#   ${o.orgId}: ${o.name}`);
    expect(text).toContain('Commune de Saint-Veilleur');

    const dash = read('dashboards/veilleur.yaml');
    expect(dash.providers.map((p: any) => p.orgId)).toEqual(orgs.map((o) => o.orgId));
    expect(stderr).toMatch(/curl -u admin:\$GRAFANA_ADMIN_PASSWORD .*"name":"Commune B".*\/api\/orgs {3}# → id 4/);
  });

  it('agrees with docker-compose.yml and the dashboards: mount points, Veilleur service, datasource type', async () => {
    expect(await grafanaCommand(['provision', '--out', out()], env)).toBe(0);
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'));
    const mounts = compose.services.grafana.volumes as string[];
    const target = (src: string) => mounts.find((m) => m.startsWith(`${src}:`))!.split(':')[1];
    expect(target('./infra/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    for (const p of read('dashboards/veilleur.yaml').providers) expect(p.options.path).toBe(target('./infra/grafana/dashboards'));
    expect(compose.services.veilleur.ports.join()).toContain(':8080');
    // Every dashboard asks for a datasource of the provisioned type.
    for (const f of readdirSync(DASHBOARD_DIR).filter((x) => x.endsWith('.json'))) {
      const v = JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')).templating.list.find((x: any) => x.type === 'datasource');
      expect(v.query, f).toBe(read('datasources/veilleur.yaml').datasources[0].type);
    }
  });

  it('rotates the keys when run again: the old ones work for the grace period, or stop at once with 0', async () => {
    expect(await grafanaCommand(['provision', '--out', out()], env)).toBe(0);
    const first = read('datasources/veilleur.yaml').datasources.map(keyOf);
    expect(await grafanaCommand(['provision', '--out', out()], env)).toBe(0);
    const second = read('datasources/veilleur.yaml').datasources.map(keyOf);
    for (const k of second) expect(first).not.toContain(k);
    for (const k of [...first, ...second]) expect(ring().authenticate(k)).toBeDefined();
    expect(stderr).toContain('stop working in 1 h');
    expect(await grafanaCommand(['provision', '--out', out(), '--grace-hours', '0'], env)).toBe(0);
    const third = read('datasources/veilleur.yaml').datasources.map(keyOf);
    for (const k of second) expect(ring().authenticate(k)).toBeUndefined();
    for (const k of third) expect(ring().authenticate(k)).toBeDefined();
    // One active Grafana key per organisation, not one more per run.
    expect(ring().list((k) => k.name.startsWith('Grafana ') && k.state === 'active')).toHaveLength(third.length);
  });

  it('takes the ids of organisations created earlier, and refuses what cannot be right', async () => {
    expect(await grafanaCommand(['provision', '--out', out(), '--org', 'commune-b=2', '--org', 'saint-veilleur=9'], env)).toBe(0);
    const ids = read('datasources/veilleur.yaml').datasources.map((d: any) => [d.orgId, ring().authenticate(keyOf(d))!.tenants?.values().next().value ?? '*']);
    expect(ids).toEqual([[1, '*'], [9, 'saint-veilleur'], [3, 'agglo-sud'], [2, 'commune-b']]);

    const bad: [string[], RegExp][] = [
      [['provision'], /--out DIR is required/],
      [['provision', '--out', out(), '--org', 'nulle-part=3'], /no commune 'nulle-part'/],
      [['provision', '--out', out(), '--org', 'commune-b=1'], /id 1 is given to both '\*' and 'commune-b'/],
      [['provision', '--out', out(), '--org', 'commune-b'], /expected COMMUNE=ID/],
      [['provision', '--out', out(), '--grace-hours', 'demain'], /expected a number of hours/],
      [['provision', '--out', out(), '--owner', 'grafana'], /expected UID or UID:GID/],
      [['provision', '--out', out(), '--veilleur-url', 'veilleur:8080'], /expected an http\(s\) URL/],
    ];
    for (const [args, message] of bad) {
      stderr = '';
      expect(await grafanaCommand(args, env), args.join(' ')).toBe(2);
      expect(stderr).toMatch(message);
    }
    expect(await grafanaCommand(['provision', '--out', out()], { DATA_DIR: env.DATA_DIR! })).toBe(2);
    expect(stderr).toMatch(/VEILLEUR_CONFIG/);
  });
});
