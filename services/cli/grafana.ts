/**
 * `veilleur grafana provision`: Grafana's provisioning files from the configuration (services/grafana/provisioning.ts,
 * docs/grafana.md): one organisation per commune with a datasource holding that commune's read-only key, the
 * instance team's organisation with a key covering every commune. Keys are made, or rotated when run again, in the
 * key store (DATA_DIR/api-keys.json), so the running service accepts them at once.
 */
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { KeyRing, KeyStore } from '../api/keys.ts';
import { loadFile } from '../config/load.ts';
import { grafanaKeys, grafanaOrgs, provisioningFiles } from '../grafana/provisioning.ts';
import { localActor } from '../retention/apply.ts';

export const GRAFANA_USAGE = `usage: veilleur grafana provision --out DIR [--veilleur-url URL] [--org COMMUNE=ID …] [--grace-hours H] [--owner UID[:GID]]
  Writes DIR/datasources/veilleur.yaml and DIR/dashboards/veilleur.yaml (Grafana's provisioning directory) from the
  communes of VEILLEUR_CONFIG: organisation 1 for the instance team (every commune), then one per commune, numbered
  2, 3… in the order of tenants: unless --org gives its id. Each datasource reads Veilleur's /api/v1/grafana with a
  read-only key made (or rotated, when run again) in DATA_DIR/api-keys.json.
  --veilleur-url  Veilleur as Grafana reaches it (default http://veilleur:8080, the compose service)
  --grace-hours   how long the keys replaced by a new run keep working (default 1)
  --owner         give the files (0600) to Grafana's user, e.g. 472 in its official image (needs root)
`;

export async function grafanaCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'provision') {
    process.stderr.write(GRAFANA_USAGE);
    return action === '--help' || action === '-h' ? 0 : 2;
  }
  let values: { out?: string; 'veilleur-url'?: string; org?: string[]; 'grace-hours'?: string; owner?: string };
  try {
    ({ values } = parseArgs({ args: rest, strict: true, options: { out: { type: 'string' }, 'veilleur-url': { type: 'string' }, org: { type: 'string', multiple: true }, 'grace-hours': { type: 'string' }, owner: { type: 'string' } } }));
  } catch (err) {
    process.stderr.write(`veilleur grafana: ${(err as Error).message}\n${GRAFANA_USAGE}`);
    return 2;
  }
  const fail = (message: string) => {
    process.stderr.write(`veilleur grafana: ${message}\n`);
    return 2;
  };
  if (!values.out) return fail('--out DIR is required (Grafana provisioning directory, e.g. infra/grafana/provisioning)');
  const configFile = env.VEILLEUR_CONFIG;
  if (!configFile) return fail('VEILLEUR_CONFIG must name the configuration file: its tenants: are the communes');
  const orgIds: Record<string, number> = {};
  for (const o of values.org ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(o);
    if (!m) return fail(`--org ${o}: expected COMMUNE=ID, e.g. --org saint-veilleur=2`);
    orgIds[m[1]!] = Number(m[2]);
  }
  const grace = Number(values['grace-hours'] ?? '1');
  if (!Number.isFinite(grace) || grace < 0) return fail(`--grace-hours ${values['grace-hours']}: expected a number of hours ≥ 0`);
  const veilleurUrl = values['veilleur-url'] ?? 'http://veilleur:8080';
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(veilleurUrl)) return fail(`--veilleur-url ${veilleurUrl}: expected an http(s) URL`);

  const owner = values.owner === undefined ? undefined : /^(\d+)(?::(\d+))?$/.exec(values.owner);
  if (owner === null) return fail(`--owner ${values.owner}: expected UID or UID:GID (numbers), e.g. 472`);

  const config = loadFile(configFile);
  if (config.tenants.length === 0) return fail(`${configFile} has no tenants: nothing to give its own organisation`);
  let orgs;
  try {
    orgs = grafanaOrgs(config, orgIds);
  } catch (err) {
    return fail((err as Error).message);
  }
  const store = KeyStore.inDataDir(env.DATA_DIR || './data');
  const ring = new KeyRing(config.apiKeys, { store, configFile });
  const { keys, made, rotated } = await grafanaKeys(ring, orgs, `CLI ${localActor()} (grafana provision)`, grace * 3_600_000);
  for (const [path, text] of provisioningFiles(orgs, keys, { veilleurUrl })) {
    const file = join(values.out, path);
    mkdirSync(dirname(file), { recursive: true });
    // The datasource file holds keys: readable by its owner only (Grafana's container runs as that user or root).
    writeFileSync(file, text, { mode: 0o600 });
    chmodSync(file, 0o600);
    if (owner) chownSync(file, Number(owner[1]), Number(owner[2] ?? owner[1]));
    process.stderr.write(`wrote ${file}\n`);
  }
  process.stderr.write(
    `${made.length} read-only keys in ${store.file} (${made.map((k) => `${k.id}: ${k.name}`).join(', ')})` +
      (rotated.length === 1 ? `; the key it replaces stops working in ${grace} h` : rotated.length ? `; the ${rotated.length} keys they replace stop working in ${grace} h` : '') +
      `.\nGrafana cannot create organisations from files: create those missing once, then restart Grafana:\n` +
      orgs
        .filter((o) => o.orgId !== 1)
        .map((o) => `  curl -u admin:$GRAFANA_ADMIN_PASSWORD -H 'content-type: application/json' -d '${JSON.stringify({ name: o.name }).replace(/'/g, "'\\''")}' http://127.0.0.1:3000/api/orgs   # → id ${o.orgId}\n`)
        .join('') +
      `Then add each commune's agents to its organisation (Viewer), and the instance team to organisation 1.\n`,
  );
  return 0;
}
