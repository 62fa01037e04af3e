import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, StorageType } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';

/**
 * Leases in a JetStream key-value bucket: who runs a partition or the singleton jobs.
 *
 * The bucket's max age is the lease TTL, so the server itself forgets a key whose holder stopped renewing (it needs
 * no agreement on clocks between replicas: nats-server 2.9 has no per-key TTL, hence one bucket per TTL). Taking a
 * lease is a compare-and-set: `create` succeeds only when the key is absent, deleted or expired; renewing is an
 * `update` at the revision last written, so a holder that was overtaken learns it on its next renewal.
 *
 * The holder's own view is deliberately pessimistic: it considers the lease its own until the moment it *sent* its
 * last successful write plus the TTL minus a margin, which is before the server can expire that write. A holder
 * that cannot reach the server therefore stops (event `lost`) before anyone else can take over.
 */

export interface LeaseValue {
  /** The replica's configured id (`cluster.replicaId`). */
  holder: string;
  /** One per LeaseKeeper, so two processes started by mistake with the same id are told apart in logs. */
  instance: string;
  /** Wall-clock time of the write, for people reading the bucket; never used for decisions. */
  at: string;
}

export interface LeaseKeeperOptions {
  /** How often the held leases are written again; a third of the TTL by default. */
  renewEveryMs?: number;
  /** Time kept in hand before the server could expire our last write; a tenth of the TTL by default (≥ 200 ms). */
  marginMs?: number;
}

interface Held {
  revision: number;
  /** performance.now() after which we no longer claim the lease. */
  deadline: number;
  renewing: boolean;
}

export interface LeaseKeeperEvents {
  acquired: [key: string];
  lost: [key: string, reason: string];
  released: [key: string];
}

/** Creates (or opens) the lease bucket; its max age is the lease TTL. File storage: leases survive a server restart. */
export async function openLeaseBucket(nc: NatsConnection, bucket: string, ttlMs: number, replicas = 1): Promise<KV> {
  if (!Number.isInteger(ttlMs) || ttlMs < 1000) throw new Error(`lease TTL must be a whole number of milliseconds ≥ 1000, got ${ttlMs}`);
  const kvm = new Kvm(jetstream(nc));
  // `replicas`: copies on a NATS cluster (cluster.streamReplicas), so that the leases survive the loss of a node.
  const kv = await kvm.create(bucket, { history: 1, ttl: ttlMs, storage: StorageType.File, replicas });
  const status = await kv.status();
  if (status.ttl !== ttlMs) {
    // A bucket made earlier with another TTL would make every holder's deadline wrong: say so rather than misbehave.
    throw new Error(`lease bucket ${bucket} exists with a TTL of ${status.ttl} ms, not ${ttlMs} ms: delete it (nats kv del ${bucket}) or use the same leaseTtlSeconds everywhere`);
  }
  return kv;
}

export class LeaseKeeper extends EventEmitter<LeaseKeeperEvents> {
  readonly instance = randomUUID();
  private readonly held = new Map<string, Held>();
  private readonly renewEveryMs: number;
  private readonly marginMs: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly kv: KV,
    readonly holderId: string,
    readonly ttlMs: number,
    private readonly log: Logger,
    options: LeaseKeeperOptions = {},
  ) {
    super();
    if (!/^[-_=A-Za-z0-9]+$/.test(holderId)) throw new Error(`replica id ${JSON.stringify(holderId)} may contain only letters, digits, -, _ and =`);
    this.renewEveryMs = options.renewEveryMs ?? Math.max(100, Math.floor(ttlMs / 3));
    this.marginMs = options.marginMs ?? Math.max(200, Math.floor(ttlMs / 10));
    if (this.renewEveryMs + this.marginMs >= ttlMs) throw new Error(`lease renewal (${this.renewEveryMs} ms) plus margin (${this.marginMs} ms) must be shorter than the TTL (${ttlMs} ms)`);
  }

  /** True while the lease is ours, by our pessimistic deadline (checked at each call, not only by the timer). */
  holds(key: string): boolean {
    const h = this.held.get(key);
    return h !== undefined && performance.now() < h.deadline;
  }

  /** The keys held now. */
  keys(): string[] {
    return [...this.held.keys()].filter((k) => this.holds(k));
  }

  /**
   * Takes the lease when it is free (absent, released or expired on the server) or already ours (same replica id:
   * a replica restarted after a crash gets its leases back without waiting for the TTL). Resolves false when another
   * replica holds it; rejects only when the server cannot be asked.
   */
  async acquire(key: string): Promise<boolean> {
    if (this.closed) return false;
    if (this.holds(key)) return true;
    const sentAt = performance.now();
    const value = this.value();
    let revision: number;
    try {
      revision = await this.kv.create(key, value);
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      const current = await this.kv.get(key);
      if (current === null || current.operation !== 'PUT') return false; // changed in between: try again later
      const other = parse(current.value);
      if (other?.holder !== this.holderId) return false;
      try {
        revision = await this.kv.update(key, value, current.revision);
      } catch (err2) {
        if (isWrongLastSequence(err2)) return false;
        throw err2;
      }
      this.log.info({ lease: key, previousInstance: other.instance }, 'lease taken back from an earlier run of this replica');
    }
    if (this.closed) {
      await this.kv.delete(key, { previousSeq: revision }).catch(() => undefined);
      return false;
    }
    this.held.set(key, { revision, deadline: sentAt + this.ttlMs - this.marginMs, renewing: false });
    this.ensureTimer();
    this.log.info({ lease: key, holder: this.holderId }, 'lease acquired');
    this.emit('acquired', key);
    return true;
  }

  /** Gives the lease up at once (a delete at our revision, so a lease already taken by someone else is left alone). */
  async release(key: string): Promise<void> {
    const h = this.held.get(key);
    if (h === undefined) return;
    this.held.delete(key);
    try {
      await this.kv.delete(key, { previousSeq: h.revision });
    } catch (err) {
      // Not fatal: the server forgets the key after the TTL anyway.
      this.log.warn({ lease: key, err: String(err) }, 'lease release not written; it expires after its TTL');
    }
    this.log.info({ lease: key }, 'lease released');
    this.emit('released', key);
  }

  /** Who holds a key now according to the server (any replica), or null when it is free. */
  async holderOf(key: string): Promise<LeaseValue | null> {
    const e = await this.kv.get(key);
    return e !== null && e.operation === 'PUT' ? parse(e.value) : null;
  }

  /** Every live key under a prefix with its holder (e.g. `member.` for the replicas that heartbeat). */
  async list(prefix: string): Promise<Map<string, LeaseValue>> {
    const out = new Map<string, LeaseValue>();
    const it = await this.kv.keys(`${prefix}>`);
    const keys: string[] = [];
    for await (const k of it) keys.push(k);
    for (const k of keys) {
      const v = await this.holderOf(k);
      if (v !== null) out.set(k, v);
    }
    return out;
  }

  /** Stops renewing and releases everything held (SIGTERM: the others take over without waiting for the TTL). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.held.keys()].map((k) => this.release(k)));
  }

  private value(): string {
    const v: LeaseValue = { holder: this.holderId, instance: this.instance, at: new Date().toISOString() };
    return JSON.stringify(v);
  }

  private ensureTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.renewAll(), this.renewEveryMs);
    this.timer.unref();
  }

  private renewAll(): void {
    const now = performance.now();
    for (const [key, h] of this.held) {
      if (now >= h.deadline) {
        this.drop(key, 'not renewed in time (server unreachable or too slow)');
        continue;
      }
      if (!h.renewing) void this.renew(key, h);
    }
  }

  private async renew(key: string, h: Held): Promise<void> {
    h.renewing = true;
    const sentAt = performance.now();
    try {
      const revision = await this.kv.update(key, this.value(), h.revision);
      if (this.held.get(key) !== h) return; // released meanwhile
      h.revision = revision;
      h.deadline = sentAt + this.ttlMs - this.marginMs;
    } catch (err) {
      if (this.held.get(key) !== h) return;
      if (isWrongLastSequence(err)) this.drop(key, 'taken over by another replica');
      else this.log.warn({ lease: key, err: String(err) }, 'lease renewal failed; retrying until its deadline');
    } finally {
      h.renewing = false;
    }
  }

  private drop(key: string, reason: string): void {
    if (!this.held.delete(key)) return;
    this.log.warn({ lease: key, reason }, 'lease lost');
    this.emit('lost', key, reason);
  }
}

function parse(bytes: Uint8Array): LeaseValue | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LeaseValue>;
    return typeof v.holder === 'string' && typeof v.instance === 'string' ? { holder: v.holder, instance: v.instance, at: String(v.at ?? '') } : null;
  } catch {
    return null;
  }
}

/** The server's "wrong last sequence" answer to a compare-and-set (codes 10071 and 10164 of JetStream's API). */
function isWrongLastSequence(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  const code = e?.api_error?.err_code ?? (typeof e?.code === 'number' ? e.code : undefined);
  if (code === 10071 || code === 10164) return true;
  return typeof e?.message === 'string' && /wrong last sequence/i.test(e.message);
}
