/**
 * Keys managed without editing the configuration: `DATA_DIR/api-keys.json` holds the keys created through the CLI
 * or the API (hashes only), and what was decided about keys of the configuration file (revoked, expiry brought
 * forward by a rotation). The configuration file stays a valid source: its keys are read at start-up, this file adds
 * to them. Writers (the service, `veilleur keys` in another process) take a lock file, read, change and replace the
 * file atomically (write, fsync, rename), so neither loses the other's change and a crash leaves the old or the new
 * file, never half of one. Last-use times go to a separate file the service alone writes, now and then.
 */
import { closeSync, fchownSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { apiKeyEntry } from './keys-schema.ts';

export class KeyStoreError extends Error {
  override name = 'KeyStoreError';
}

const decision = z.strictObject({ at: z.iso.datetime({ offset: true }), by: z.string().min(1).max(200) });

const storedKey = apiKeyEntry.extend({
  created: z.iso.datetime({ offset: true }),
  createdBy: z.string().min(1).max(200),
  /** The key this one replaced (rotation). */
  rotatedFrom: z.string().optional(),
  revoked: decision.optional(),
});
export type StoredKey = z.infer<typeof storedKey>;

const storeSchema = z.strictObject({
  version: z.literal(1),
  keys: z.array(storedKey).default([]),
  /** Decisions about keys of the configuration file, by key id. */
  config: z.record(z.string(), z.strictObject({ expires: z.iso.datetime({ offset: true }).optional(), revoked: decision.optional() })).default({}),
});
export type StoreState = z.infer<typeof storeSchema>;

export const emptyStoreState = (): StoreState => ({ version: 1, keys: [], config: {} });

/** The state of the key store as read from JSON (a file, or a NATS bucket in cluster mode); `where` names it in errors. */
export function parseStoreState(raw: unknown, where: string): StoreState {
  const parsed = storeSchema.safeParse(raw);
  if (!parsed.success) throw new KeyStoreError(`key store ${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const seen = new Set<string>();
  for (const k of parsed.data.keys) {
    if (seen.has(k.id)) throw new KeyStoreError(`key store ${where}: key id '${k.id}' appears twice`);
    seen.add(k.id);
  }
  return parsed.data;
}

/**
 * `shared` with what only `local` knows: keys it alone holds, and its revocations and earlier expiries (a decision is
 * never undone, so the union is safe); `changed` false when `local` adds nothing. A key id in both with different
 * hashes keeps the shared key and is listed in `clashes`. Used when a replica joins the cluster with its own key file.
 */
export function mergeStoreStates(shared: StoreState, local: StoreState): { state: StoreState; changed: boolean; added: string[]; clashes: string[] } {
  const state = structuredClone(shared);
  const added: string[] = [];
  const clashes: string[] = [];
  let changed = false;
  for (const k of local.keys) {
    const s = state.keys.find((x) => x.id === k.id);
    if (!s) {
      state.keys.push(structuredClone(k));
      added.push(k.id);
      changed = true;
    } else if (s.hash !== k.hash) clashes.push(k.id);
    else changed = tighten(s, k) || changed;
  }
  for (const [id, d] of Object.entries(local.config)) {
    const s = (state.config[id] ??= {});
    changed = tighten(s, d) || changed;
    if (Object.keys(s).length === 0) delete state.config[id];
  }
  return { state, changed, added, clashes };
}

/** Takes `from`'s revocation and earlier expiry into `to`; true when `to` changed. */
function tighten(to: { expires?: string | undefined; revoked?: { at: string; by: string } | undefined }, from: { expires?: string | undefined; revoked?: { at: string; by: string } | undefined }): boolean {
  let changed = false;
  if (from.expires !== undefined && (to.expires === undefined || Date.parse(from.expires) < Date.parse(to.expires))) {
    to.expires = from.expires;
    changed = true;
  }
  if (from.revoked && !to.revoked) {
    to.revoked = from.revoked;
    changed = true;
  }
  return changed;
}

/**
 * Where the key ring's created keys and decisions live: a file (KeyStore, one process) or a NATS key-value bucket
 * shared by the replicas (cluster mode, services/cluster/shared-keys.ts). The ring reads the state again when the
 * signature changes.
 */
export interface KeyStateStore {
  /** Names the store in messages (a file path, a bucket). */
  readonly where: string;
  /** Changes whenever the state may have: cheap enough to check on every authentication. */
  signature(): string;
  read(): StoreState;
  /** Read, change and write back atomically; `change` may throw to leave the state as it was, and may run twice. */
  update<T>(change: (s: StoreState) => T): Promise<T>;
  readUsage(): Record<string, string>;
  writeUsage(usage: Record<string, string>): void;
}

export class KeyStore implements KeyStateStore {
  readonly usageFile: string;

  constructor(readonly file: string) {
    this.usageFile = file.replace(/\.json$/, '') + '-usage.json';
  }

  get where(): string {
    return this.file;
  }

  /** Where the keys live under a data directory. */
  static inDataDir(dataDir: string): KeyStore {
    return new KeyStore(join(dataDir, 'api-keys.json'));
  }

  /** Changes when the file is replaced: cheap enough to check on every authentication. */
  signature(): string {
    try {
      const s = statSync(this.file);
      return `${s.ino}:${s.mtimeMs}:${s.size}`;
    } catch {
      return 'absent';
    }
  }

  read(): StoreState {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyStoreState();
      throw new KeyStoreError(`key store ${this.file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new KeyStoreError(`key store ${this.file}: not valid JSON (${(err as Error).message})`);
    }
    return parseStoreState(raw, this.file);
  }

  /** Replaces the whole state (a replica's copy of the cluster's keys, cluster mode). */
  async write(state: StoreState): Promise<void> {
    await this.update((s) => {
      s.keys = state.keys;
      s.config = state.config;
    });
  }

  /** Read, change and write back under the lock; `change` may throw to leave the file as it was. */
  async update<T>(change: (s: StoreState) => T): Promise<T> {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const release = await this.lock();
    try {
      const state = this.read();
      const result = change(state);
      writeAtomically(this.file, `${JSON.stringify(state, null, 2)}\n`);
      return result;
    } finally {
      release();
    }
  }

  readUsage(): Record<string, string> {
    try {
      const raw = JSON.parse(readFileSync(this.usageFile, 'utf8')) as unknown;
      return raw && typeof raw === 'object' ? Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
    } catch {
      // Absent or damaged: last-use times are a convenience, not a record.
      return {};
    }
  }

  writeUsage(usage: Record<string, string>): void {
    mkdirSync(dirname(this.usageFile), { recursive: true, mode: 0o700 });
    writeAtomically(this.usageFile, `${JSON.stringify(usage, null, 2)}\n`);
  }

  private async lock(): Promise<() => void> {
    const lockFile = `${this.file}.lock`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        closeSync(openSync(lockFile, 'wx', 0o600));
        return () => {
          try {
            unlinkSync(lockFile);
          } catch {
            // already gone: nothing to release
          }
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyStoreError(`key store ${this.file}: cannot take the lock ${lockFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      // A writer holds the file for milliseconds; a lock this old was left by a process that died holding it.
      try {
        if (Date.now() - statSync(lockFile).mtimeMs > 30_000) unlinkSync(lockFile);
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) throw new KeyStoreError(`key store ${this.file}: locked by another process for 10 s (${lockFile}); remove it if no veilleur process is running`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Hashes are no secret, but nobody but the service's user has anything to do with them: 0600. */
function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    // `veilleur keys` run as root must not leave a file the service's own user cannot read: the directory's owner
    // (the service's user, who owns DATA_DIR) keeps owning it.
    if (process.getuid?.() === 0) {
      const owner = statSync(dirname(file));
      if (owner.uid !== 0) fchownSync(fd, owner.uid, owner.gid);
    }
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is done either way.
  }
}
