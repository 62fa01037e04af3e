import type { Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, StorageType } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';

/**
 * Console sessions shared by the replicas (cluster mode), so that the reverse proxy may send a person's requests to
 * any replica: one record per session in the bucket `veilleur_sessions`, under `s.<SHA-256 of the session id>`
 * (never the id itself, which only the browser holds), written by the console's SessionStore
 * (services/console/session.ts) when a session starts, when its language changes and when it is used, at most once a
 * minute. The bucket's max age is the sessions' absolute limit, so NATS forgets a session that nobody ended; a
 * sign-out purges its record (the CSRF token and the person's rights go with it) and every replica drops it from
 * its cache as the purge reaches its watch. The same bucket holds the single sign-on logins in progress (`l.<hash>`,
 * `logins`), so the identity provider's redirect back may reach any replica, and only one can use it.
 *
 * This room sits below `console/`: the records are opaque strings here.
 */

export const SESSIONS_BUCKET = 'veilleur_sessions';
const PREFIX = 's.';
/** Single sign-on logins in progress (state, nonce, PKCE verifier; 10 minutes at most), taken once by any replica. */
const LOGIN_PREFIX = 'l.';

export interface SharedSessionsOptions {
  /** The sessions' absolute limit: the bucket's max age. */
  maxAgeMs: number;
  log: Logger;
  bucket?: string;
  /** Copies on a NATS cluster (cluster.streamReplicas), like the other buckets. */
  replicas?: number;
}

export class SharedSessions {
  readonly bucket: string;
  private kv: KV | undefined;
  private listener: ((key: string, value: string | undefined) => void) | undefined;
  private watcher: { stop(): void } | undefined;
  private stopped = false;
  private readonly attachedOnce: Promise<void>;
  private markAttached!: () => void;

  constructor(private readonly o: SharedSessionsOptions) {
    this.bucket = o.bucket ?? SESSIONS_BUCKET;
    this.attachedOnce = new Promise((resolve) => (this.markAttached = resolve));
  }

  /** Opens (or creates) the bucket and follows it: the sessions already there first, then every change. */
  async attach(nc: NatsConnection): Promise<void> {
    const kv = await new Kvm(jetstream(nc)).create(this.bucket, { history: 1, ttl: this.o.maxAgeMs, storage: StorageType.File, replicas: this.o.replicas ?? 1 });
    const status = await kv.status();
    if (status.ttl !== this.o.maxAgeMs) {
      // Sessions still end at their own limits (checked on every use); the bucket only keeps them longer or shorter.
      this.o.log.warn({ bucket: this.bucket, ttlMs: status.ttl, expectedMs: this.o.maxAgeMs }, 'session bucket exists with another max age; sessions still end at their limits');
    }
    this.kv = kv;
    await this.watchBucket(kv);
    this.markAttached();
  }

  async put(key: string, value: string): Promise<void> {
    await (await this.ready()).put(PREFIX + key, value);
  }

  async get(key: string): Promise<string | undefined> {
    const e = await (await this.ready()).get(PREFIX + key);
    return e?.operation === 'PUT' ? e.string() : undefined;
  }

  /** Purged, not only deleted: the record's earlier revisions (its CSRF token) go too. */
  async remove(key: string): Promise<void> {
    await (await this.ready()).purge(PREFIX + key);
  }

  /** The console's single sign-on logins in progress (services/console/oidc.ts `SharedLoginRecords`). */
  readonly logins = {
    put: async (key: string, value: string): Promise<void> => {
      await (await this.ready()).put(LOGIN_PREFIX + key, value);
    },
    /** Read, then deleted at the revision read: of two replicas given the same callback, one gets the login. */
    take: async (key: string): Promise<string | undefined> => {
      const kv = await this.ready();
      const e = await kv.get(LOGIN_PREFIX + key);
      if (e?.operation !== 'PUT') return undefined;
      try {
        await kv.delete(LOGIN_PREFIX + key, { previousSeq: e.revision });
      } catch (err) {
        if (isCasConflict(err)) return undefined;
        throw err;
      }
      return e.string();
    },
  };

  follow(onChange: (key: string, value: string | undefined) => void): void {
    this.listener = onChange;
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.stop();
  }

  private async watchBucket(kv: KV): Promise<void> {
    const it = await kv.watch({ key: `${PREFIX}>` });
    this.watcher = it;
    void (async () => {
      for await (const e of it) this.listener?.(e.key.slice(PREFIX.length), e.operation === 'PUT' ? e.string() : undefined);
    })()
      .catch((err: unknown) => this.o.log.warn({ err: String(err) }, `stopped watching ${this.bucket}`))
      .finally(() => {
        // Started again after a broken connection: the last values come first, so nothing is missed.
        if (!this.stopped && this.watcher === it) setTimeout(() => void this.watchBucket(kv).catch(() => undefined), 1000).unref();
      });
  }

  private async ready(): Promise<KV> {
    if (this.kv) return this.kv;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`console sessions unavailable: NATS (${this.bucket}) has not answered this replica yet`)), 10_000);
    });
    try {
      await Promise.race([this.attachedOnce, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.kv!;
  }
}

/** The server's answer to a compare-and-set that lost (JetStream API codes 10071 and 10164). */
function isCasConflict(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number } };
  const code = e?.api_error?.err_code ?? e?.code;
  return code === 10071 || code === 10164 || /wrong last sequence/i.test(String(err));
}
