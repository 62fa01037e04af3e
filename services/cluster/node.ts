/**
 * One replica's membership of the cluster: its NATS connection (reconnecting for ever, across the servers listed),
 * the lease bucket and its LeaseKeeper (lease.ts, engineer B), and its heartbeat (`member.<replicaId>`), which the
 * others count to compute their fair share of partitions. The relay and the partition consumers (source.ts) and the
 * singleton jobs (jobs.ts) all take their leases from here.
 */
import { hostname } from 'node:os';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { ClusterConfig } from './config.ts';
import { LeaseKeeper, openLeaseBucket } from './lease.ts';

/** The bucket of every lease (partitions, relay, jobs, members); its max age is the lease TTL. */
export const LEASE_BUCKET = 'veilleur_leases';
export const MEMBER_PREFIX = 'member.';

/** This replica's id: the configured one, else VEILLEUR_REPLICA_ID, else the host name (a container's own). */
export function replicaIdOf(cfg: ClusterConfig, env: Record<string, string | undefined> = process.env): string {
  const raw = cfg.replicaId ?? env.VEILLEUR_REPLICA_ID ?? hostname();
  const id = raw.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  if (!id) throw new Error('cluster.replicaId: no replica id (set cluster.replicaId or VEILLEUR_REPLICA_ID)');
  return id;
}

export class ClusterNode {
  readonly replicaId: string;
  readonly ttlMs: number;
  private conn: NatsConnection | undefined;
  private keeper: LeaseKeeper | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  /** True while the NATS connection is up (false while it reconnects). */
  connected = false;

  constructor(
    readonly cfg: ClusterConfig,
    private readonly log: Logger,
  ) {
    this.replicaId = replicaIdOf(cfg);
    this.ttlMs = cfg.leaseTtlSeconds * 1000;
  }

  get nc(): NatsConnection {
    if (!this.conn) throw new Error('cluster node not started');
    return this.conn;
  }

  get leases(): LeaseKeeper {
    if (!this.keeper) throw new Error('cluster node not started');
    return this.keeper;
  }

  /** Connects (retrying until NATS answers), opens the lease bucket and starts heartbeating. */
  async start(): Promise<void> {
    const password = this.cfg.nats.passwordEnv ? process.env[this.cfg.nats.passwordEnv] : undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        this.conn = await connect({
          servers: this.cfg.nats.servers,
          name: `veilleur-${this.replicaId}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          // No stack captured for every request (each publish, each acknowledgement): it cost more CPU than the relay
          // itself (measured with --cpu-prof: RequestError/TimeoutError constructors, a third of the busy time).
          noAsyncTraces: true,
          ...(this.cfg.nats.user ? { user: this.cfg.nats.user } : {}),
          ...(password ? { pass: password } : {}),
        });
        break;
      } catch (err) {
        if (this.closed) throw new Error('stopped before NATS could be reached');
        if (attempt === 1) this.log.warn({ servers: this.cfg.nats.servers, err: (err as Error).message }, 'cannot reach NATS yet; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    this.connected = true;
    this.watchStatus(this.conn).catch((err: Error) => this.log.debug({ err: err.message }, 'NATS status no longer watched'));
    this.log.info({ servers: this.cfg.nats.servers, replicaId: this.replicaId }, 'connected to NATS');
    // As many copies as the stream: on a three-node NATS cluster the leases survive the loss of a node.
    const kv = await openLeaseBucket(this.conn, LEASE_BUCKET, this.ttlMs, this.cfg.streamReplicas);
    this.keeper = new LeaseKeeper(kv, this.replicaId, this.ttlMs, this.log.child({ component: 'leases' }));
    await this.beat();
    // The member key is renewed by the keeper; this only takes it again after it was lost (NATS unreachable).
    this.heartbeat = setInterval(() => void this.beat(), Math.max(500, Math.floor(this.ttlMs / 3)));
    this.heartbeat.unref();
  }

  /** The replicas alive now (their member keys), this one included. */
  async members(): Promise<string[]> {
    const live = await this.leases.list(MEMBER_PREFIX);
    const ids = new Set([...live.values()].map((v) => v.holder));
    if (this.leases.holds(MEMBER_PREFIX + this.replicaId)) ids.add(this.replicaId);
    return [...ids].sort();
  }

  /** Releases every lease (the others take over at once) and closes the connection. */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.keeper?.close().catch((err: Error) => this.log.warn({ err: err.message }, 'leases not released; they expire after their TTL'));
    await this.conn?.drain().catch(() => this.conn?.close());
    this.connected = false;
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    const key = MEMBER_PREFIX + this.replicaId;
    if (this.leases.holds(key)) return;
    try {
      await this.leases.acquire(key);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'heartbeat not written');
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        this.log.warn({ server: 'server' in s ? s.server : undefined }, 'NATS connection lost; reconnecting');
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.log.info({ server: 'server' in s ? s.server : undefined }, 'NATS connection back');
      }
    }
  }
}
