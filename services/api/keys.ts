/**
 * API keys: `vk_<id>_<secret>`, where the id is public (it names the key in logs and in the configuration) and the
 * secret is 32 random bytes. Only a SHA-256 hash of the secret is stored. A slow password hash (scrypt) buys
 * nothing for 256 random bits and would make every request a CPU cost an attacker can trigger, so the hash is
 * fast and compared in constant time. Keys are scoped to tenants (communes, or '*' for the whole instance) and
 * carry one role: viewer (read) < operator (acknowledge/resolve alerts, backtests) < admin (re-decode, settings,
 * keys of its communes).
 *
 * The ring holds the keys of the configuration file and those of the key store (key-store.ts): created, revoked and
 * rotated through the CLI or the API, applied at once (the store file is checked on every authentication, so a
 * change made by `veilleur keys` in another process counts from the next request) and kept across restarts. In
 * cluster mode the store is a NATS bucket every replica watches (services/cluster/shared-keys.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { apiKeyEntry, KEY_ID, type ApiKeyEntry, type ApiRole } from './keys-schema.ts';
import { KeyStoreError, type KeyStateStore, type StoreState, type StoredKey } from './key-store.ts';

export { API_ROLES, apiKeyEntry, apiKeyList, type ApiKeyEntry, type ApiRole } from './keys-schema.ts';
export { KeyStore, KeyStoreError, type KeyStateStore } from './key-store.ts';

const RANK: Record<ApiRole, number> = { viewer: 0, operator: 1, admin: 2 };

export function hasRole(role: ApiRole, needed: ApiRole): boolean {
  return RANK[role] >= RANK[needed];
}

const KEY_FORMAT = /^vk_([a-z0-9]{8,32})_([A-Za-z0-9_-]{43})$/;

/** The public id part of something presented as a key, for logs (never the secret); undefined when malformed. */
export function presentedKeyId(presented: string): string | undefined {
  return /^vk_([a-z0-9]{8,32})_/.exec(presented)?.[1];
}

export interface Principal {
  keyId: string;
  name: string;
  role: ApiRole;
  /** Undefined: every tenant of the instance. */
  tenants: ReadonlySet<string> | undefined;
  /**
   * A person signed in to the console through single sign-on (services/console/oidc.ts), not a key: `keyId` is then
   * `oidc:<provider>:<subject>` and `name` the person's name or e-mail.
   */
  person?: { provider: string; subject: string; email?: string | undefined };
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

export type KeyState = 'active' | 'expired' | 'revoked';

/** What `veilleur keys list` and `GET /api/v1/keys` show of a key: never its hash. */
export interface KeyView {
  id: string;
  name: string;
  role: ApiRole;
  tenants: string[];
  /** `config`: the configuration file; `store`: created through the CLI or the API. */
  source: 'config' | 'store';
  created: string | null;
  createdBy: string | null;
  expires: string | null;
  lastUsed: string | null;
  state: KeyState;
  revoked: { at: string; by: string } | null;
  rotatedFrom: string | null;
}

interface Effective extends ApiKeyEntry {
  source: 'config' | 'store';
  createdBy?: string;
  rotatedFrom?: string;
  revoked?: { at: string; by: string };
}

export interface NewKey {
  name: string;
  role: ApiRole;
  tenants: string[];
  expires?: string | undefined;
  id?: string | undefined;
}

export class KeyError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

export interface KeyRingOptions {
  /**
   * Where created, revoked and rotated keys are kept (a file; in cluster mode a NATS bucket shared by the replicas);
   * without it changes last until the process ends (tests).
   */
  store?: KeyStateStore;
  /** For messages: where the configuration's keys come from. */
  configFile?: string;
  /** A store that changed on disk and cannot be read: the ring keeps what it had and says so here. */
  onReloadError?: (err: Error) => void;
}

export class KeyRing {
  private byId = new Map<string, Effective>();
  private signature = '';
  private readonly lastUsed = new Map<string, number>();
  private usageDirty = false;

  constructor(
    private readonly configEntries: readonly ApiKeyEntry[],
    private readonly opts: KeyRingOptions = {},
  ) {
    // Start-up: a store that cannot be read or that clashes with the configuration is an error, not a warning.
    this.rebuild(opts.store ? opts.store.read() : undefined);
    if (opts.store) this.signature = opts.store.signature();
  }

  /** Keys that authenticate now. */
  get size(): number {
    this.refresh();
    const now = Date.now();
    return [...this.byId.values()].filter((e) => stateOf(e, now) === 'active').length;
  }

  get persistent(): boolean {
    return this.opts.store !== undefined;
  }

  /** The principal for a presented key, or undefined (unknown, wrong secret, expired, revoked) without saying which. */
  authenticate(presented: string, now = new Date()): Principal | undefined {
    const m = KEY_FORMAT.exec(presented);
    if (!m) return undefined;
    this.refresh();
    const entry = this.byId.get(m[1]!);
    if (!entry) return undefined;
    const expected = Buffer.from(entry.hash.slice('sha256:'.length), 'hex');
    if (!timingSafeEqual(hashSecret(m[2]!), expected)) return undefined;
    const p = this.principalById(entry.id, now);
    if (p) {
      this.lastUsed.set(entry.id, now.getTime());
      this.usageDirty = true;
    }
    return p;
  }

  /**
   * The principal of a key already proven once (a console session holds only the key id): undefined when the key
   * is gone from the ring, revoked or expired since, so its sessions end with it.
   */
  principalById(id: string, now = new Date()): Principal | undefined {
    this.refresh();
    const entry = this.byId.get(id);
    if (!entry || stateOf(entry, now.getTime()) !== 'active') return undefined;
    return {
      keyId: entry.id,
      name: entry.name,
      role: entry.role,
      tenants: entry.tenants.includes('*') ? undefined : new Set(entry.tenants),
    };
  }

  /** Every key (active, expired, revoked), oldest first; `visible` filters them (a commune admin sees its own). */
  list(visible: (k: KeyView) => boolean = () => true, now = new Date()): KeyView[] {
    this.refresh();
    const stored = this.opts.store?.readUsage() ?? {};
    return [...this.byId.values()]
      .map((e) => this.view(e, stored, now.getTime()))
      .filter(visible)
      .sort((a, b) => (a.created ?? '').localeCompare(b.created ?? '') || a.id.localeCompare(b.id));
  }

  find(id: string, now = new Date()): KeyView | undefined {
    this.refresh();
    const e = this.byId.get(id);
    return e ? this.view(e, this.opts.store?.readUsage() ?? {}, now.getTime()) : undefined;
  }

  /** A new key, kept in the store: the key itself is returned once and never stored. */
  async create(input: NewKey, by: string, now = new Date()): Promise<{ key: string; view: KeyView }> {
    const made = generateKey(input.id);
    const entry = apiKeyEntry.safeParse({ id: made.id, name: input.name, role: input.role, tenants: input.tenants, hash: made.hash, ...(input.expires ? { expires: input.expires } : {}) });
    if (!entry.success) throw new KeyError('invalid', entry.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; '));
    if (input.expires && Date.parse(input.expires) <= now.getTime()) throw new KeyError('invalid', `expires: ${input.expires} is already past`);
    const stored: StoredKey = { ...entry.data, created: now.toISOString(), createdBy: by };
    await this.change((s) => {
      if (this.configEntries.some((k) => k.id === stored.id) || s.keys.some((k) => k.id === stored.id)) throw new KeyError('conflict', `a key with id '${stored.id}' exists already`);
      s.keys.push(stored);
    });
    return { key: made.key, view: this.find(stored.id, now)! };
  }

  /** Refused from the next request on; its console sessions end. Revoking twice is harmless. */
  async revoke(id: string, by: string, now = new Date()): Promise<KeyView> {
    const decision = { at: now.toISOString(), by };
    await this.change((s) => {
      const stored = s.keys.find((k) => k.id === id);
      if (stored) stored.revoked ??= decision;
      else if (this.configEntries.some((k) => k.id === id)) {
        const c = (s.config[id] ??= {});
        c.revoked ??= decision;
      } else throw new KeyError('not_found', `key ${id} not found`);
    });
    return this.find(id, now)!;
  }

  /**
   * A new key with the same name, role and tenants; the old one stops working after `graceMs` (0: at once), time
   * enough to deploy the new one where the old one was used.
   */
  async rotate(id: string, by: string, graceMs: number, now = new Date()): Promise<{ key: string; view: KeyView; old: KeyView }> {
    this.refresh();
    const old = this.byId.get(id);
    if (!old) throw new KeyError('not_found', `key ${id} not found`);
    if (stateOf(old, now.getTime()) !== 'active') throw new KeyError('conflict', `key ${id} is ${stateOf(old, now.getTime())}: create a new key instead`);
    const made = generateKey();
    const until = new Date(now.getTime() + graceMs).toISOString();
    const stored: StoredKey = {
      id: made.id,
      name: old.name,
      role: old.role,
      tenants: [...old.tenants],
      hash: made.hash,
      // A key that was to expire still does: rotation changes the secret, not the decision on its lifetime.
      ...(old.expires ? { expires: old.expires } : {}),
      created: now.toISOString(),
      createdBy: by,
      rotatedFrom: old.id,
    };
    await this.change((s) => {
      const earlier = (current: string | undefined) => (current && Date.parse(current) < Date.parse(until) ? current : until);
      const inStore = s.keys.find((k) => k.id === id);
      if (inStore) inStore.expires = earlier(inStore.expires);
      else {
        const c = (s.config[id] ??= {});
        c.expires = earlier(c.expires);
      }
      s.keys.push(stored);
    });
    return { key: made.key, view: this.find(stored.id, now)!, old: this.find(id, now)! };
  }

  /** Writes the last-use times gathered since the previous call (the service calls it now and then, and at stop). */
  flushUsage(): void {
    if (!this.usageDirty || !this.opts.store) return;
    this.usageDirty = false;
    const usage = this.opts.store.readUsage();
    for (const [id, t] of this.lastUsed) if (!usage[id] || Date.parse(usage[id]) < t) usage[id] = new Date(t).toISOString();
    for (const id of Object.keys(usage)) if (!this.byId.has(id)) delete usage[id];
    this.opts.store.writeUsage(usage);
  }

  private async change(fn: (s: StoreState) => void): Promise<void> {
    if (this.opts.store) {
      const state = await this.opts.store.update((s) => {
        fn(s);
        return s;
      });
      this.rebuild(state);
      this.signature = this.opts.store.signature();
    } else {
      this.memory ??= { version: 1, keys: [], config: {} };
      const copy = structuredClone(this.memory);
      fn(copy);
      this.rebuild(copy);
      this.memory = copy;
    }
  }

  private memory: StoreState | undefined;

  /** Picks up a change another process made to the store; a store that became unreadable keeps the last good keys. */
  private refresh(): void {
    const store = this.opts.store;
    if (!store) return;
    const sig = store.signature();
    if (sig === this.signature) return;
    try {
      this.rebuild(store.read());
      this.signature = sig;
    } catch (err) {
      this.signature = sig;
      this.opts.onReloadError?.(err as Error);
    }
  }

  private rebuild(state: StoreState | undefined): void {
    const next = new Map<string, Effective>();
    for (const e of this.configEntries) {
      const d = state?.config[e.id];
      const expires = [e.expires, d?.expires].filter((x): x is string => x !== undefined).sort((a, b) => Date.parse(a) - Date.parse(b))[0];
      next.set(e.id, { ...e, source: 'config', ...(expires ? { expires } : {}), ...(d?.revoked ? { revoked: d.revoked } : {}) });
    }
    for (const k of state?.keys ?? []) {
      if (next.has(k.id)) {
        const where = this.opts.configFile ? `the configuration file ${this.opts.configFile}` : 'the configuration';
        throw new KeyStoreError(`key id '${k.id}' is in ${where} (apiKeys, name '${next.get(k.id)!.name}') and in the key store ${this.opts.store?.where ?? ''} (name '${k.name}', created ${k.created}): remove one of them`);
      }
      next.set(k.id, { ...k, source: 'store' });
    }
    this.byId = next;
  }

  private view(e: Effective, usage: Record<string, string>, now: number): KeyView {
    const mem = this.lastUsed.get(e.id);
    const disk = usage[e.id] ? Date.parse(usage[e.id]!) : undefined;
    const last = Math.max(mem ?? -Infinity, disk ?? -Infinity);
    return {
      id: e.id,
      name: e.name,
      role: e.role,
      tenants: [...e.tenants],
      source: e.source,
      created: e.created ?? null,
      createdBy: e.createdBy ?? null,
      expires: e.expires ?? null,
      lastUsed: Number.isFinite(last) ? new Date(last).toISOString() : null,
      state: stateOf(e, now),
      revoked: e.revoked ?? null,
      rotatedFrom: e.rotatedFrom ?? null,
    };
  }
}

function stateOf(e: Effective, now: number): KeyState {
  if (e.revoked) return 'revoked';
  if (e.expires && Date.parse(e.expires) <= now) return 'expired';
  return 'active';
}

/** May this principal manage (see, revoke, rotate) that key? Instance admins all; a commune admin its communes' keys. */
export function mayManage(p: Principal, tenants: readonly string[]): boolean {
  return p.tenants === undefined || (tenants.length > 0 && tenants.every((t) => t !== '*' && p.tenants!.has(t)));
}

export { KEY_ID };
