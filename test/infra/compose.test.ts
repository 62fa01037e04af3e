/**
 * docker-compose.yml checked without a Docker engine: the Compose client validates it against the Compose
 * specification (`config`), then the rendered file is checked for what production needs and for agreement with
 * Veilleur's own configuration schema (a misspelt variable would otherwise be silently ignored).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../../services/config/schema.ts';
import { ROOT } from '../integration/support.ts';

/** `docker compose` (v2) when present, else Debian's docker-compose (1.29). */
function compose(args: string[]): { status: number | null; stdout: string; stderr: string; client: string } {
  const v2 = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  const [cmd, pre] = v2.status === 0 ? ['docker', ['compose']] : ['docker-compose', []];
  const r = spawnSync(cmd, [...pre, '--env-file', '.env.example', ...args], { cwd: ROOT, encoding: 'utf8' });
  if (r.error) throw new Error(`no Compose client (${r.error.message}): apt-get install docker-compose, or install Docker Compose v2`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, client: [cmd, ...pre].join(' ') };
}

describe('docker-compose.yml', () => {
  const rendered = compose(['config']);
  const file = parse(rendered.stdout) as { services: Record<string, any> };

  it('passes `compose config` against the Compose specification', () => {
    console.log(`[compose] validated with ${rendered.client}`);
    expect(rendered.stderr).not.toMatch(/error|invalid/i);
    expect(rendered.status).toBe(0);
    expect(compose(['config', '-q']).status).toBe(0);
  });

  it('runs Mosquitto with persistence, InfluxDB 2.7 initialised, Grafana provisioned and Veilleur, each with a health check and volumes', () => {
    expect(Object.keys(file.services).sort()).toEqual(['grafana', 'influxdb', 'mosquitto', 'veilleur']);
    for (const [name, s] of Object.entries(file.services)) {
      if (name !== 'grafana') expect(s.healthcheck?.test, `${name} health check`).toBeTruthy();
      expect(s.restart, `${name} restart policy`).toBe('unless-stopped');
      expect(s.volumes?.length, `${name} volumes`).toBeGreaterThan(0);
    }
    expect(readFileSync(join(ROOT, 'infra', 'mosquitto', 'mosquitto.conf'), 'utf8')).toMatch(/^persistence true$/m);
    expect(file.services.influxdb.image).toBe('influxdb:2.7');
    expect(file.services.influxdb.environment).toMatchObject({ DOCKER_INFLUXDB_INIT_MODE: 'setup', DOCKER_INFLUXDB_INIT_ORG: 'collectivite', DOCKER_INFLUXDB_INIT_BUCKET: 'veilleur' });
    const grafanaMounts = JSON.stringify(file.services.grafana.volumes);
    expect(grafanaMounts).toContain('infra/grafana/provisioning');
    expect(grafanaMounts).toContain('infra/grafana/dashboards');
    expect(JSON.stringify(file.services.veilleur.depends_on)).toContain('service_healthy');
    // Only the API port of Veilleur, and only on the host's loopback (a reverse proxy publishes it).
    expect(JSON.stringify(file.services.veilleur.ports)).toContain('127.0.0.1');
    expect(file.services.influxdb.ports).toBeUndefined();
  });

  it('gives Veilleur only variables its configuration schema knows, and valid values', () => {
    const env = file.services.veilleur.environment as Record<string, string>;
    const known = new Set(Object.keys(envSchema.shape));
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
    expect(parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`)).toEqual([]);
  });

  it('documents in .env.example every variable the file uses', () => {
    const used = new Set([...readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!));
    const documented = new Set([...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    expect([...used].filter((v) => !documented.has(v))).toEqual([]);
  });
});
