import type { Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, StorageType } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';

/**
 * The API key store of every replica (cluster mode): created keys (hashes only) and the decisions on the
 * configuration's keys, as ONE JSON document under the key `state` of the bucket `veilleur_keys`, changed by
 * compare-and-set at the revision read. One document rather than one NATS key per API key: a rotation changes two
 * keys at once (the new one, the old one's expiry) and a creation must check that its id is free among all of them,
 * both atomic only within one document; the document is small (about 300 bytes a key, far below NATS's 1 MB
 * message limit for the few hundred keys of an instance). Last-use times are a second document, `usage`, merged
 * (latest wins per key) by each replica now and then.
 *
 * Every replica watches the bucket, so a key created, revoked or rotated on one is in force on all within the
 * watch's delivery (milliseconds); a poll every few seconds catches up if a watch was cut. The replica's own file
 * (`DATA_DIR/api-keys.json`) stays as its cache: read at start-up (the ring is served from it until NATS answers),
 * merged into the bucket once (keys made while the replica ran alone are not lost; revocations are never undone) and
 * rewritten with each state seen.
 *
 * This room sits below `api/`: the document's schema, its parsing and its merge come in as functions.
 */

export const KEYS_BUCKET = 'veilleur_keys';
const STATE = 'state';
const USAGE = 'usage';
/** NATS's default largest message (max_payload): a bigger state could not be written. */
const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** The replica's own file (services/api/key-store.ts `KeyStore`), seen structurally. */
export interface LocalKeyFile<S> {
  readonly where: string;
  read(): S;
  write(state: S): Promise<void>;
  readUsage(): Record<string, string>;
  writeUsage(usage: Record<string, string>): void;
}

export interface SharedKeyStoreOptions<S> {
  cache: LocalKeyFile<S>;
  /** Validates a document read from the bucket (throws a clear error naming `where`). */
  parse(raw: unknown, where: string): S;
  /** `shared` with what only the local file knows (see mergeStoreStates in services/api/key-store.ts). */
  merge(shared: S, local: S): { state: S; changed: boolean; added: string[]; clashes: string[] };
  empty(): S;
  log: Logger;
  bucket?: string;
  /** Copies on a NATS cluster (cluster.streamReplicas), like the other buckets. */
  replicas?: number;
  /** How often the state is read again in case a watch was cut (ms). */
  pollMs?: number;
}

export class SharedKeyStore<S> {
  readonly bucket: string;
  private kv: KV | undefined;
  private state: S;
  /** Revision of the state in force (0: the local cache, before NATS answered). */
  private revision = 0;
  private usage: Record<string, string>;
  private usageRevision = 0;
  private watcher: { stop(): void } | undefined;
  private poll: NodeJS.Timeout | undefined;
  private stopped = false;
  private usageWrite: Promise<void> = Promise.resolve();
  private cacheWrite: Promise<void> = Promise.resolve();
  private readonly attachedOnce: Promise<void>;
  private markAttached!: () => void;

  constructor(private readonly o: SharedKeyStoreOptions<S>) {
    this.bucket = o.bucket ?? KEYS_BUCKET;
    this.state = o.cache.read();
    this.usage = o.cache.readUsage();
    this.attachedOnce = new Promise((resolve) => (this.markAttached = resolve));
  }

  get where(): string {
    return `NATS bucket ${this.bucket} (key '${STATE}')`;
  }

  /** True once the state comes from NATS rather than from the local cache. */
  get attached(): boolean {
    return this.kv !== undefined;
  }

  signature(): string {
    return `nats:${this.revision}`;
  }

  read(): S {
    return structuredClone(this.state);
  }

  /**
   * Opens (or creates) the bucket, merges the local file into it once, then follows it. Resolves once the state in
   * force is the bucket's.
   */
  async attach(nc: NatsConnection): Promise<void> {
    const kv = await new Kvm(jetstream(nc)).create(this.bucket, { history: 5, storage: StorageType.File, replicas: this.o.replicas ?? 1 });
    const local = this.o.cache.read();
    await this.change(kv, (shared) => {
      const m = this.o.merge(shared, local);
      if (m.clashes.length) this.o.log.error({ keys: m.clashes, file: this.o.cache.where }, `API key ids in this replica's file and in ${this.where} with different secrets: the cluster's are kept`);
      if (m.added.length) this.o.log.warn({ keys: m.added, file: this.o.cache.where }, `API keys of this replica's file added to ${this.where}`);
      return m.changed ? m.state : undefined;
    });
    this.kv = kv;
    await this.follow(kv);
    this.poll = setInterval(() => void this.catchUp(), this.o.pollMs ?? 5000);
    this.poll.unref();
    this.markAttached();
  }

  async update<T>(change: (s: S) => T): Promise<T> {
    const kv = await this.ready();
    let result: T;
    await this.change(kv, (s) => {
      result = change(s);
      return s;
    });
    return result!;
  }

  readUsage(): Record<string, string> {
    return { ...this.usage };
  }

  /** Merged into the bucket's (latest per key) in the background; also kept in the local file. */
  writeUsage(usage: Record<string, string>): void {
    this.usage = latest(this.usage, usage);
    this.o.cache.writeUsage(this.usage);
    const kv = this.kv;
    // After stop (the service's last flush, its NATS connection closing): the local file only.
    if (!kv || this.stopped) return;
    this.usageWrite = this.usageWrite
      .then(() => this.mergeUsage(kv, usage))
      .catch((err: Error) => this.o.log.warn({ err: err.message }, `last-use times of API keys not written to ${this.bucket}; kept locally`));
  }

  /** Stops following the bucket, after the last-use times in flight are written. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    this.watcher?.stop();
    await Promise.all([this.usageWrite, this.cacheWrite]);
  }

  private async ready(): Promise<KV> {
    if (this.kv) return this.kv;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`API keys cannot be changed yet: NATS (${this.bucket}) has not answered this replica; try again in a moment`)), 10_000);
    });
    try {
      await Promise.race([this.attachedOnce, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.kv!;
  }

  /**
   * Read, change, compare-and-set; again from a fresh read when another replica wrote in between. `change` returns
   * the new state, or undefined to write nothing.
   */
  private async change(kv: KV, change: (s: S) => S | undefined): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const entry = await kv.get(STATE);
      const current = entry?.operation === 'PUT' ? this.decode(entry.value) : this.o.empty();
      const next = change(structuredClone(current));
      if (next === undefined) {
        if (entry?.operation === 'PUT') this.apply(entry.revision, current);
        return;
      }
      const bytes = new TextEncoder().encode(JSON.stringify(next));
      if (bytes.length > MAX_DOCUMENT_BYTES) throw new Error(`${this.where}: the key state would be ${bytes.length} bytes, more than NATS accepts in one message (1 MB); revoke keys no longer used and remove them`);
      try {
        const revision = entry ? await kv.update(STATE, bytes, entry.revision) : await kv.create(STATE, bytes);
        this.apply(revision, next);
        return;
      } catch (err) {
        if (!isCasConflict(err) || attempt >= 50) throw err;
      }
    }
  }

  private async mergeUsage(kv: KV, mine: Record<string, string>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const entry = await kv.get(USAGE);
      const theirs = entry?.operation === 'PUT' ? usageOf(entry.value) : {};
      const merged = latest(theirs, mine);
      const bytes = new TextEncoder().encode(JSON.stringify(merged));
      try {
        const revision = entry ? await kv.update(USAGE, bytes, entry.revision) : await kv.create(USAGE, bytes);
        this.applyUsage(revision, merged);
        return;
      } catch (err) {
        if (!isCasConflict(err) || attempt >= 20) throw err;
      }
    }
  }

  private async follow(kv: KV): Promise<void> {
    // Last values first, then every change: nothing written between the first read and the watch is missed.
    // Every key of the bucket (both documents): several keys in one watch need nats-server 2.10.
    const it = await kv.watch({ key: '>' });
    this.watcher = it;
    void (async () => {
      for await (const e of it) this.onEntry(e);
    })()
      .catch((err: unknown) => this.o.log.warn({ err: String(err) }, `stopped watching ${this.bucket}; polling it`))
      .finally(() => {
        // A watch ended by a broken connection is started again; the poll covers the meantime.
        if (!this.stopped && this.watcher === it) setTimeout(() => void this.follow(kv).catch(() => undefined), 1000).unref();
      });
  }

  private onEntry(e: KvEntry): void {
    if (e.operation !== 'PUT') return;
    if (e.key === USAGE) this.applyUsage(e.revision, usageOf(e.value));
    else if (e.key === STATE && e.revision > this.revision) {
      try {
        this.apply(e.revision, this.decode(e.value));
      } catch (err) {
        // Said once per bad revision (the poll reads it again): the next good write replaces it.
        this.revision = e.revision;
        this.o.log.error({ err: (err as Error).message }, 'API key state in NATS cannot be read; the keys read before stay in force');
      }
    }
  }

  private async catchUp(): Promise<void> {
    const kv = this.kv;
    if (!kv || this.stopped) return;
    try {
      const e = await kv.get(STATE);
      if (e) this.onEntry(e);
    } catch {
      // NATS unreachable: the keys read before stay in force, and the next poll tries again.
    }
  }

  private apply(revision: number, state: S): void {
    if (revision <= this.revision) return;
    this.revision = revision;
    this.state = state;
    // One write at a time, each of the state in force when it runs: the file never goes back to an older state.
    this.cacheWrite = this.cacheWrite
      .then(() => this.o.cache.write(structuredClone(this.state)))
      .catch((err: Error) => this.o.log.warn({ err: err.message, file: this.o.cache.where }, 'local copy of the API keys not written'));
  }

  private applyUsage(revision: number, usage: Record<string, string>): void {
    if (revision <= this.usageRevision) return;
    this.usageRevision = revision;
    this.usage = latest(this.usage, usage);
  }

  private decode(bytes: Uint8Array): S {
    let raw: unknown;
    try {
      raw = JSON.parse(new TextDecoder().decode(bytes));
    } catch (err) {
      throw new Error(`${this.where}: not valid JSON (${(err as Error).message})`);
    }
    return this.o.parse(raw, this.where);
  }
}

/** Per key, the later of two last-use times (ISO strings). */
export function latest(a: Record<string, string>, b: Record<string, string>): Record<string, string> {
  const out = { ...a };
  for (const [k, t] of Object.entries(b)) if (!out[k] || Date.parse(out[k]) < Date.parse(t)) out[k] = t;
  return out;
}

function usageOf(bytes: Uint8Array): Record<string, string> {
  try {
    const raw = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return raw && typeof raw === 'object' ? Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
  } catch {
    return {};
  }
}

/** The server's answer to a compare-and-set that lost (JetStream API codes 10071 and 10164). */
function isCasConflict(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number } };
  const code = e?.api_error?.err_code ?? e?.code;
  return code === 10071 || code === 10164 || /wrong last sequence|key exists/i.test(String(err));
}
