/**
 * Wires the ingestion service: MQTT consumer → ingestor (envelope, dedupe, decode) → spool → writer → InfluxDB,
 * plus the HTTP server. `start()` replays what the spool still holds; `stop()` stops taking messages, drains the
 * spool to InfluxDB for up to `drainMs`, and keeps the rest on disk for the next start.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, startupWarnings, type Config } from './config/load.ts';
import type { RouteEntry } from './api/app.ts';
import { apiRegistry, type ApiDeps } from './api/deps.ts';
import { KeyRing, KeyStore, KeyStoreError } from './api/keys.ts';
import { emptyStoreState, mergeStoreStates, parseStoreState, type StoreState } from './api/key-store.ts';
import { SharedKeyStore } from './cluster/shared-keys.ts';
import { SharedSessions } from './cluster/shared-sessions.ts';
import { DEFAULT_SESSION_LIMITS, SessionStore } from './console/session.ts';
import { ACTION_LOG, AuditLog } from './audit/trail.ts';
import { buildHttpServer, type HttpServer } from './http/server.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { MqttConsumer } from './mqtt/consumer.ts';
import { ClusterNode } from './cluster/node.ts';
import { ClusterSource } from './cluster/source.ts';
import { createClusterSide } from './service-cluster.ts';
import { AlertEngine } from './alerts/engine.ts';
import { createNotificationDispatcher } from './alerts/notify/dispatcher.ts';
import { AlertBook, type AlertEvent } from './alerts/lifecycle.ts';
import { calendarLookup, siteRulesLookup, WindowedScheduler } from './alerts/scheduler.ts';
import { AlertSink } from './alerts/sink.ts';
import { loadActiveAlerts } from './alerts/store.ts';
import { defaultWindowedRules } from './alerts/rules/index.ts';
import { defaultStreamRules } from './alerts/rules/index.ts';
import { loadCustomCodecs } from './pipeline/custom-codecs.ts';
import { builtInDecoders, type DecoderResolver } from './pipeline/decode.ts';
import { Ingestor } from './pipeline/ingest.ts';
import { redecode } from './pipeline/redecode.ts';
import { applyRetention, RetentionError } from './retention/apply.ts';
import { CLASSES, COPIED_MEASUREMENTS } from './retention/classes.ts';
import { createRollupScheduler } from './rollups/scheduler.ts';
import { displayNames } from './registry/names.ts';
import { Registry } from './registry/registry.ts';
import { createInfluxTarget, type InfluxTarget } from './storage/influx.ts';
import { Spool } from './storage/spool.ts';
import { SpoolWriter } from './storage/writer.ts';
import { startMemoryTrim } from './memory-trim.ts';

export interface Service {
  readonly metrics: Metrics;
  readonly influx: InfluxTarget;
  /** The HTTP routes with their access rules (once started). */
  routes(): RouteEntry[];
  /** The address the HTTP server listens on, once started. */
  address(): string;
  start(): Promise<void>;
  stop(drainMs?: number): Promise<void>;
}

export function createService(cfg: Config, log: Logger, extraDecoders: DecoderResolver[] = []): Service {
  const metrics = createMetrics();
  const influx = createInfluxTarget(cfg.influx);
  const spool = new Spool({ dir: join(cfg.spool.dir, 'spool'), maxBytes: cfg.spool.maxBytes, segmentBytes: cfg.spool.segmentBytes, fsyncMs: cfg.spool.fsyncMs });
  const retention = cfg.registry.retention;
  // Alert events are also kept in their own retention policy, which outlives raw data.
  const copies = retention ? COPIED_MEASUREMENTS.map((c) => ({ measurement: c.measurement, rp: CLASSES[c.dataClass].rp! })) : [];
  // The action trail lives in its own policy only (it names people: kept a year, not like raw data).
  const moves = retention ? [{ measurement: ACTION_LOG.measurement, rp: CLASSES.actions.rp! }] : [];
  const writer = new SpoolWriter(spool, influx, { batchBytes: cfg.write.batchBytes, flushMs: cfg.write.flushMs, copies, moves }, metrics, log.child({ component: 'writer' }));
  const custom = loadCustomCodecs(cfg.registry.codecs, cfg.configFile);
  // Alert messages and e-mails name communes and sites as people do ("Gymnase municipal"), not by identifiers.
  const names = displayNames(cfg.registry);
  // Per-site rule settings and occupancy calendars, shared by the stream rules, the windowed ones and the API.
  const rulesFor = siteRulesLookup(cfg.registry.sites);
  const calendarFor = calendarLookup(cfg.registry.sites);
  const siteName = names.site;
  const alerts = cfg.alerts.enabled ? new AlertEngine(defaultStreamRules(rulesFor, siteName), new AlertBook(), calendarFor) : undefined;
  const registry = new Registry(cfg.registry, cfg.defaultTenant);
  const decoders = [...extraDecoders, custom.resolver, builtInDecoders];
  const ingestor = new Ingestor(
    registry,
    decoders,
    metrics,
    log.child({ component: 'ingest' }),
    // The uplink's alert events are stored in the uplink's own spool write (the sink exists once the consumer does).
    // Cluster mode: the events are claimed in NATS first (one open alert per rule and subject across replicas).
    alerts
      ? (devEui, meta, at, readings) => {
          const events = alerts.onReadings(devEui, meta, at, readings);
          return clusterSide ? clusterSide.onUplinkAlerts(events) : alertSink.withUplink(events);
        }
      : undefined,
  );
  let stopping = false;

  /**
   * Stages the message's lines for the consumer's next group flush; while the spool is full, waits (holding the
   * acknowledgement back) and then appends durably itself. An uplink waiting for its custom codec resolves once
   * its lines are staged: the consumer acknowledges it after the flush that follows, in the order of arrival.
   */
  const handle = (topic: string, payload: Buffer): void | Promise<void> => {
    const handled = ingestor.handle(topic, payload);
    const lines = clusterSide ? clusterSide.withClaims(handled) : handled;
    return Array.isArray(lines) ? spoolLines(lines) : lines.then(spoolLines);
  };

  /**
   * While the spool is full, messages wait for room one behind the other (the consumer no longer stops reading for
   * them: the broker's in-flight window bounds how many), so they reach the spool in the order they came.
   */
  let waitingForRoom: Promise<void> | undefined;
  const spoolLines = (lines: string[]): void | Promise<void> => {
    if (!waitingForRoom && !spool.full) {
      spool.stage(lines);
      return;
    }
    const first = !waitingForRoom;
    const waited = (waitingForRoom ?? Promise.resolve()).then(async () => {
      const since = Date.now();
      if (first) log.warn({ spoolBytes: spool.pendingBytes(), maxBytes: cfg.spool.maxBytes }, 'spool full: not acknowledging the broker until InfluxDB catches up');
      for (;;) {
        // When stopping, the message is not acknowledged: the broker redelivers it next session.
        if (stopping) throw new Error('stopping before the message could be spooled');
        if (!spool.full && flushDurably(lines)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      metrics.backpressureSeconds.inc((Date.now() - since) / 1000);
    });
    waitingForRoom = waited;
    const done = () => {
      if (waitingForRoom === waited) waitingForRoom = undefined;
    };
    waited.then(done, done);
    return waited;
  };

  const flush = (): void => {
    spool.flush();
    writer.notify();
  };

  /** A failed append (disk full, I/O error) is retried, never acknowledged. */
  let appendErrorLogged = false;
  const flushDurably = (lines: string[]): boolean => {
    try {
      spool.append(lines);
      writer.notify();
      appendErrorLogged = false;
      return true;
    } catch (err) {
      if (!appendErrorLogged) log.error({ err: (err as Error).message, dir: cfg.spool.dir }, 'cannot append to the spool; not acknowledging until it works');
      appendErrorLogged = true;
      return false;
    }
  };

  // --- Ingestion (issue 17, engineer A). One process: the broker straight into the spool. Cluster mode (`cluster:`
  // section): the broker relayed into JetStream, and the partitions this replica holds a lease on into the same sink,
  // acknowledged once InfluxDB has their lines (the stream, not this replica's spool, is then the journal);
  // `mqttConsumer` then only publishes (alerts) over MQTT. A new owner of partitions first reloads the open alerts.
  const cluster = cfg.registry.cluster ? new ClusterNode(cfg.registry.cluster, log.child({ component: 'cluster' })) : undefined;
  const mqttConsumer = cluster
    ? new ClusterSource(cluster, cfg.mqtt, { handle, flush, flushedMark: () => spool.appendedBytes, persistedMark: () => spool.appendedBytes - spool.pendingBytes() }, metrics, log.child({ component: 'cluster' }), {
        beforeConsume: async () => {
          if (alerts) alerts.book.restore(await loadActiveAlerts(influx));
          // What NATS knows wins: InfluxDB lags behind the spool of the replica that owned them.
          await clusterSide?.rebuild();
        },
      })
    : new MqttConsumer(cfg.mqtt, { handle, flush }, metrics, log.child({ component: 'mqtt' }));
  // --- end of the ingestion wiring
  const notifications = createNotificationDispatcher(cfg.registry.notifications, log.child({ component: 'notify' }), {
    mqttPublish: (topic, payload) => mqttConsumer.publish(topic, payload),
    registry: metrics.registry,
    names,
  });
  // The one way out for alert events, from stream rules, windowed rules and people alike: stored through the
  // spool, published on ALERT_MQTT_TOPIC, sent to the configured routes (webhook, e-mail, MQTT), never blocking.
  const alertSink = new AlertSink({
    store: flushDurably,
    publish: (topic, payload) => mqttConsumer.publish(topic, payload),
    notify: (e) => notifications.notify(e),
    mqttTopic: cfg.alerts.mqttTopic,
    log: log.child({ component: 'alerts' }),
  });
  let influxOk = false;
  let influxCheckedAt = 0;
  const httpDeps = {
    log,
    metrics,
    readiness: {
      mqttConnected: () => mqttConsumer.connected,
      influxReachable: async () => {
        // A recent successful write proves it; otherwise ping, at most every 2 s.
        if (writer.healthy) return true;
        if (Date.now() - influxCheckedAt > 2000) {
          influxCheckedAt = Date.now();
          influxOk = await influx.ping();
        }
        return influxOk;
      },
      spool: () => ({ bytes: spool.pendingBytes(), maxBytes: cfg.spool.maxBytes, full: spool.full }),
      draining: () => stopping,
      // Cluster mode: partitions owned, their lag, the relay and the jobs lease (issue 17).
      ...(mqttConsumer instanceof ClusterSource ? { cluster: () => ({ ...mqttConsumer.status(), jobsLeader: clusterSide?.isJobsLeader() ?? false }) } : {}),
    },
  };

  // Windowed rules: their events go through the sink like every other.
  /**
   * Alert events of the windowed rules and of people (API, console): through the sink like every other; in cluster
   * mode claimed in NATS first. Resolves to the events recorded (a change another replica recorded first is not).
   */
  const recordAlertEvents = (events: AlertEvent[]): Promise<AlertEvent[]> => {
    if (clusterSide) return clusterSide.record(events);
    alertSink.record(events);
    return Promise.resolve(events);
  };

  const scheduler = alerts
    ? new WindowedScheduler(
        defaultWindowedRules(),
        alerts.book,
        influx,
        calendarFor,
        (events) => void recordAlertEvents(events),
        cfg.alerts.evalMinutes * 60_000,
        log.child({ component: 'alerts' }),
        rulesFor,
        siteName,
      )
    : undefined;

  // Rollups run once retention is applied (their policies exist), and not while a backlog is still draining.
  const makeRollups = (r: NonNullable<typeof retention>) =>
    createRollupScheduler({
      influx,
      retention: r,
      sites: cfg.registry.sites,
      log: log.child({ component: 'rollups' }),
      ready: () => spool.pendingBytes() < cfg.write.batchBytes,
      // Counted and logged per step: summed over a cluster's replicas, each period once (docs/scaling.md).
      runner: {
        afterWrite: ({ resolution, zone, periods }) => {
          metrics.rollupPeriods.inc({ resolution }, periods.length);
          log.info({ component: 'rollups', resolution, zone, from: periods[0]!.start, to: periods.at(-1)!.end }, 'rollup step written');
        },
      },
    });
  // Cluster mode: the rollups run on the jobs leader only, a fresh scheduler per term (service-cluster.ts).
  const rollups = retention && !cluster ? makeRollups(retention) : undefined;
  const applyStorage = async (): Promise<void> => {
    if (!retention || !rollups) {
      log.warn('no retention: section in the configuration: InfluxDB keeps everything until someone decides (docs/schema.md, Retention)');
      return;
    }
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await applyRetention({ influx, influxConfig: cfg.influx, retention, ...(cfg.configFile ? { configFile: cfg.configFile } : {}), log: log.child({ component: 'retention' }) });
        rollups.start();
        return;
      } catch (err) {
        if (err instanceof RetentionError) {
          log.error({ err: err.message, settings: err.settings }, 'retention configuration refused; nothing changed');
          rollups.start();
          return;
        }
        if (attempt === 1) log.warn({ err: (err as Error).message }, 'cannot apply retention yet; retrying');
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  };

  // --- Cluster mode, alerts and singleton jobs (issue 17, engineer B): alert events claimed in NATS before they
  // are stored and announced; the windowed rules, retention and rollups on the replica holding the `jobs` lease.
  const clusterSide = cluster
    ? createClusterSide({
        node: cluster,
        metrics,
        log: log.child({ component: 'cluster' }),
        ...(alerts && scheduler ? { alerts: { book: alerts.book, sink: alertSink, scheduler, evalMs: cfg.alerts.evalMinutes * 60_000, store: flushDurably } } : {}),
        ...(retention
          ? {
              storage: {
                applyRetention: () => applyRetention({ influx, influxConfig: cfg.influx, retention, ...(cfg.configFile ? { configFile: cfg.configFile } : {}), log: log.child({ component: 'retention' }) }),
                makeRollups: () => makeRollups(retention),
              },
            }
          : {}),
      })
    : undefined;
  // --- end of the cluster alerts and jobs wiring

  // Keys of the configuration file plus those created, revoked or rotated since (DATA_DIR/api-keys.json). Cluster
  // mode (issue 17, shared state): that state and the console's sessions live in NATS buckets every replica follows,
  // the file being the replica's cache; without `cluster:` the console keeps its sessions in memory.
  const sharedCfg = cfg.registry.cluster;
  const sharedSessions = sharedCfg ? new SharedSessions({ maxAgeMs: DEFAULT_SESSION_LIMITS.absoluteMs, replicas: sharedCfg.streamReplicas, log: log.child({ component: 'console' }) }) : undefined;
  const sessions = sharedSessions ? new SessionStore(DEFAULT_SESSION_LIMITS, sharedSessions, (err) => log.warn({ err: err.message }, 'console sessions: NATS not reached')) : undefined;
  let sharedKeys: SharedKeyStore<StoreState> | undefined;
  let keys: KeyRing;
  try {
    const keyFile = KeyStore.inDataDir(cfg.spool.dir);
    sharedKeys = sharedCfg ? new SharedKeyStore({ cache: keyFile, parse: parseStoreState, merge: mergeStoreStates, empty: emptyStoreState, replicas: sharedCfg.streamReplicas, log: log.child({ component: 'keys' }) }) : undefined;
    keys = new KeyRing(cfg.registry.apiKeys, {
      store: sharedKeys ?? keyFile,
      ...(cfg.configFile ? { configFile: cfg.configFile } : {}),
      onReloadError: (err) => log.error({ err: err.message }, 'API key store changed but cannot be read; the keys read before stay in force'),
    });
  } catch (err) {
    if (err instanceof KeyStoreError) throw new ConfigError(err.message);
    throw err;
  }
  const apiDeps: ApiDeps = {
    keys,
    influx,
    registry: apiRegistry(cfg.registry),
    defaultTenant: cfg.defaultTenant,
    alerts: alerts && {
      book: alerts.book,
      // Acknowledged and resolved by hand (API, console).
      record: recordAlertEvents,
      calendarFor,
      rulesFor,
    },
    retention: { influx, influxConfig: cfg.influx, settings: retention },
    redecode: (opts) => redecode(influx, registry, decoders, opts, log.child({ component: 'redecode' })),
    // Who did what: appended to the spool like alert events, so a record survives a crash or InfluxDB being down.
    audit: new AuditLog({ append: flushDurably, influx, rp: retention ? CLASSES.actions.rp : undefined, log: log.child({ component: 'audit' }) }),
    options: {
      docsPublic: cfg.http.docsPublic,
      metricsPublic: cfg.http.metricsPublic,
      rateLimitPerMinute: cfg.http.rateLimitPerMinute,
      authFailuresPer15Min: cfg.http.authFailuresPer15Min,
      heavyConcurrency: cfg.http.heavyConcurrency,
      trustProxy: cfg.http.trustProxy,
      corsOrigins: cfg.http.corsOrigins,
    },
  };
  let http: HttpServer | undefined;
  let memoryTrim: { stop(): void } | undefined;

  const restoreAlerts = async (engine: AlertEngine): Promise<void> => {
    for (let attempt = 1; !stopping; attempt++) {
      try {
        const active = await loadActiveAlerts(influx);
        engine.book.restore(active);
        log.info({ alerts: active.length }, 'open alerts restored');
        return;
      } catch (err) {
        if (attempt === 1) log.warn({ err: (err as Error).message }, 'cannot read open alerts from InfluxDB yet; retrying');
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  };

  return {
    metrics,
    influx,
    routes: () => http?.routes ?? [],
    address() {
      const a = http?.app.server.address();
      return a && typeof a === 'object' ? `http://${a.address}:${a.port}` : '';
    },
    async start() {
      // Open alerts survive a restart: rebuilt from their stored events, in the background, so that an unreachable
      // InfluxDB never delays ingestion (alerts raised meanwhile take precedence over restored ones).
      if (alerts) void restoreAlerts(alerts);
      const replay = spool.open();
      if (replay > 0) log.info({ bytes: replay }, 'spool holds data from a previous run; draining it to InfluxDB first');
      writer.start();
      // In the background, like the alert restore: an unreachable InfluxDB never delays ingestion.
      if (!cluster || !retention) void applyStorage();
      http = await buildHttpServer({ ...httpDeps, api: apiDeps, oidc: cfg.registry.oidc, sessions, oidcLogins: sharedSessions?.logins });
      await http.app.listen({ host: cfg.http.host, port: cfg.http.port });
      if (keys.size === 0) log.warn('no API keys configured: the API refuses every request (veilleur keys create makes one)');
      for (const warning of startupWarnings(cfg)) log.warn(warning);
      await cluster?.start();
      if (cluster) await Promise.all([sharedKeys?.attach(cluster.nc), sharedSessions?.attach(cluster.nc)]);
      await mqttConsumer.start();
      if (clusterSide) await clusterSide.start();
      else scheduler?.start();
      memoryTrim = startMemoryTrim({ activity: () => spool.appendedBytes, log });
      log.info({ influx: influx.describe, http: this.address(), spool: spool.pendingBytes() }, 'Veilleur started');
    },
    async stop(drainMs = 10_000) {
      stopping = true;
      memoryTrim?.stop();
      await clusterSide?.stop();
      await scheduler?.stop();
      await rollups?.stop();
      await mqttConsumer.stop();
      sharedSessions?.stop();
      await sharedKeys?.stop();
      await cluster?.stop();
      const [left] = await Promise.all([writer.drain(drainMs), notifications.stop(Math.min(drainMs, 5000))]);
      await writer.stop();
      spool.close();
      custom.stop();
      await http?.app.close();
      if (left > 0) log.warn({ spoolBytes: left }, 'stopped with data still in the spool; it is written at next start');
      else log.info('stopped; everything received is in InfluxDB');
    },
  };
}
