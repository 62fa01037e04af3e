/**
 * API keys: `vk_<id>_<secret>`, where the id is public (it names the key in logs and in the configuration) and the
 * secret is 32 random bytes. Only a SHA-256 hash of the secret is stored. A slow password hash (scrypt) buys
 * nothing for 256 random bits and would make every request a CPU cost an attacker can trigger, so the hash is
 * fast and compared in constant time. Keys are scoped to tenants (communes, or '*' for the whole instance) and
 * carry one role: viewer (read) < operator (acknowledge/resolve alerts, backtests) < admin (re-decode, settings).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const API_ROLES = ['viewer', 'operator', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];
const RANK: Record<ApiRole, number> = { viewer: 0, operator: 1, admin: 2 };

export function hasRole(role: ApiRole, needed: ApiRole): boolean {
  return RANK[role] >= RANK[needed];
}

const KEY_ID = /^[a-z0-9]{8,32}$/;
const KEY_FORMAT = /^vk_([a-z0-9]{8,32})_([A-Za-z0-9_-]{43})$/;

export const apiKeyEntry = z.strictObject({
  id: z.string().regex(KEY_ID, 'expected 8-32 lower-case letters or digits'),
  /** Who or what holds the key ("Grafana mairie", "astreinte eau"), for the audit trail. */
  name: z.string().min(1).max(100),
  role: z.enum(API_ROLES),
  /** Tenants the key may read or change; ['*'] is the whole instance (the agglomeration's own team). */
  tenants: z.array(z.string().regex(/^(\*|[A-Za-z0-9][A-Za-z0-9_.-]{0,62})$/, "expected a tenant id or '*'")).min(1),
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, "expected 'sha256:' and 64 hexadecimal characters (veilleur keys create prints it)"),
  /** After this date the key is refused: rotation keeps the old key valid until the new one is deployed. */
  expires: z.iso.datetime({ offset: true }).optional(),
});
export type ApiKeyEntry = z.infer<typeof apiKeyEntry>;

export interface Principal {
  keyId: string;
  name: string;
  role: ApiRole;
  /** Undefined: every tenant of the instance. */
  tenants: ReadonlySet<string> | undefined;
}

function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function generateKey(id = randomBytes(6).toString('hex')): { key: string; hash: string; id: string } {
  if (!KEY_ID.test(id)) throw new Error(`key id '${id}': expected 8-32 lower-case letters or digits`);
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `vk_${id}_${secret}`, hash: `sha256:${hashSecret(secret).toString('hex')}` };
}

/** The stored form of a key someone already has (to move it between instances). */
export function hashOfKey(key: string): { id: string; hash: string } {
  const m = KEY_FORMAT.exec(key);
  if (!m) throw new Error("not a Veilleur API key: expected 'vk_<id>_<43 characters>'");
  return { id: m[1]!, hash: `sha256:${hashSecret(m[2]!).toString('hex')}` };
}

export class KeyRing {
  private readonly byId = new Map<string, ApiKeyEntry>();

  constructor(entries: readonly ApiKeyEntry[]) {
    for (const e of entries) this.byId.set(e.id, e);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The principal for a presented key, or undefined (unknown, wrong secret, expired) without saying which. */
  authenticate(presented: string, now = new Date()): Principal | undefined {
    const m = KEY_FORMAT.exec(presented);
    if (!m) return undefined;
    const entry = this.byId.get(m[1]!);
    if (!entry) return undefined;
    const expected = Buffer.from(entry.hash.slice('sha256:'.length), 'hex');
    if (!timingSafeEqual(hashSecret(m[2]!), expected)) return undefined;
    return this.principalById(entry.id, now);
  }

  /**
   * The principal of a key already proven once (a console session holds only the key id): undefined when the key
   * is gone from the ring or has expired since, so its sessions end with it.
   */
  principalById(id: string, now = new Date()): Principal | undefined {
    const entry = this.byId.get(id);
    if (!entry) return undefined;
    if (entry.expires && Date.parse(entry.expires) <= now.getTime()) return undefined;
    return {
      keyId: entry.id,
      name: entry.name,
      role: entry.role,
      tenants: entry.tenants.includes('*') ? undefined : new Set(entry.tenants),
    };
  }
}
