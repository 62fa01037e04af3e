/**
 * The service's HTTP side: health (`/healthz`: the process answers), readiness (`/readyz`: broker connected,
 * InfluxDB reachable, spool below its bound), Prometheus metrics (`/metrics`, an instance-wide key unless made
 * public), the API (services/api, under /api/v1) and the web console (services/console, at / and below). Health and readiness are the only endpoints that never need a key.
 */
import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { clientErrorHandler, frameworkErrors, registerApi, trustProxyOption, trackRoutes, type RouteEntry } from '../api/app.ts';
import type { ApiDeps } from '../api/deps.ts';
import { createConsole } from '../console/plugin.ts';
import type { OidcConfig } from '../console/oidc-config.ts';
import type { SessionStore } from '../console/session.ts';
import type { SharedLoginRecords } from '../console/oidc.ts';
import type { Metrics } from '../metrics.ts';

export interface Readiness {
  mqttConnected(): boolean;
  influxReachable(): Promise<boolean>;
  spool(): { bytes: number; maxBytes: number; full: boolean };
  draining(): boolean;
  /**
   * Cluster mode only (issue 17): NATS reachable, and this replica's share of the work (partitions owned, their
   * consumer lag, whether it relays the broker and leads the singleton jobs), shown in /readyz.
   */
  cluster?(): { nats: boolean } & Record<string, unknown>;
}

export interface HttpServer {
  app: FastifyInstance;
  /** Every route with its access rule, for the tests that try each one without a key or with a low role. */
  routes: RouteEntry[];
}

export async function buildHttpServer(deps: { log: Logger; metrics: Metrics; readiness: Readiness; api: ApiDeps; oidc?: OidcConfig | undefined; sessions?: SessionStore | undefined; oidcLogins?: SharedLoginRecords | undefined }): Promise<HttpServer> {
  // Request logs at info would be one line per health probe: the HTTP logger starts at warn.
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    requestTimeout: 30_000,
    bodyLimit: 64 * 1024,
    // The client address (throttles, logs) from X-Forwarded-For only when sent by a configured proxy (HTTP_TRUST_PROXY).
    trustProxy: trustProxyOption(deps.api.options.trustProxy),
    clientErrorHandler,
    frameworkErrors,
  });
  const routes = trackRoutes(app, { docsPublic: deps.api.options.docsPublic });
  // Cookies are parsed before the auth hook runs: console pages authenticate by their session cookie.
  await app.register(cookie);
  const webConsole = createConsole(deps.api, { oidc: deps.oidc, sessions: deps.sessions, oidcLogins: deps.oidcLogins });
  await registerApi(app, deps.api, webConsole.auth);
  await app.register(webConsole.plugin);

  const probe = { public: true, rateLimit: false } as const;
  app.get('/healthz', { config: probe, schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: probe, schema: { hide: true } }, async (_req, reply) => {
    const spool = deps.readiness.spool();
    const checks = {
      mqtt: deps.readiness.mqttConnected(),
      influxdb: await deps.readiness.influxReachable(),
      spool: !spool.full,
      shuttingDown: deps.readiness.draining(),
    };
    const cluster = deps.readiness.cluster?.();
    const ready = checks.mqtt && checks.influxdb && checks.spool && !checks.shuttingDown && (cluster?.nats ?? true);
    const body = { ready, checks: cluster ? { ...checks, nats: cluster.nats } : checks, spoolBytes: spool.bytes, spoolMaxBytes: spool.maxBytes };
    return reply.code(ready ? 200 : 503).send(cluster ? { ...body, cluster } : body);
  });

  app.get('/metrics', { config: deps.api.options.metricsPublic ? { public: true } : { instanceWide: true }, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  return { app, routes };
}
