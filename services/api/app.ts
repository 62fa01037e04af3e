/**
 * The HTTP API on the service's Fastify instance: zod-validated routes (fastify-type-provider-zod) that also make
 * the OpenAPI document served at /docs, security headers (helmet), rate limiting, CORS only when origins are
 * configured, API keys with tenant scopes and roles (auth.ts), and precise 400s. Each group of routes is an
 * encapsulated plugin under /api/v1 that receives what it needs as options.
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { installAuditTrail } from '../audit/http.ts';
import { installAuth, type ConsoleAuth } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import type { ApiRole } from './keys.ts';
import { adminRoutes } from './routes/admin.ts';
import { auditRoutes } from './routes/audit.ts';
import { alertsRoutes } from './routes/alerts.ts';
import { devicesRoutes } from './routes/devices.ts';
import { governanceRoutes } from './routes/governance.ts';
import { reportsRoutes } from './routes/reports.ts';
import { retentionRoutes } from './routes/retention.ts';
import { ApiError, sendError } from './scope.ts';

export interface RouteEntry {
  method: string;
  url: string;
  public: boolean;
  role: ApiRole;
  instanceWide: boolean;
  /** A console page or form: authenticated by its session cookie (never by an API key). */
  console: boolean;
}

export const API_PREFIX = '/api/v1';

/** Error codes of the client errors Fastify and its plugins raise themselves (the API's own are ApiErrors). */
const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

/** Must run before any route is added: collects the route table and marks /docs public when configured. */
export function trackRoutes(app: FastifyInstance, opts: { docsPublic: boolean }): RouteEntry[] {
  const table: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    if (opts.docsPublic && (route.url === '/docs' || route.url.startsWith('/docs/'))) route.config = { ...route.config, public: true };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      table.push({ method, url: route.url, public: route.config?.public === true, role: route.config?.role ?? 'viewer', instanceWide: route.config?.instanceWide === true, console: route.config?.console === true });
    }
  });
  return table;
}

export async function registerApi(app: FastifyInstance, deps: ApiDeps, consoleAuth?: ConsoleAuth): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof ApiError) return sendError(reply, err);
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({ in: err.validationContext ?? 'request', path: v.instancePath.replace(/^\//, '').replace(/\//g, '.'), message: v.message ?? 'invalid' }));
      const message = issues.map((i) => `${i.in}${i.path ? `/${i.path}` : ''}: ${i.message}`).join('; ');
      return reply.code(400).send({ statusCode: 400, error: 'bad_request', message, issues });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err: err.message, url: req.routeOptions.url }, 'request failed');
      return reply.code(500).send({ statusCode: 500, error: 'internal_error', message: 'the request failed; see the service log' });
    }
    const code = STATUS_CODES[status] ?? 'bad_request';
    return reply.code(status).send({ statusCode: status, error: code, message: err.message });
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, new ApiError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));

  // One strict policy for the API and the console: scripts and styles from this origin only (no inline script,
  // no CDN), images from here or data: URLs, forms posted here only, no framing by other sites. No
  // upgrade-insecure-requests: a municipal network may serve the console over plain HTTP on a closed network.
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'self'"],
        frameSrc: ["'self'"],
      },
    },
    frameguard: { action: 'sameorigin' },
    // same-origin, not no-referrer: browsers then send the real Origin with the console's forms (checked against
    // cross-site requests), while other sites still learn nothing of the console's URLs.
    referrerPolicy: { policy: 'same-origin' },
  });
  if (deps.options.corsOrigins.length) await app.register(cors, { origin: deps.options.corsOrigins, methods: ['GET', 'POST'] });
  await app.register(rateLimit, {
    global: true,
    max: deps.options.rateLimitPerMinute,
    timeWindow: 60_000,
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, error: 'too_many_requests', message: `rate limit: at most ${ctx.max} requests per minute; retry in ${Math.ceil(ctx.ttl / 1000)} s` }),
  });
  installAuth(app, deps.keys, consoleAuth);
  installAuditTrail(app, deps.audit);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Veilleur API',
        version: '1',
        description:
          'Eau, énergie et salles serveurs des collectivités. Every endpoint needs an API key (Authorization: Bearer vk_…), scoped to tenants (communes), with a role: viewer reads, operator acknowledges and resolves alerts, admin re-decodes.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  await app.register(
    async (api) => {
      await api.register(devicesRoutes, { deps });
      await api.register(alertsRoutes, { deps });
      await api.register(reportsRoutes, { deps });
      await api.register(adminRoutes, { deps });
      await api.register(retentionRoutes, { deps });
      await api.register(governanceRoutes, { deps });
      await api.register(auditRoutes, { deps });
    },
    { prefix: API_PREFIX },
  );
}
