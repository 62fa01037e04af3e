/**
 * The service's HTTP side: health (`/healthz`: the process answers), readiness (`/readyz`: broker connected,
 * InfluxDB reachable, spool below its bound) and Prometheus metrics (`/metrics`). The API (issue #6) registers
 * its routes as further encapsulated plugins on the same instance.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';

export interface Readiness {
  mqttConnected(): boolean;
  influxReachable(): Promise<boolean>;
  spool(): { bytes: number; maxBytes: number; full: boolean };
  draining(): boolean;
}

export function buildHttpServer(deps: { log: Logger; metrics: Metrics; readiness: Readiness }): FastifyInstance {
  // Request logs at info would be one line per health probe: the HTTP logger starts at warn.
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    requestTimeout: 30_000,
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const spool = deps.readiness.spool();
    const checks = {
      mqtt: deps.readiness.mqttConnected(),
      influxdb: await deps.readiness.influxReachable(),
      spool: !spool.full,
      shuttingDown: deps.readiness.draining(),
    };
    const ready = checks.mqtt && checks.influxdb && checks.spool && !checks.shuttingDown;
    return reply.code(ready ? 200 : 503).send({ ready, checks, spoolBytes: spool.bytes, spoolMaxBytes: spool.maxBytes });
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  return app;
}
