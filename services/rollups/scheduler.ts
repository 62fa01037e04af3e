/**
 * Runs the rollups every few minutes inside the service. A round computes the periods completed since the
 * checkpoint, at most `maxPeriodsPerRound` per resolution; while behind (after downtime) the next round follows
 * within seconds, otherwise after `everyMinutes`. A failed round (InfluxDB down) is logged and tried again; stop()
 * cuts a round short between two steps, so whatever is not checkpointed is simply computed again next time.
 */
import type { Logger } from 'pino';
import type { FileConfig } from '../config/schema.ts';
import type { InfluxTarget } from '../storage/influx.ts';
import { durationMs } from '../retention/classes.ts';
import { siteCalendars } from '../time/sites.ts';
import type { RetentionConfig } from '../retention/config.ts';
import type { Resolution } from './names.ts';
import { RollupRunner, type RollupRunnerOptions, type RoundReport } from './rollup.ts';

/** Time zone of a site: its calendar's (tenant-specific first), else the rollups' default. */
export function siteTimeZones(sites: FileConfig['sites'], defaultZone: string): { timeZoneOf(tenant: string, site: string): string; zones: string[] } {
  const calendars = siteCalendars(sites);
  return {
    timeZoneOf: (tenant, site) => calendars.timeZone(tenant, site, defaultZone),
    zones: [...new Set([defaultZone, ...calendars.zones])].sort(),
  };
}

export interface RollupSchedulerOptions {
  influx: Pick<InfluxTarget, 'query' | 'write'>;
  retention: RetentionConfig;
  sites: FileConfig['sites'];
  log: Logger;
  /**
   * False while the service is not ready for rollups, e.g. its spool still holds a backlog for InfluxDB: computing
   * a period before its readings are in would store incomplete aggregates (they are only recomputed by hand).
   */
  ready?: () => boolean;
  /** Overrides for tests and tools. */
  runner?: Partial<RollupRunnerOptions>;
}

export interface RollupScheduler {
  start(): void;
  /** One round now (also what the timer runs). */
  runOnce(now?: Date): Promise<RoundReport>;
  stop(): Promise<void>;
}

export function createRollupScheduler(opts: RollupSchedulerOptions): RollupScheduler {
  const r = opts.retention.rollups;
  const resolutions: Resolution[] = [...(r.hourly ? (['1h'] as const) : []), ...(r.daily ? (['1d'] as const) : [])];
  const tz = siteTimeZones(opts.sites, r.timeZone);
  const log = opts.log.child({ component: 'rollups' });
  const runner = new RollupRunner({
    influx: opts.influx,
    resolutions,
    timeZoneOf: tz.timeZoneOf,
    zones: tz.zones,
    lagMs: r.lagMinutes * 60_000,
    maxPeriodsPerRound: r.maxPeriodsPerRound,
    retentionMs: { '1h': durationMs(opts.retention.hourly)!, '1d': durationMs(opts.retention.daily)! },
    log,
    ...opts.runner,
  });
  const everyMs = r.everyMinutes * 60_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RoundReport> | undefined;
  let stopped = false;
  const abort = new AbortController();
  let failures = 0;

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(tick, delayMs);
    timer.unref();
  };

  const tick = () => {
    if (opts.ready && !opts.ready()) return schedule(Math.min(everyMs, 30_000));
    running = runner.runOnce(new Date(), abort.signal);
    running.then(
      (report) => {
        failures = 0;
        schedule(report.behind ? 1000 : everyMs);
      },
      (err: unknown) => {
        // Log the first failure and then every tenth: an InfluxDB outage must not flood the log.
        if (failures++ % 10 === 0) log.warn({ err: (err as Error).message, failures }, 'rollup round failed; retried next round');
        schedule(everyMs);
      },
    );
  };

  return {
    start() {
      if (resolutions.length === 0) {
        log.info('rollups disabled by configuration');
        return;
      }
      // The first round soon after start-up: catch up on what was missed while the service was down.
      schedule(Math.min(everyMs, 10_000));
    },
    runOnce(now = new Date()) {
      return runner.runOnce(now, abort.signal);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      abort.abort();
      await running?.catch(() => undefined);
    },
  };
}
