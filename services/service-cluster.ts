/**
 * The cluster mode's side of service.ts for alerts and singleton jobs (issue 17, engineer B); ingestion is wired in
 * service.ts itself (cluster/source.ts). Nothing here runs without a `cluster:` section.
 *
 * - Alert events, from stream rules, windowed rules and people alike, are claimed in NATS (cluster/alerts.ts)
 *   before the AlertSink stores, publishes and notifies them: one open alert per (rule, subject) across replicas,
 *   each event announced by one replica. An uplink's alert lines still go into the uplink's own spool write: its
 *   acknowledgement waits for the claim.
 * - The windowed rules, retention and rollups run on the replica holding the `jobs` lease (cluster/jobs.ts): the
 *   windowed rules once per evaluation slot across the cluster, retention then rollups from their checkpoint.
 */
import type { Logger } from 'pino';
import type { AlertBook, AlertEvent } from './alerts/lifecycle.ts';
import type { Alert } from './alerts/model.ts';
import type { WindowedScheduler } from './alerts/scheduler.ts';
import type { AlertSink } from './alerts/sink.ts';
import { alertEventLine } from './alerts/store.ts';
import { AlertRegistry, openAlertBucket } from './cluster/alerts.ts';
import { JobsLeader, openCheckpointBucket, periodicJob, SlotCheckpoint, type SingletonJob } from './cluster/jobs.ts';
import type { ClusterNode } from './cluster/node.ts';
import type { Metrics } from './metrics.ts';
import { RetentionError } from './retention/apply.ts';
import type { RollupScheduler } from './rollups/scheduler.ts';

/** Buckets of the cluster mode besides the leases (node.ts). */
export const ALERT_BUCKET = 'veilleur_alerts';
export const CHECKPOINT_BUCKET = 'veilleur_jobs';
/** How far back the events other replicas claimed are stored again by a new owner (a day: any spool's backlog). */
const RESTORE_WITHIN_MS = 24 * 3_600_000;

export interface ClusterSideDeps {
  node: ClusterNode;
  metrics: Metrics;
  log: Logger;
  /** Absent when alerts are disabled. */
  alerts?: {
    book: AlertBook;
    sink: AlertSink;
    scheduler: WindowedScheduler;
    evalMs: number;
    /** Appends lines durably (the spool), for the events of other replicas stored again by `rebuild`. */
    store(lines: string[]): boolean;
  };
  /** Absent without a `retention:` section. */
  storage?: {
    applyRetention(): Promise<unknown>;
    /** A fresh rollup scheduler for one term of the jobs lease. */
    makeRollups(): RollupScheduler;
  };
}

export interface ClusterSide {
  /** Stream rules' events of one uplink: claimed now, their lines added to the uplink's by `withClaims`. */
  onUplinkAlerts(events: AlertEvent[]): string[];
  /** The uplink's lines plus those of the alert events it caused and that were accepted (async when there are any). */
  withClaims(lines: string[] | Promise<string[]>): string[] | Promise<string[]>;
  /** Windowed rules and people: claimed, then stored and announced; resolves to the events accepted (never rejects). */
  record(events: AlertEvent[]): Promise<AlertEvent[]>;
  /** Open alerts as the cluster knows them, into the book (before consuming new partitions or leading the jobs). */
  rebuild(): Promise<void>;
  isJobsLeader(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createClusterSide(d: ClusterSideDeps): ClusterSide {
  const log = d.log;
  let registry: Promise<AlertRegistry<Alert>> | undefined;
  // Opened on first use: the hooks of the partition consumers may call rebuild() before start() returns.
  const alertRegistry = (): Promise<AlertRegistry<Alert>> =>
    (registry ??= (async () => {
      const r = new AlertRegistry<Alert>({
        kv: await openAlertBucket(d.node.nc, ALERT_BUCKET, d.node.cfg.streamReplicas),
        instance: d.node.leases.instance,
        log: log.child({ component: 'cluster-alerts' }),
        onRemote: (a, quiet) => d.alerts?.book.adopt(a, quiet),
        lineOf: (e) => alertEventLine(e as AlertEvent),
      });
      await r.follow();
      return r;
    })().catch((err: unknown) => {
      registry = undefined;
      throw err;
    }));

  /** Claims with a few retries (NATS failing over); then gives up, and the caller does not acknowledge. */
  const claim = async (events: AlertEvent[]): Promise<AlertEvent[]> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await alertRegistry();
        const before = r.refused;
        const ok = await r.claim(events);
        d.metrics.alertClaims.inc({ outcome: 'accepted' }, ok.length);
        if (r.refused > before) d.metrics.alertClaims.inc({ outcome: 'refused' }, r.refused - before);
        return ok;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((res) => setTimeout(res, 500 * attempt));
      }
    }
  };

  let pending: Promise<string[]>[] = [];
  let leader: JobsLeader | undefined;
  const side: ClusterSide = {
    onUplinkAlerts(events) {
      if (events.length === 0 || !d.alerts) return [];
      const sink = d.alerts.sink;
      pending.push(claim(events).then((ok) => sink.withUplink(ok)));
      return [];
    },
    withClaims(lines) {
      if (Array.isArray(lines) && pending.length === 0) return lines;
      return Promise.resolve(lines).then(async (l) => {
        // The claims made while this uplink was handled (with an asynchronous custom codec, possibly a neighbour's
        // too: its lines are then stored with this uplink's, acknowledged no earlier).
        const mine = pending;
        pending = [];
        return mine.length === 0 ? l : [...l, ...(await Promise.all(mine)).flat()];
      });
    },
    record(events) {
      if (events.length === 0 || !d.alerts) return Promise.resolve([]);
      const sink = d.alerts.sink;
      return claim(events).then(
        (ok) => {
          sink.record(ok);
          return ok;
        },
        (err: unknown) => {
          log.error({ err: String(err), events: events.map((e) => `${e.type} ${e.alert.id}`) }, 'alert events not recorded: NATS did not answer');
          return [];
        },
      );
    },
    async rebuild() {
      if (!d.alerts) return;
      const r = await alertRegistry();
      const n = await r.sync();
      // Events another replica claimed may not have reached InfluxDB if it died: stored again (same points).
      const lines = await r.linesFromOthers(RESTORE_WITHIN_MS);
      if (lines.length > 0 && !d.alerts.store(lines)) throw new Error('the spool refused the alert events of other replicas');
      log.info({ alerts: n, eventsStoredAgain: lines.length }, 'alerts of the cluster read from NATS');
    },
    isJobsLeader: () => leader?.holds() ?? false,
    async start() {
      const checkpoints = await openCheckpointBucket(d.node.nc, CHECKPOINT_BUCKET, d.node.cfg.streamReplicas);
      const jobs: SingletonJob[] = [];
      const a = d.alerts;
      if (a) {
        await alertRegistry();
        jobs.push(
          periodicJob({
            name: 'windowed',
            everyMs: a.evalMs,
            checkpoint: new SlotCheckpoint(checkpoints, 'windowed'),
            log,
            // The scheduler's round hands its events to record() above (claimed, then stored and announced).
            run: async (at) => void (await a.scheduler.runOnce(at)),
            onRun: () => d.metrics.jobRounds.inc({ job: 'windowed' }),
          }),
        );
      }
      if (d.storage) jobs.push(storageJob(d.storage, d.metrics, log));
      leader = new JobsLeader({
        leases: d.node.leases,
        jobs,
        log: log.child({ component: 'jobs' }),
        onElected: () => side.rebuild(),
        onChange: (on) => d.metrics.jobsLeader.set(on ? 1 : 0),
      });
      leader.start();
    },
    async stop() {
      await leader?.stop();
      if (registry) (await registry.catch(() => undefined))?.stop();
    },
  };
  return side;
}

/** Retention applied once per term (idempotent, audited), then the rollups from their checkpoint in InfluxDB. */
function storageJob(s: NonNullable<ClusterSideDeps['storage']>, metrics: Metrics, log: Logger): SingletonJob {
  return {
    name: 'retention+rollups',
    start(holds) {
      let stopped = false;
      let rollups: RollupScheduler | undefined;
      const run = (async () => {
        for (let attempt = 1; !stopped && holds(); attempt++) {
          try {
            await s.applyRetention();
            break;
          } catch (err) {
            if (err instanceof RetentionError) {
              log.error({ err: err.message, settings: err.settings }, 'retention configuration refused; nothing changed');
              break;
            }
            if (attempt === 1) log.warn({ err: (err as Error).message }, 'cannot apply retention yet; retrying');
            await new Promise((r) => setTimeout(r, 5000));
          }
        }
        if (stopped || !holds()) return;
        metrics.jobRounds.inc({ job: 'retention' });
        rollups = s.makeRollups();
        rollups.start();
      })();
      return {
        async stop() {
          stopped = true;
          await run;
          await rollups?.stop();
        },
      };
    },
  };
}
