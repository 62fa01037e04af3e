/**
 * `veilleur keys create`: a new API key. The key is printed once, on stderr; the configuration entry (its hash)
 * on stdout, ready to append under `apiKeys:` in the YAML file. Rotation: create a new key, deploy it, then give
 * the old entry an `expires` date (or delete it) and restart.
 * `veilleur keys hash`: the entry for a key read from stdin (to move a key to another instance).
 */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { API_ROLES, apiKeyEntry, generateKey, hashOfKey } from '../api/keys.ts';

export const KEYS_USAGE = `usage: veilleur keys create --name NAME --role viewer|operator|admin --tenant T [--tenant T2…] [--expires RFC3339] [--id ID]
       veilleur keys hash --name NAME --role R --tenant T < key.txt
  --tenant '*' covers every tenant of the instance (needed for /metrics when it is not public)
`;

export async function keysCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'create' && action !== 'hash') {
    process.stderr.write(KEYS_USAGE);
    return action === '--help' || action === '-h' ? 0 : 2;
  }
  let values: { name?: string | undefined; role?: string | undefined; tenant?: string[] | undefined; expires?: string | undefined; id?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      options: { name: { type: 'string' }, role: { type: 'string' }, tenant: { type: 'string', multiple: true }, expires: { type: 'string' }, id: { type: 'string' } },
    }));
  } catch (err) {
    process.stderr.write(`veilleur keys: ${(err as Error).message}\n${KEYS_USAGE}`);
    return 2;
  }
  let key: string | undefined;
  let stored: { id: string; hash: string };
  try {
    if (action === 'create') {
      const made = generateKey(values.id);
      key = made.key;
      stored = made;
    } else {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      stored = hashOfKey(Buffer.concat(chunks).toString('utf8').trim());
    }
  } catch (err) {
    process.stderr.write(`veilleur keys: ${(err as Error).message}\n`);
    return 2;
  }
  const entry = apiKeyEntry.safeParse({ id: stored.id, name: values.name, role: values.role, tenants: values.tenant, hash: stored.hash, ...(values.expires ? { expires: values.expires } : {}) });
  if (!entry.success) {
    const flag: Record<string, string> = { name: '--name', role: `--role (${API_ROLES.join(', ')})`, tenants: '--tenant', expires: '--expires', id: '--id' };
    process.stderr.write(`veilleur keys: ${entry.error.issues.map((i) => `${flag[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`).join('; ')}\n`);
    return 2;
  }
  if (key) process.stderr.write(`API key (shown once, keep it in a password manager):\n${key}\n\nAppend under apiKeys: in the configuration file:\n`);
  process.stdout.write(stringify([entry.data]));
  return 0;
}
