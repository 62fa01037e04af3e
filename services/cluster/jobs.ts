import type { Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, StorageType } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { LeaseKeeper } from './lease.ts';

/**
 * The singleton jobs of a cluster (windowed rules, rollups, retention): they run only on the replica holding the
 * `jobs` lease, and start again from their checkpoints on another replica when it dies or stops.
 *
 * Each leadership term starts fresh instances of the jobs (`start()`), after `onElected` (rebuilding what the
 * jobs need, e.g. the open alerts) and stops them as soon as the lease is lost: a job that is cut in the middle
 * of a round is resumed by the next leader from its checkpoint (rollups: `rollup_checkpoint` in InfluxDB; windowed
 * rounds: the slot checkpoint below, in NATS).
 */

export interface RunningJob {
  stop(): Promise<void>;
}

export interface SingletonJob {
  readonly name: string;
  /** Starts the job for one leadership term; `holds()` tells it, at any moment, whether the term goes on. */
  start(holds: () => boolean): RunningJob;
}

export interface JobsLeaderOptions {
  leases: LeaseKeeper;
  jobs: SingletonJob[];
  log: Logger;
  /** Lease key; `jobs` by default. */
  key?: string;
  /** How often a replica that is not the leader tries to become it; half the lease TTL by default. */
  retryMs?: number;
  /** Run at the start of each term, before the jobs; if it throws, the lease is given up and tried again later. */
  onElected?: () => Promise<void>;
  /** Called with true when this replica becomes the leader, false when it stops being it (metrics). */
  onChange?: (leader: boolean) => void;
}

export class JobsLeader {
  readonly key: string;
  private running: RunningJob[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private term: Promise<void> | undefined;

  constructor(private readonly opts: JobsLeaderOptions) {
    this.key = opts.key ?? 'jobs';
    opts.leases.on('lost', (key) => {
      if (key === this.key) void this.endTerm('lease lost');
    });
  }

  /** True while this replica is the leader (its lease deadline not passed). */
  holds(): boolean {
    return !this.stopped && this.opts.leases.holds(this.key);
  }

  start(): void {
    const every = this.opts.retryMs ?? Math.max(250, Math.floor(this.opts.leases.ttlMs / 2));
    const tick = () => {
      if (this.stopped || this.term || this.holds()) return;
      this.term = this.tryElect().finally(() => {
        this.term = undefined;
      });
    };
    this.timer = setInterval(tick, every);
    this.timer.unref();
    tick();
  }

  /** Stops the jobs and gives the lease up, so that another replica takes over at once (SIGTERM). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.term;
    await this.endTerm('stopping');
    await this.opts.leases.release(this.key);
  }

  private async tryElect(): Promise<void> {
    let got = false;
    try {
      got = await this.opts.leases.acquire(this.key);
    } catch (err) {
      this.opts.log.warn({ err: String(err) }, 'cannot ask NATS for the jobs lease; trying again');
      return;
    }
    if (!got) return;
    try {
      await this.opts.onElected?.();
    } catch (err) {
      this.opts.log.warn({ err: String(err) }, 'jobs lease taken but the jobs cannot be prepared; giving it up');
      await this.opts.leases.release(this.key);
      return;
    }
    if (this.stopped || !this.holds()) return;
    this.opts.log.info({ jobs: this.opts.jobs.map((j) => j.name) }, 'jobs leader: starting the singleton jobs');
    this.running = this.opts.jobs.map((j) => j.start(() => this.holds()));
    this.opts.onChange?.(true);
  }

  private async endTerm(why: string): Promise<void> {
    const running = this.running;
    if (running.length === 0) return;
    this.running = [];
    this.opts.log.info({ why }, 'jobs leader no more: stopping the singleton jobs');
    this.opts.onChange?.(false);
    await Promise.all(running.map((r) => r.stop().catch((err: unknown) => this.opts.log.warn({ err: String(err) }, 'singleton job did not stop cleanly'))));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Rounds on fixed slots, each claimed once across the cluster

/** The jobs' checkpoints bucket (no TTL, file storage): the last slot each periodic job claimed. */
export async function openCheckpointBucket(nc: NatsConnection, bucket: string, replicas = 1): Promise<KV> {
  return new Kvm(jetstream(nc)).create(bucket, { history: 1, storage: StorageType.File, replicas });
}

/**
 * Slots of `everyMs` (slot s covers [s·everyMs, (s+1)·everyMs)); a slot is claimed by a compare-and-set of the job's
 * checkpoint from the previous value, so that two replicas that both believe they lead (a lease edge: a paused
 * process) still never run the same slot twice. Claim, then run: a leader that dies during a round leaves that slot
 * unrun; the next slot's round sees the same conditions (windowed rules look at windows, not at instants).
 */
export class SlotCheckpoint {
  constructor(
    private readonly kv: KV,
    readonly job: string,
  ) {
    if (!/^[-_A-Za-z0-9]+$/.test(job)) throw new Error(`job name ${JSON.stringify(job)} may contain only letters, digits, - and _`);
  }

  /** The last slot claimed, and the revision to compare against (0: none yet). */
  async read(): Promise<{ slot: number | undefined; revision: number }> {
    const e = await this.kv.get(this.job);
    if (e === null || e.operation !== 'PUT') return { slot: undefined, revision: e?.revision ?? 0 };
    const slot = Number(e.string());
    return { slot: Number.isSafeInteger(slot) ? slot : undefined, revision: e.revision };
  }

  /** Claims `slot` if the checkpoint is still at `revision`; false when someone else moved it first. */
  async claim(slot: number, revision: number): Promise<boolean> {
    try {
      if (revision === 0) await this.kv.create(this.job, String(slot));
      else await this.kv.update(this.job, String(slot), revision);
      return true;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 10071 || code === 10164 || /wrong last sequence|key exists/i.test(String(err))) return false;
      throw err;
    }
  }
}

export interface PeriodicJobOptions {
  name: string;
  everyMs: number;
  checkpoint: SlotCheckpoint;
  /** One round, evaluated at the start of its slot (an instant already past: complete periods only). */
  run(at: Date): Promise<void>;
  log: Logger;
  /** Missed slots run on takeover, oldest first, at most this many (default 12); older ones are skipped. */
  maxCatchUp?: number;
  /** Delay after a slot boundary before its round (default 1 s: readings of the boundary's second are in). */
  delayMs?: number;
  /** Counted once per round run here (metrics). */
  onRun?: (slot: number) => void;
}

/** A job that runs one round per slot, each slot once across the cluster (claimed in `checkpoint`). */
export function periodicJob(o: PeriodicJobOptions): SingletonJob {
  const maxCatchUp = o.maxCatchUp ?? 12;
  const delayMs = o.delayMs ?? 1000;
  return {
    name: o.name,
    start(holds) {
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      let round: Promise<void> | undefined;

      let first = true;
      const due = async () => {
        const current = Math.floor((Date.now() - delayMs) / o.everyMs);
        for (;;) {
          if (stopped) return;
          if (!holds()) {
            o.log.info({ job: o.name }, 'periodic job: not the jobs leader any more, round not run');
            return;
          }
          const { slot: last, revision } = await o.checkpoint.read();
          if (last !== undefined && last >= current) {
            // Said once per term: the previous leader ran this slot; this one waits for the next.
            if (first) o.log.info({ job: o.name, slot: last, nextAt: new Date((current + 1) * o.everyMs + delayMs).toISOString() }, 'periodic job: slot already run, waiting for the next');
            first = false;
            return;
          }
          first = false;
          // First run of the job anywhere: only the current slot. After downtime: the missed ones, boundedly.
          const next = last === undefined ? current : Math.max(last + 1, current - maxCatchUp + 1);
          if (last !== undefined && next > last + 1) o.log.warn({ job: o.name, skipped: next - last - 1 }, 'periodic job far behind: the oldest slots are skipped');
          if (!(await o.checkpoint.claim(next, revision))) {
            o.log.warn({ job: o.name, slot: next }, 'slot claimed by another replica meanwhile; this one stops its round');
            return;
          }
          if (stopped || !holds()) {
            // Claimed but the term ended: the slot is left unrun, as after a crash.
            o.log.warn({ job: o.name, slot: next }, 'periodic job: slot claimed but the term ended before its round; left unrun');
            return;
          }
          const began = Date.now();
          await o.run(new Date(next * o.everyMs));
          // One line per round, naming its slot: the trail that shows each slot ran once across the replicas.
          o.log.info({ job: o.name, slot: next, at: new Date(next * o.everyMs).toISOString(), ms: Date.now() - began }, 'periodic round done');
          o.onRun?.(next);
        }
      };

      const schedule = () => {
        if (stopped) return;
        const now = Date.now();
        const nextBoundary = (Math.floor((now - delayMs) / o.everyMs) + 1) * o.everyMs + delayMs;
        timer = setTimeout(tick, Math.max(0, nextBoundary - now));
        timer.unref();
      };
      const tick = () => {
        round = due()
          .catch((err: unknown) => o.log.warn({ job: o.name, err: String(err) }, 'periodic round failed; tried again at the next slot'))
          .finally(() => {
            round = undefined;
            schedule();
          });
      };
      tick();
      return {
        async stop() {
          stopped = true;
          if (timer) clearTimeout(timer);
          await round;
        },
      };
    },
  };
}

/** Wraps a job that schedules itself (rollups) and is made anew for each term. */
export function selfScheduledJob(name: string, make: () => { start(): void; stop(): Promise<void> }): SingletonJob {
  return {
    name,
    start() {
      const job = make();
      job.start();
      return { stop: () => job.stop() };
    },
  };
}
