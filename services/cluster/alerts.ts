import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, StorageType } from '@nats-io/jetstream';
import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv';

/**
 * At most one open alert per (rule, subject) across the replicas, and each alert event announced once.
 *
 * The current state of every alert that was ever open is kept in a JetStream key-value bucket, one key per
 * (rule, subject). An alert event is *claimed* there by compare-and-set before it is stored, published or
 * notified: `opened` creates the key (or reuses one whose alert was resolved), `escalated`, `acknowledged` and
 * `resolved` update it at the revision read, and only if it still holds the same alert in a state that allows the
 * transition. A refused claim means another replica got there first: the event is dropped, never announced, and
 * the replica's alert book takes the winner's state. Every replica follows the bucket, so its book (what the API
 * and the console list and act on) holds the alerts raised anywhere; a new partition owner or jobs leader calls
 * `sync()` first, so it never opens a second alert for what its predecessor opened.
 *
 * This room sits below `alerts/`: it knows an alert only by the fields it needs (structural types below).
 */

export interface ClusterAlert {
  id: string;
  ruleId: string;
  subject: { tenant: string; site: string; building?: string; zone?: string; devEui?: string };
  state: 'open' | 'acknowledged' | 'resolved';
}

export interface ClusterAlertEvent<A extends ClusterAlert = ClusterAlert> {
  type: 'opened' | 'escalated' | 'acknowledged' | 'resolved';
  alert: A;
}

interface Stored<A> {
  alert: A;
  /** The registry instance (process) that wrote it: a replica ignores the echo of its own writes. */
  instance: string;
  /** When it was written (ms), to bound what `linesFromOthers` returns. */
  at?: number;
  /** The stored form of the key's last events (line protocol), oldest first: see `linesFromOthers`. */
  lines?: string[];
}

/** Event lines kept per (rule, subject): an alert's opened, escalated, acknowledged and resolved, and a margin. */
const KEPT_LINES = 8;

/** Creates (or opens) the bucket: file storage, no TTL (an acknowledged leak may stay open for weeks). */
export async function openAlertBucket(nc: NatsConnection, bucket: string, replicas = 1): Promise<KV> {
  return new Kvm(jetstream(nc)).create(bucket, { history: 1, storage: StorageType.File, replicas });
}

/** The bucket key of (rule, subject): a hash, since tenants, sites and rule ids may hold characters keys may not. */
export function alertKey(a: Pick<ClusterAlert, 'ruleId' | 'subject'>): string {
  const s = a.subject;
  const id = [a.ruleId, s.tenant, s.site, s.building ?? '', s.zone ?? '', s.devEui ?? ''].join('\u0000');
  return `a.${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
/** Alerts carry Dates; JSON turns them into ISO strings, turned back here. */
const reviveDates = (_k: string, v: unknown) => (typeof v === 'string' && ISO.test(v) ? new Date(v) : v);

export interface AlertRegistryOptions<A extends ClusterAlert> {
  kv: KV;
  /** Unique per process (e.g. the lease keeper's instance). */
  instance: string;
  log: Logger;
  /**
   * Another replica's state for an alert (or the winner's after a refused claim): the book replaces its own.
   * `quiet`: resolved by a person while firing, so the owner must not reopen it before the condition clears.
   */
  onRemote(alert: A, quiet: boolean): void;
  /** The stored form of an event (its line of line protocol), kept with the alert's state. */
  lineOf?: (e: ClusterAlertEvent<A>) => string;
}

export class AlertRegistry<A extends ClusterAlert> {
  private watching: { stop(): void } | undefined;
  /** The newest revision of each key this replica has written or applied: a late watch delivery is not applied. */
  private readonly seen = new Map<string, number>();
  claimed = 0;
  refused = 0;

  constructor(private readonly o: AlertRegistryOptions<A>) {}

  /**
   * Claims each event in order; resolves with those accepted (in order), to be stored and announced. Rejects only
   * when NATS cannot be asked: the caller then keeps the message unacknowledged, and it is redelivered.
   */
  async claim<E extends ClusterAlertEvent<A>>(events: readonly E[]): Promise<E[]> {
    const accepted: E[] = [];
    for (const e of events) {
      if (await this.claimOne(e)) {
        accepted.push(e);
        this.claimed++;
      } else {
        this.refused++;
      }
    }
    return accepted;
  }

  private async claimOne(e: ClusterAlertEvent<A>): Promise<boolean> {
    const key = alertKey(e.alert);
    const current = await this.o.kv.get(key);
    const stored = current !== null && current.operation === 'PUT' ? this.parse(current.value) : undefined;
    const cur = stored?.alert;
    const lines = this.o.lineOf ? [...(stored?.lines ?? []), this.o.lineOf(e)].slice(-KEPT_LINES) : undefined;
    const value = JSON.stringify({ alert: e.alert, instance: this.o.instance, at: Date.now(), ...(lines ? { lines } : {}) } satisfies Stored<A>);
    let allowed: boolean;
    if (e.type === 'opened') allowed = cur === undefined || cur.state === 'resolved' || cur.id === e.alert.id;
    else if (e.type === 'resolved') allowed = cur?.id === e.alert.id && cur.state !== 'resolved';
    else if (e.type === 'acknowledged') allowed = cur?.id === e.alert.id && cur.state === 'open';
    else allowed = cur?.id === e.alert.id && cur.state !== 'resolved';
    if (allowed) {
      try {
        const revision = current === null ? await this.o.kv.create(key, value) : await this.o.kv.update(key, value, current.revision);
        this.newer(key, revision);
        return true;
      } catch (err) {
        if (!isCasConflict(err)) throw err;
      }
    }
    // Refused: someone else's state wins; the book takes it (read again: the conflict may be newer than `cur`).
    const winner = await this.o.kv.get(key);
    const w = winner !== null && winner.operation === 'PUT' ? this.parse(winner.value) : undefined;
    this.o.log.warn({ event: e.type, alert: e.alert.id, rule: e.alert.ruleId, winner: w?.alert.id, winnerState: w?.alert.state }, 'alert event refused: another replica recorded this alert first');
    if (w && this.newer(key, winner!.revision)) this.o.onRemote(w.alert, isQuiet(w.alert));
    return false;
  }

  /** Reads every alert of the bucket into the book (at start, and before taking a partition or the jobs over). */
  async sync(): Promise<number> {
    const keys: string[] = [];
    for await (const k of await this.o.kv.keys('a.>')) keys.push(k);
    let n = 0;
    for (const k of keys) {
      const e = await this.o.kv.get(k);
      const s = e !== null && e.operation === 'PUT' ? this.parse(e.value) : undefined;
      if (!s || !this.newer(k, e!.revision)) continue;
      this.o.onRemote(s.alert, isQuiet(s.alert));
      n++;
    }
    return n;
  }

  /**
   * The event lines other replicas (processes) recorded here in the last `withinMs`. A new partition owner or jobs
   * leader stores them again: a replica that died for good may have claimed an event (so nobody raises it again)
   * without its line reaching InfluxDB; written twice, a line is one point (same measurement, tags and time).
   */
  async linesFromOthers(withinMs: number): Promise<string[]> {
    const since = Date.now() - withinMs;
    const out: string[] = [];
    for await (const k of await this.o.kv.keys('a.>')) {
      const e = await this.o.kv.get(k);
      const s = e !== null && e.operation === 'PUT' ? this.parse(e.value) : undefined;
      if (s && s.instance !== this.o.instance && (s.at ?? 0) >= since) out.push(...(s.lines ?? []));
    }
    return out;
  }

  /** Follows the other replicas' writes from now on (call `sync()` as well for what was there before). */
  async follow(): Promise<void> {
    const it = await this.o.kv.watch({ key: 'a.>', include: KvWatchInclude.UpdatesOnly });
    this.watching = it;
    void (async () => {
      for await (const e of it) {
        if (e.operation !== 'PUT') continue;
        const s = this.parse(e.value);
        if (s && s.instance !== this.o.instance && this.newer(e.key, e.revision)) this.o.onRemote(s.alert, isQuiet(s.alert));
      }
    })().catch((err: unknown) => this.o.log.warn({ err: String(err) }, 'stopped following the alerts of the other replicas'));
  }

  stop(): void {
    this.watching?.stop();
    this.watching = undefined;
  }

  /** Records `revision` for `key`; false when an equal or newer one was already seen (a stale delivery). */
  private newer(key: string, revision: number): boolean {
    if ((this.seen.get(key) ?? 0) >= revision) return false;
    this.seen.set(key, revision);
    return true;
  }

  private parse(bytes: Uint8Array): Stored<A> | undefined {
    try {
      const s = JSON.parse(new TextDecoder().decode(bytes), reviveDates) as Stored<A>;
      return s && typeof s.alert?.id === 'string' && typeof s.instance === 'string' ? s : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Resolved by a person (not by the rule's own clearing) in the last day: the owner stays quiet until the condition
 * clears, as the book that resolved it would. Older ones are not held against a new firing.
 */
function isQuiet(a: ClusterAlert): boolean {
  const r = (a as { resolved?: { by?: string; at?: Date } }).resolved;
  return a.state === 'resolved' && r?.by !== undefined && r.by !== 'veilleur' && r.at instanceof Date && Date.now() - r.at.getTime() < 86_400_000;
}

function isCasConflict(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 10071 || code === 10164 || /wrong last sequence|key exists/i.test(String(err));
}
