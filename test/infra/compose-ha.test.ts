/**
 * docker-compose.ha.yml (issue 17) checked without a Docker engine, like docker-compose.yml: the Compose client
 * validates the production file merged with the HA override, then the rendered file is checked for what a
 * three-node NATS cluster and two replicas need; the NATS configuration is checked by nats-server itself (-t) and
 * Veilleur's HA configuration by its own schema.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { envSchema, fileSchema } from '../../services/config/schema.ts';
import { which } from '../../services/dev/servers.ts';
import { ROOT } from '../integration/support.ts';

function compose(args: string[]): { status: number | null; stdout: string; stderr: string; client: string } {
  const v2 = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  const [cmd, pre] = v2.status === 0 ? ['docker', ['compose']] : ['docker-compose', []];
  const r = spawnSync(cmd, [...pre, '--env-file', '.env.example', '-f', 'docker-compose.yml', '-f', 'docker-compose.ha.yml', ...args], { cwd: ROOT, encoding: 'utf8' });
  if (r.error) throw new Error(`no Compose client (${r.error.message}): apt-get install docker-compose, or install Docker Compose v2`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, client: [cmd, ...pre].join(' ') };
}

const NATS = ['nats-1', 'nats-2', 'nats-3'];
const REPLICAS = ['veilleur', 'veilleur-2'];

describe('docker-compose.ha.yml (over docker-compose.yml)', () => {
  const rendered = compose(['config']);
  const file = parse(rendered.stdout) as { services: Record<string, any>; volumes: Record<string, unknown> };
  const haConfigFile = join(ROOT, 'infra', 'veilleur', 'veilleur-ha.yaml');

  it('passes `compose config` against the Compose specification', () => {
    console.log(`[compose-ha] validated with ${rendered.client}`);
    expect(rendered.stderr).not.toMatch(/error|invalid/i);
    expect(rendered.status).toBe(0);
  });

  it('runs three NATS nodes with JetStream on their own volumes, health-checked, unpublished, and two replicas that wait for them', () => {
    expect(Object.keys(file.services).sort()).toEqual(['grafana', 'influxdb', 'mosquitto', ...NATS, ...REPLICAS].sort());
    const volumes = new Set<string>();
    for (const n of NATS) {
      const s = file.services[n];
      expect(s.image, n).toMatch(/^nats:2\.(1\d|9)/);
      expect(s.healthcheck?.test, `${n} health check`).toBeTruthy();
      expect(s.restart, n).toBe('unless-stopped');
      expect(s.ports, `${n} is reached on the compose network only`).toBeUndefined();
      expect(s.environment.NATS_NAME).toBe(n);
      const data = (s.volumes as (string | { source: string; target: string })[]).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`)).find((v) => v.includes(':/data'));
      expect(data, `${n} JetStream volume`).toBeTruthy();
      volumes.add(data!.split(':')[0]!);
    }
    expect(volumes.size, 'one JetStream volume per node').toBe(3);
    const spools = new Set<string>();
    const hosts = new Set<string>();
    for (const r of REPLICAS) {
      const s = file.services[r];
      for (const n of NATS) expect(s.depends_on?.[n]?.condition, `${r} waits for ${n}`).toBe('service_healthy');
      expect(s.environment.VEILLEUR_CONFIG).toBe('/etc/veilleur/veilleur-ha.yaml');
      expect(s.healthcheck?.test).toBeTruthy();
      expect(JSON.stringify(s.ports)).toContain('127.0.0.1');
      const spool = (s.volumes as (string | { source: string; target: string })[]).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`)).find((v) => v.endsWith(':/var/lib/veilleur') || v.includes(':/var/lib/veilleur:'));
      spools.add(spool!.split(':')[0]!);
      hosts.add(s.hostname);
    }
    // Each replica its own spool (a local write-ahead journal) and its own id (the host name).
    expect(spools.size).toBe(2);
    expect([...hosts].sort()).toEqual(['veilleur-1', 'veilleur-2']);
  });

  it('gives both replicas the same variables, all known to the configuration schema or named by it (NATS password)', () => {
    const cfg = fileSchema.parse(parse(readFileSync(haConfigFile, 'utf8')));
    const known = new Set([...Object.keys(envSchema.shape), cfg.cluster!.nats.passwordEnv!]);
    const [a, b] = REPLICAS.map((r) => file.services[r].environment as Record<string, string>);
    expect(Object.keys(a!).sort()).toEqual(Object.keys(b!).sort());
    expect(Object.keys(a!).filter((k) => !known.has(k))).toEqual([]);
    const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(a!).filter(([k, v]) => v !== '' && k in envSchema.shape)));
    expect(parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`)).toEqual([]);
  });

  it("has a Veilleur configuration whose cluster: section names the three nodes and keeps three copies of the stream", () => {
    const cfg = fileSchema.parse(parse(readFileSync(haConfigFile, 'utf8')));
    expect(cfg.cluster?.nats.servers.map((u) => new URL(u).hostname).sort()).toEqual(NATS);
    expect(cfg.cluster?.streamReplicas).toBe(3);
    // Its registry is that of the single-replica file plus the cluster: section.
    const single = parse(readFileSync(join(ROOT, 'infra', 'veilleur', 'veilleur.yaml'), 'utf8')) as Record<string, unknown>;
    const ha = parse(readFileSync(haConfigFile, 'utf8')) as Record<string, unknown>;
    delete ha.cluster;
    expect(ha).toEqual(single);
  });

  it('has a NATS configuration nats-server accepts, with routes to the three nodes and client authentication', () => {
    const conf = readFileSync(join(ROOT, 'infra', 'nats', 'nats.conf'), 'utf8');
    for (const n of NATS) expect(conf).toContain(`nats-route://${n}:6222`);
    expect(conf).toMatch(/authorization\s*{[^}]*password:\s*\$NATS_PASSWORD/);
    const bin = which('nats-server');
    if (!bin) throw new Error("nats-server is not installed: run 'sudo apt-get install -y nats-server'");
    const ok = spawnSync(bin, ['-t', '-c', join(ROOT, 'infra', 'nats', 'nats.conf')], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NATS_NAME: 'nats-1', NATS_PASSWORD: 'x' } });
    expect(`${ok.stdout}${ok.stderr}`).toMatch(/is valid/);
    expect(ok.status).toBe(0);
    // Without the password the node refuses to start rather than run without authentication.
    const bad = spawnSync(bin, ['-t', '-c', join(ROOT, 'infra', 'nats', 'nats.conf')], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NATS_NAME: 'nats-1' } });
    expect(bad.status).not.toBe(0);
    expect(`${bad.stdout}${bad.stderr}`).toMatch(/NATS_PASSWORD/);
  });

  it('documents in .env.example every variable the file uses', () => {
    const used = new Set([...readFileSync(join(ROOT, 'docker-compose.ha.yml'), 'utf8').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!));
    const documented = new Set([...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    expect([...used].filter((v) => !documented.has(v))).toEqual([]);
    expect(used.has('NATS_PASSWORD')).toBe(true);
  });
});
