/**
 * Notification dispatcher. `notify(event)` is called by the service's AlertSink, on the ingestion path too: it only
 * matches routes and appends to in-memory queues, never waits and never throws. Each channel has a bounded queue
 * drained by a few concurrent senders; a failed attempt is logged and retried with exponential back-off up to a
 * maximum number of attempts. Each route has a token bucket: events over the limit are held and sent as one summary
 * when the bucket allows (nothing vanishes silently, and a storm of alerts costs one message per token).
 * `stop(ms)` sends what is queued (and held) for at most `ms`, then gives up on the rest and says how much.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigError } from '../../config/load.ts';
import type { AlertEvent } from '../lifecycle.ts';
import { asDeliveryError, type Channel } from './channel.ts';
import { DEFAULT_RATE_LIMIT, deliverySchema, notificationsSchema, type ChannelConfig, type DeliveryOptions, type Lang, type NotificationsConfig, type RateLimit, type RouteConfig } from './config.ts';
import type { DisplayNames } from '../../registry/names.ts';
import { emailChannel } from './email.ts';
import { createNotificationMetrics, type NotificationMetrics } from './metrics.ts';
import { mqttChannel, type MqttPublish } from './mqtt.ts';
import { eventId, summaryEntry, type Notification, type SummaryEntry } from './payload.ts';
import { TokenBucket } from './rate-limit.ts';
import { routeMatches } from './routing.ts';
import { webhookChannel } from './webhook.ts';

export interface NotificationDeps {
  /** The service's broker connection (MqttConsumer.publish); required only when an mqtt channel is configured. */
  mqttPublish?: MqttPublish;
  /** Where `secretEnv` and `passwordEnv` are looked up; process.env by default. */
  env?: Record<string, string | undefined>;
  /** Registers the notification metrics there (the service's `metrics.registry`). */
  registry?: Registry;
  /** Source of the back-off jitter; Math.random by default. */
  random?: () => number;
  /** Display names of communes and sites, for e-mails (registry/names.ts); absent: identifiers. */
  names?: DisplayNames;
  /** Builds channels; tests replace it to observe attempts without a network. */
  channelFactory?: (name: string, cfg: ChannelConfig, secret: string | undefined) => Channel;
}

export interface ChannelStats {
  type: Channel['type'];
  delivered: number;
  failedAttempts: number;
  gaveUp: number;
  refused: number;
  queueFull: number;
  shutdown: number;
  /** Waiting, in flight or waiting for a retry now. */
  queued: number;
}

export interface NotificationStats {
  channels: Record<string, ChannelStats>;
  /** Per route: events held over the rate limit, summaries sent. */
  routes: Record<string, { held: number; summaries: number }>;
  /** Events notified after stop(), not sent. */
  afterStop: number;
}

export interface NotificationDispatcher {
  notify(event: AlertEvent): void;
  /** Sends what is queued and held for at most `ms`, then drops the rest (logged); resolves when done. */
  stop(ms?: number): Promise<void>;
  stats(): NotificationStats;
}

/** A summary lists this many events; the others are counted. */
export const SUMMARY_MAX_EVENTS = 50;

interface Job {
  n: Notification;
  lang: Lang;
  attempt: number;
  timer?: NodeJS.Timeout;
}

class ChannelQueue {
  private readonly ready: Job[] = [];
  private readonly waiting = new Set<Job>();
  private inflight = 0;
  private pumpScheduled = false;
  private closed = false;
  private readonly abort = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private queueFullSince = 0;
  private queueFullLogAt = 0;
  readonly stats: ChannelStats;

  constructor(
    readonly channel: Channel,
    private readonly opts: DeliveryOptions,
    private readonly lang: Lang,
    private readonly log: Logger,
    private readonly metrics: NotificationMetrics,
    private readonly random: () => number,
  ) {
    this.stats = { type: channel.type, delivered: 0, failedAttempts: 0, gaveUp: 0, refused: 0, queueFull: 0, shutdown: 0, queued: 0 };
  }

  get size(): number {
    return this.ready.length + this.waiting.size + this.inflight;
  }

  enqueue(n: Notification, routeLang: Lang | undefined): void {
    if (this.closed) return;
    if (this.size >= this.opts.queueSize) {
      this.drop('queueFull', 'queue-full');
      // A dead receiver under a storm would log once per event: once a minute, with the count, is enough.
      this.queueFullSince++;
      const now = Date.now();
      if (now - this.queueFullLogAt >= 60_000) {
        this.log.error({ channel: this.channel.name, target: this.channel.target, queueSize: this.opts.queueSize, dropped: this.queueFullSince }, 'notification queue full: new notifications dropped');
        this.queueFullLogAt = now;
        this.queueFullSince = 0;
      }
      return;
    }
    this.ready.push({ n, lang: routeLang ?? this.lang, attempt: 0 });
    this.schedulePump();
  }

  /** Sending starts on a later turn of the event loop, so that notify() does no I/O work at all. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (!this.closed && this.inflight < this.opts.concurrency && this.ready.length > 0) {
      const job = this.ready.shift()!;
      this.inflight++;
      void this.attempt(job);
    }
  }

  private async attempt(job: Job): Promise<void> {
    job.attempt++;
    try {
      await this.channel.send(job.n, { attempt: job.attempt, lang: job.lang, signal: this.abort.signal });
      this.stats.delivered++;
      this.metrics.delivered.inc({ channel: this.channel.name });
      this.log.debug({ ...this.fields(job), attempt: job.attempt }, 'notification delivered');
    } catch (err) {
      this.failed(job, err);
    } finally {
      this.inflight--;
      this.pump();
      this.checkIdle();
    }
  }

  private fields(job: Job) {
    const n = job.n;
    return {
      channel: this.channel.name,
      channelType: this.channel.type,
      target: this.channel.target,
      notification: n.id,
      event: n.kind === 'event' ? n.event.type : 'summary',
      ...(n.kind === 'event' ? { alertId: n.event.alert.id, rule: n.event.alert.ruleId } : { route: n.summary.route }),
    };
  }

  private failed(job: Job, err: unknown): void {
    // After shutdown gave up, stop() has counted and logged this one already.
    if (this.closed) return;
    const e = asDeliveryError(err);
    this.stats.failedAttempts++;
    this.metrics.failedAttempts.inc({ channel: this.channel.name });
    const fields = { ...this.fields(job), attempt: job.attempt, maxAttempts: this.opts.maxAttempts, err: e.message };
    if (e.permanent) {
      this.drop('refused', 'refused');
      this.log.error(fields, 'notification refused by the receiver; not retried');
      return;
    }
    if (job.attempt >= this.opts.maxAttempts) {
      this.drop('gaveUp', 'gave-up');
      this.log.error(fields, 'notification not delivered: last attempt failed, given up');
      return;
    }
    const delay = this.backoff(job.attempt, e.retryAfterMs);
    this.log.warn({ ...fields, retryInMs: delay }, 'notification attempt failed; will retry');
    this.waiting.add(job);
    job.timer = setTimeout(() => this.wake(job), delay);
    // Retries never keep the process alive on their own; stop() decides how long to wait for them.
    job.timer.unref();
  }

  /** initialDelayMs × 2^(attempt−1), at most maxDelayMs, ±20 % so that channels do not retry in lockstep. */
  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    const { initialDelayMs, maxDelayMs } = this.opts;
    const cap = Math.max(initialDelayMs, maxDelayMs);
    const base = Math.min(cap, initialDelayMs * 2 ** Math.min(attempt - 1, 30));
    const jittered = base * (0.8 + 0.4 * this.random());
    return Math.round(Math.min(cap, Math.max(jittered, retryAfterMs ?? 0)));
  }

  private wake(job: Job): void {
    if (!this.waiting.delete(job)) return;
    clearTimeout(job.timer);
    this.ready.push(job);
    this.pump();
  }

  private drop(stat: 'gaveUp' | 'refused' | 'queueFull' | 'shutdown', reason: string, n = 1): void {
    this.stats[stat] += n;
    this.metrics.dropped.inc({ channel: this.channel.name, reason }, n);
  }

  /** Shutdown: what waits for a retry gets its last chance now. */
  flushNow(): void {
    for (const job of [...this.waiting]) this.wake(job);
    this.pump();
  }

  whenIdle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (this.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Gives up on everything still queued or in flight; returns how many notifications that was. */
  close(): number {
    if (this.closed) return 0;
    const lost = this.size;
    this.closed = true;
    for (const job of this.waiting) clearTimeout(job.timer);
    this.waiting.clear();
    this.ready.length = 0;
    this.abort.abort();
    if (lost > 0) this.drop('shutdown', 'shutdown', lost);
    return lost;
  }
}

interface RouteState {
  name: string;
  cfg: RouteConfig;
  limit: RateLimit;
  bucket: TokenBucket;
  held: { count: number; events: SummaryEntry[] };
  timer?: NodeJS.Timeout;
  summaries: number;
  heldTotal: number;
}

function resolveEnv(path: string, varName: string, env: Record<string, string | undefined>, what: string): string {
  const v = env[varName];
  if (v === undefined || v === '') throw new ConfigError(`invalid notifications: ${path}: environment variable ${varName} is not set (expected ${what})`);
  return v;
}

function defaultChannelFactory(deps: NotificationDeps, env: Record<string, string | undefined>) {
  return (name: string, cfg: ChannelConfig, secret: string | undefined): Channel => {
    switch (cfg.type) {
      case 'webhook':
        return webhookChannel(name, cfg, secret!);
      case 'email':
        return emailChannel(name, cfg, cfg.smtp.passwordEnv ? resolveEnv(`notifications.channels.${name}.smtp.passwordEnv`, cfg.smtp.passwordEnv, env, 'the SMTP password') : cfg.smtp.password, deps.names);
      case 'mqtt':
        if (!deps.mqttPublish) throw new ConfigError(`invalid notifications: notifications.channels.${name}: an mqtt channel needs the service's broker connection (deps.mqttPublish)`);
        return mqttChannel(name, cfg, deps.mqttPublish);
    }
  };
}

/**
 * Builds the channels and routes of the `notifications` section. Throws a ConfigError at start-up when a secret or
 * password named by an environment variable is missing, rather than failing at the first alert.
 */
export function createNotificationDispatcher(section: NotificationsConfig | undefined, log: Logger, deps: NotificationDeps = {}): NotificationDispatcher {
  // No section: no routes, and notify() does nothing.
  const config = section ?? notificationsSchema.parse({});
  const env = deps.env ?? process.env;
  const random = deps.random ?? Math.random;
  const factory = deps.channelFactory ?? defaultChannelFactory(deps, env);
  const queues = new Map<string, ChannelQueue>();
  const metrics = createNotificationMetrics(deps.registry, () => new Map([...queues].map(([name, q]) => [name, q.size])));

  const used = new Set(config.routes.flatMap((r) => r.channels));
  for (const [name, cfg] of Object.entries(config.channels)) {
    if (!used.has(name)) {
      log.warn({ channel: name }, 'notification channel used by no route: it receives nothing');
      continue;
    }
    let secret: string | undefined;
    if (cfg.type === 'webhook') {
      secret = cfg.secretEnv ? resolveEnv(`notifications.channels.${name}.secretEnv`, cfg.secretEnv, env, "the webhook's shared secret") : cfg.secret;
      if (!secret || secret.length < 16) throw new ConfigError(`invalid notifications: notifications.channels.${name}: expected a shared secret of at least 16 characters`);
    }
    const delivery = deliverySchema.parse({ ...config.delivery, ...cfg.delivery });
    const lang: Lang = cfg.type === 'email' ? cfg.lang : 'fr';
    queues.set(name, new ChannelQueue(factory(name, cfg, secret), delivery, lang, log, metrics, random));
  }

  const routes: RouteState[] = config.routes.map((cfg, i) => {
    const limit = cfg.rateLimit ?? DEFAULT_RATE_LIMIT;
    return { name: cfg.name ?? `routes[${i}]`, cfg, limit, bucket: TokenBucket.fromLimit(limit), held: { count: 0, events: [] }, summaries: 0, heldTotal: 0 };
  });
  let stopped = false;
  let afterStop = 0;
  let stopping: Promise<void> | undefined;

  const hold = (r: RouteState, e: AlertEvent): void => {
    r.held.count++;
    r.heldTotal++;
    if (r.held.events.length < SUMMARY_MAX_EVENTS) r.held.events.push(summaryEntry(e));
    metrics.held.inc({ route: r.name });
    if (r.held.count === 1) {
      log.warn({ route: r.name, max: r.limit.max, perMinutes: r.limit.perMinutes }, 'notification route over its rate limit: holding events for one summary');
      schedule(r);
    }
  };

  const schedule = (r: RouteState): void => {
    if (r.timer || stopped) return;
    r.timer = setTimeout(() => sendSummary(r, false), Math.max(1, r.bucket.msUntilToken()));
    r.timer.unref();
  };

  const sendSummary = (r: RouteState, force: boolean): void => {
    clearTimeout(r.timer);
    r.timer = undefined;
    if (r.held.count === 0) return;
    if (force) r.bucket.forceTake();
    else if (!r.bucket.tryTake()) return schedule(r);
    const now = new Date();
    const held = r.held;
    r.held = { count: 0, events: [] };
    const n: Notification = {
      kind: 'summary',
      id: `summary:${r.name}:${now.getTime()}`,
      summary: { id: `summary:${r.name}:${now.getTime()}`, event: 'summary', at: now.toISOString(), route: r.name, rateLimit: r.limit, count: held.count, events: held.events, omitted: held.count - held.events.length },
    };
    r.summaries++;
    metrics.summaries.inc({ route: r.name });
    log.info({ route: r.name, count: held.count }, 'summary of the events held over the rate limit queued');
    for (const c of r.cfg.channels) queues.get(c)?.enqueue(n, r.cfg.lang);
  };

  return {
    notify(event) {
      try {
        if (stopped) {
          afterStop++;
          log.warn({ alertId: event.alert.id, event: event.type }, 'alert event after notifications stopped: not sent');
          return;
        }
        let snapshot: AlertEvent | undefined;
        // A channel gets an event once, from the first route that sends it there.
        const served = new Set<string>();
        for (const r of routes) {
          if (!routeMatches(r.cfg, event)) continue;
          const targets = r.cfg.channels.filter((c) => !served.has(c) && queues.has(c));
          if (targets.length === 0) continue;
          // The alert object keeps changing after this event (measured values, state): queues keep a copy.
          snapshot ??= structuredClone(event);
          if (!r.bucket.tryTake()) {
            hold(r, snapshot);
            continue;
          }
          const n: Notification = { kind: 'event', id: eventId(snapshot), event: snapshot };
          for (const c of targets) {
            served.add(c);
            queues.get(c)!.enqueue(n, r.cfg.lang);
          }
        }
      } catch (err) {
        // Never into the ingestion path: an alert that cannot be notified is still stored.
        log.error({ err: (err as Error).message, alertId: event?.alert?.id }, 'alert event not notified: dispatcher error');
      }
    },

    stop(ms = 5000) {
      stopping ??= (async () => {
        stopped = true;
        for (const r of routes) sendSummary(r, true);
        for (const q of queues.values()) q.flushNow();
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), ms);
        });
        const outcome = await Promise.race([Promise.all([...queues.values()].map((q) => q.whenIdle())).then(() => 'idle' as const), deadline]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          const lost = Object.fromEntries([...queues].map(([name, q]) => [name, q.close()]).filter(([, n]) => (n as number) > 0));
          log.warn({ lost, waitedMs: ms }, 'notifications still queued at shutdown were given up (not confirmed as delivered)');
        }
        for (const q of queues.values()) q.close();
        await Promise.all([...queues.values()].map((q) => q.channel.close().catch(() => undefined)));
      })();
      return stopping;
    },

    stats() {
      return {
        channels: Object.fromEntries([...queues].map(([name, q]) => [name, { ...q.stats, queued: q.size }])),
        routes: Object.fromEntries(routes.map((r) => [r.name, { held: r.heldTotal, summaries: r.summaries }])),
        afterStop,
      };
    },
  };
}
