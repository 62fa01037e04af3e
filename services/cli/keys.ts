/**
 * `veilleur keys`: API keys without editing the configuration nor restarting. `create`, `revoke` and `rotate` change
 * the key store (`DATA_DIR/api-keys.json`), which the running service reads again on its next request; `list` shows
 * the keys of the configuration file (`VEILLEUR_CONFIG`) and of the store. The key itself is printed once, on
 * stdout (alone, for scripts); everything else goes to stderr.
 * `veilleur keys create --print`: the configuration entry (a hash) to paste under `apiKeys:` instead (the earlier way).
 * `veilleur keys hash`: the entry for a key read from stdin (to move a key to another instance).
 */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { API_ROLES, apiKeyEntry, generateKey, hashOfKey, KeyError, KeyRing, KeyStore, type KeyView } from '../api/keys.ts';
import { loadFile } from '../config/load.ts';
import { localActor } from '../retention/apply.ts';

export const KEYS_USAGE = `usage: veilleur keys create --name NAME --role viewer|operator|admin --tenant T [--tenant T2…] [--expires RFC3339] [--id ID] [--print]
       veilleur keys list [--tenant T] [--json]
       veilleur keys revoke ID
       veilleur keys rotate ID [--grace-hours H]
       veilleur keys hash --name NAME --role R --tenant T < key.txt
  Keys are kept in DATA_DIR/api-keys.json (DATA_DIR: ./data by default) and apply at once to the running service;
  VEILLEUR_CONFIG names the configuration file whose apiKeys are listed too. In cluster mode (a cluster: section)
  the keys are in NATS: use the API (/api/v1/keys); only hash and create --print work here.
  --tenant '*' covers every tenant of the instance (needed for /metrics when it is not public)
  --print     print the configuration entry to paste under apiKeys: instead of storing the key
  --grace-hours  how long the old key keeps working after a rotation (0, the default: it stops at once)
`;

type Values = { name?: string; role?: string; tenant?: string[]; expires?: string; id?: string; print?: boolean; json?: boolean; 'grace-hours'?: string };

export async function keysCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [action, ...rest] = args;
  if (!['create', 'hash', 'list', 'revoke', 'rotate'].includes(action ?? '')) {
    process.stderr.write(KEYS_USAGE);
    return action === '--help' || action === '-h' ? 0 : 2;
  }
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: action === 'revoke' || action === 'rotate',
      options: {
        name: { type: 'string' },
        role: { type: 'string' },
        tenant: { type: 'string', multiple: true },
        expires: { type: 'string' },
        id: { type: 'string' },
        print: { type: 'boolean' },
        json: { type: 'boolean' },
        'grace-hours': { type: 'string' },
      },
    }));
  } catch (err) {
    process.stderr.write(`veilleur keys: ${(err as Error).message}\n${KEYS_USAGE}`);
    return 2;
  }
  try {
    if (action === 'hash' || (action === 'create' && values.print)) return await printEntry(action, values);
    const configFile = env.VEILLEUR_CONFIG || undefined;
    const config = configFile ? loadFile(configFile) : undefined;
    if (config?.cluster) {
      // Cluster mode: the keys live in NATS (services/cluster/shared-keys.ts); DATA_DIR/api-keys.json is only a
      // replica's cache, and a change made there would reach the cluster only at that replica's next start.
      process.stderr.write(
        `veilleur keys ${action}: ${configFile} has a cluster: section, so the API keys are shared by the replicas in NATS (bucket veilleur_keys), not kept in ${KeyStore.inDataDir(env.DATA_DIR || './data').file}. Use the API with an admin key instead: GET /api/v1/keys, POST /api/v1/keys, POST /api/v1/keys/{id}/revoke, POST /api/v1/keys/{id}/rotate (docs/api.md); or 'veilleur keys create --print' for an entry to add under apiKeys: in the configuration file.\n`,
      );
      return 2;
    }
    const ring = new KeyRing(config?.apiKeys ?? [], { store: KeyStore.inDataDir(env.DATA_DIR || './data'), ...(configFile ? { configFile } : {}) });
    const by = `CLI ${localActor()}`;
    if (action === 'list') {
      const keys = ring.list((k) => !values.tenant || values.tenant.some((t) => k.tenants.includes(t)));
      process.stdout.write(values.json ? `${JSON.stringify(keys, null, 2)}\n` : table(keys));
      return 0;
    }
    if (action === 'create') {
      if (config && values.tenant) {
        const known = new Set([...config.tenants.map((t) => t.id), ...config.devices.flatMap((d) => (d.tenant ? [d.tenant] : [])), env.DEFAULT_TENANT || 'default']);
        const unknown = values.tenant.filter((t) => t !== '*' && !known.has(t));
        if (unknown.length) throw new KeyError('invalid', `--tenant: no commune ${unknown.map((t) => `'${t}'`).join(', ')} in ${configFile}`);
      }
      const made = await ring.create({ name: values.name ?? '', role: (values.role ?? '') as never, tenants: values.tenant ?? [], expires: values.expires, id: values.id }, by);
      process.stderr.write(`API key ${made.view.id} (${made.view.name}, ${made.view.role}, ${made.view.tenants.join(', ')}) created in ${KeyStore.inDataDir(env.DATA_DIR || './data').file}; it works at once. The key, shown once (keep it in a password manager):\n`);
      process.stdout.write(`${made.key}\n`);
      return 0;
    }
    const id = positionals[0];
    if (!id || positionals.length > 1) throw new KeyError('invalid', `expected one key id (veilleur keys list shows them)`);
    if (action === 'revoke') {
      const v = await ring.revoke(id, by);
      process.stderr.write(`API key ${v.id} (${v.name}) revoked: refused from its next request on${v.source === 'config' ? `; remove it from ${configFile ?? 'the configuration file'} when convenient` : ''}\n`);
      return 0;
    }
    const grace = values['grace-hours'] ?? '0';
    if (!/^\d{1,3}$/.test(grace) || Number(grace) > 720) throw new KeyError('invalid', '--grace-hours: expected a whole number of hours from 0 to 720');
    const made = await ring.rotate(id, by, Number(grace) * 3_600_000);
    process.stderr.write(`API key ${made.view.id} replaces ${id} (${made.view.name}); ${id} stops working ${Number(grace) === 0 ? 'now' : `at ${made.old.expires}`}. The new key, shown once:\n`);
    process.stdout.write(`${made.key}\n`);
    return 0;
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`veilleur keys: ${e instanceof KeyError && e.code === 'invalid' ? cliFlags(e.message) : e.message}\n`);
    return e instanceof KeyError && e.code === 'not_found' ? 1 : 2;
  }
}

/** Error paths named as the flags that set them. */
function cliFlags(message: string): string {
  const flag: Record<string, string> = { name: '--name', role: `--role (${API_ROLES.join(', ')})`, tenants: '--tenant', expires: '--expires', id: '--id' };
  return message.replace(/(^|; )(name|role|tenants|expires|id): /g, (_m, sep: string, k: string) => `${sep}${flag[k]}: `);
}

async function printEntry(action: string, values: Values): Promise<number> {
  let key: string | undefined;
  let stored: { id: string; hash: string };
  if (action === 'create') {
    const made = generateKey(values.id);
    key = made.key;
    stored = made;
  } else {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    stored = hashOfKey(Buffer.concat(chunks).toString('utf8').trim());
  }
  const entry = apiKeyEntry.safeParse({
    id: stored.id,
    name: values.name,
    role: values.role,
    tenants: values.tenant,
    hash: stored.hash,
    ...(values.expires ? { expires: values.expires } : {}),
    ...(key ? { created: new Date().toISOString() } : {}),
  });
  if (!entry.success) throw new KeyError('invalid', entry.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; '));
  if (key) process.stderr.write(`API key (shown once, keep it in a password manager):\n${key}\n\nAppend under apiKeys: in the configuration file:\n`);
  process.stdout.write(stringify([entry.data]));
  return 0;
}

function table(keys: KeyView[]): string {
  const day = (s: string | null) => (s ? s.slice(0, 16).replace('T', ' ') : '–');
  const rows = [
    ['id', 'name', 'role', 'communes', 'created', 'expires', 'last used', 'state', 'source'],
    ...keys.map((k) => [k.id, k.name, k.role, k.tenants.join(','), day(k.created), day(k.expires), day(k.lastUsed), k.state, k.source]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
