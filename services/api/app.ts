/**
 * The HTTP API on the service's Fastify instance: zod-validated routes (fastify-type-provider-zod) that also make
 * the OpenAPI document served at /docs, security headers (helmet, and on the HTTP parser's own 400/408/431 and
 * the router's own 400/414 answers), throttling per client address before authentication (throttle.ts), CORS only when origins are
 * configured, API keys with tenant scopes and roles (auth.ts), a concurrency limit on heavy routes, and precise
 * 400s. Each group of routes is an encapsulated plugin under /api/v1 that receives what it needs as options.
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { STATUS_CODES as HTTP_STATUS } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { installAuditTrail } from '../audit/http.ts';
import { installAuth, noteRefusal, type ConsoleAuth } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import type { ApiRole } from './keys.ts';
import { adminRoutes } from './routes/admin.ts';
import { auditRoutes } from './routes/audit.ts';
import { alertsRoutes } from './routes/alerts.ts';
import { devicesRoutes } from './routes/devices.ts';
import { governanceRoutes } from './routes/governance.ts';
import { grafanaRoutes } from './routes/grafana.ts';
import { keysRoutes } from './routes/keys.ts';
import { reportsRoutes } from './routes/reports.ts';
import { retentionRoutes } from './routes/retention.ts';
import { ApiError, sendError } from './scope.ts';
import { ConcurrencyLimit, requestThrottle } from './throttle.ts';

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

/**
 * One strict policy for the API and the console: scripts and styles from this origin only (no inline script,
 * no CDN), images from here or data: URLs, forms posted here only, no framing by other sites. No
 * upgrade-insecure-requests: a municipal network may serve the console over plain HTTP on a closed network.
 */
const CSP_DIRECTIVES = {
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
};

/**
 * The headers helmet sets on every answer (with the options below), for the answers the HTTP parser gives before
 * any route or hook runs (malformed request, headers too large, too slow). A test checks both agree.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': Object.entries(CSP_DIRECTIVES)
    .map(([k, v]) => `${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${v.join(' ')}`)
    .join(';'),
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

/**
 * Fastify's `clientErrorHandler`: the answer to a request the HTTP parser refuses (400 malformed, 408 too slow,
 * 431 headers too large), with the security headers and the JSON shape of the API's errors, logged once as a
 * refusal (the client address is the socket's: no header was parsed).
 */
export function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'the request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'request_header_fields_too_large', 'the request headers are too large']
        : [400, 'bad_request', 'malformed HTTP request'];
  this.log.warn({ status, ip: socket.remoteAddress ?? null, code: err.code ?? null, reason: message }, 'request refused');
  if (socket.writable) {
    const body = JSON.stringify({ statusCode: status, error: code, message });
    const headers = Object.entries({ ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`HTTP/1.1 ${status} ${HTTP_STATUS[status]}\r\n${headers}\r\n${body}`);
  }
  socket.destroy(err);
}

/** Fastify's trustProxy from HTTP_TRUST_PROXY: a hop count becomes "the n nearest hops" (its types take no number). */
export function trustProxyOption(v: ApiDeps['options']['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof v === 'number') return (_address, hop) => hop < v;
  return v ?? false;
}

/**
 * Fastify's `frameworkErrors`: the answers its router gives before any hook runs (a URL that does not decode: 400; a
 * path parameter over 100 characters: 414), with the security headers and the API's error shape, logged once.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const [status, code] = err.code === 'FST_ERR_BAD_URL' ? [400, 'bad_request'] : err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? [414, 'uri_too_long'] : [400, 'bad_request'];
  const message = status === 414 ? 'a path parameter is too long' : 'the URL is not valid (malformed percent-encoding)';
  req.log.warn({ status, method: req.method, ip: req.ip, code: err.code ?? null, reason: message }, 'request refused');
  void reply.code(status).headers(SECURITY_HEADERS).send({ statusCode: status, error: code, message });
}

export async function registerApi(app: FastifyInstance, deps: ApiDeps, consoleAuth?: ConsoleAuth): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof ApiError) {
      if (err.statusCode === 401 || err.statusCode === 403 || err.statusCode === 429) noteRefusal(req, err.message);
      return sendError(reply, err);
    }
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

  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    frameguard: { action: 'sameorigin' },
    // same-origin, not no-referrer: browsers then send the real Origin with the console's forms (checked against
    // cross-site requests), while other sites still learn nothing of the console's URLs.
    referrerPolicy: { policy: 'same-origin' },
  });
  if (deps.options.corsOrigins.length) await app.register(cors, { origin: deps.options.corsOrigins, methods: ['GET', 'POST'] });
  installAuth(app, deps.keys, requestThrottle(deps), consoleAuth);
  limitHeavyRoutes(app, (deps.heavy ??= new ConcurrencyLimit(deps.options.heavyConcurrency ?? 2)));
  // Last-use times of keys reach the disk once a minute and when the server closes (not on every request).
  const usage = setInterval(() => flushKeyUsage(app, deps), 60_000).unref();
  app.addHook('onClose', async () => {
    clearInterval(usage);
    flushKeyUsage(app, deps);
  });
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
      await api.register(keysRoutes, { deps });
      await api.register(grafanaRoutes, { deps });
    },
    { prefix: API_PREFIX },
  );
}

function flushKeyUsage(app: FastifyInstance, deps: ApiDeps): void {
  try {
    deps.keys.flushUsage();
  } catch (err) {
    app.log.warn({ err: (err as Error).message }, 'cannot write the last-use times of API keys');
  }
}

/**
 * Routes with `config: { heavy: true }` run only when one of the heavy slots is free; otherwise 503 with
 * Retry-After at once. The slot is held until the handler's work ends, even when the client has gone.
 */
function limitHeavyRoutes(app: FastifyInstance, slots: ConcurrencyLimit): void {
  app.addHook('onRoute', (route) => {
    if (route.config?.heavy !== true) return;
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function (this: FastifyInstance, req, reply) {
      const running = slots.tryRun(async () => handler.call(this, req, reply));
      if (running) return running;
      noteRefusal(req, `${slots.max} heavy requests running already`);
      reply.header('retry-after', '10');
      return sendError(reply, new ApiError(503, 'busy', `${slots.max} long computations (year-long backtests and reports, re-decoding) are running already; retry in a few seconds`));
    } as RouteHandlerMethod;
  });
}
