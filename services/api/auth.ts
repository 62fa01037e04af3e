/**
 * Throttling, authentication and authorisation as one onRequest hook on the root instance, so it covers every
 * route, including those plugins add (Swagger UI) and the 404 handler: fail closed. In order:
 * 1. the request budget per client address (throttle.ts), before anything else, so requests without a valid key
 *    are limited like the others (health probes, `config: { rateLimit: false }`, are exempt);
 * 2. public routes (`config: { public: true }`) stop here;
 * 3. an address that failed to authenticate too often is refused (429) whatever it presents now, so a guesser
 *    learns nothing from its next tries;
 * 4. the key (`Authorization: Bearer vk_…` or `X-API-Key`; never logged), or for console routes
 *    (`config: { console: true }`) the principal of the browser's session, under the same role rules: a route asks
 *    for a role with `config: { role }` (viewer by default) or an instance-wide key with `config: { instanceWide }`.
 * Every refusal (401, 403, 429, and 503 of a busy heavy route) is logged once, at warn, when its answer leaves:
 * route, path, client address, key id when known (the public part of a presented key), the reason; never the key.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasRole, presentedKeyId, type ApiRole, type KeyRing, type Principal } from './keys.ts';
import { ApiError, sendError } from './scope.ts';
import type { RequestThrottle } from './throttle.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** Why this request was refused, for the one log line its answer gets (`noteRefusal`). */
    refusal?: Refusal;
  }
  interface FastifyContextConfig {
    public?: boolean;
    role?: ApiRole;
    instanceWide?: boolean;
    /** A console page or form: authenticated by the session cookie, refused with a page rather than JSON. */
    console?: boolean;
    /** `false`: not counted in the per-address request budget (health probes). */
    rateLimit?: false;
    /** A long computation (year-long backtest or report): runs only when one of the heavy slots is free. */
    heavy?: boolean;
  }
}

export interface Refusal {
  reason: string;
  /** The public id of the key presented, when it had the key format. */
  keyId?: string | undefined;
}

/** How the console authenticates its requests and answers refusals (services/console). */
export interface ConsoleAuth {
  principal(req: FastifyRequest): Principal | undefined | Promise<Principal | undefined>;
  refuse(req: FastifyRequest, reply: FastifyReply, err: ApiError): FastifyReply;
}

export function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const header = req.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : undefined;
}

/**
 * Marks a request as refused, with why: its answer is then logged once as a refusal (whatever its status, e.g. a
 * console redirect to the sign-in page). Routes and the console call it instead of logging refusals themselves.
 */
export function noteRefusal(req: FastifyRequest, reason: string, keyId?: string): void {
  req.refusal ??= { reason, ...(keyId ? { keyId } : {}) };
}

const REFUSED = new Set([401, 403, 429]);

export function installAuth(app: FastifyInstance, keys: KeyRing, throttle: RequestThrottle, consoleAuth?: ConsoleAuth): void {
  app.decorateRequest('refusal', undefined);

  app.addHook('onRequest', async (req, reply) => {
    const config = req.routeOptions.config;
    const isConsole = config.console === true && consoleAuth !== undefined;
    const refuse = (err: ApiError, keyId?: string) => {
      noteRefusal(req, err.message, keyId);
      return isConsole ? consoleAuth.refuse(req, reply, err) : sendError(reply, err);
    };

    if (config.rateLimit !== false) {
      const budget = throttle.requests.take(req.ip);
      const reset = Math.ceil(budget.resetInMs / 1000);
      reply.header('x-ratelimit-limit', String(throttle.requests.max)).header('x-ratelimit-remaining', String(budget.remaining)).header('x-ratelimit-reset', String(reset));
      if (!budget.allowed) {
        reply.header('retry-after', String(reset));
        return refuse(new ApiError(429, 'too_many_requests', `rate limit: at most ${throttle.requests.max} requests per minute from one address; retry in ${reset} s`));
      }
    }
    if (config.public) return;

    const key = isConsole ? undefined : presentedKey(req);
    const keyId = key ? presentedKeyId(key) : undefined;
    if (!isConsole) {
      const wait = throttle.authFailures.retryAfterMs(req.ip);
      if (wait > 0) {
        reply.header('retry-after', String(Math.ceil(wait / 1000)));
        return refuse(new ApiError(429, 'too_many_requests', `too many failed authentications from this address (at most ${throttle.authFailures.max} in 15 minutes); retry in ${Math.ceil(wait / 1000)} s`), keyId);
      }
    }

    const principal = isConsole ? await consoleAuth.principal(req) : key ? keys.authenticate(key) : undefined;
    if (!principal) {
      if (!isConsole) reply.header('www-authenticate', 'Bearer realm="veilleur"');
      // A key presented and refused is a failed authentication; a request without any is only counted above.
      if (key !== undefined) throttle.authFailures.fail(req.ip);
      const message = isConsole ? 'a console session is required' : key ? 'this API key is not valid (unknown, revoked or expired)' : 'an API key is required (Authorization: Bearer vk_…)';
      return refuse(new ApiError(401, 'unauthorized', message), keyId);
    }
    const needed = config.role ?? 'viewer';
    if (!hasRole(principal.role, needed)) return refuse(new ApiError(403, 'forbidden', `this endpoint needs the ${needed} role; the key has ${principal.role}`), principal.keyId);
    if (config.instanceWide && principal.tenants !== undefined) return refuse(new ApiError(403, 'forbidden', "this endpoint needs an instance-wide key (tenants: ['*'])"), principal.keyId);
    req.principal = principal;
  });

  app.addHook('onResponse', async (req, reply) => {
    const config = req.routeOptions.config ?? {};
    // Refusals answered by a route itself (a 403 for a commune the key does not cover) count too; public and
    // console routes answer their own (sign-in failures), and note them with noteRefusal when they want this line.
    const refusal = req.refusal ?? (REFUSED.has(reply.statusCode) && !config.public && config.console !== true ? { reason: `answered ${reply.statusCode}` } : undefined);
    if (!refusal) return;
    req.log.warn(
      {
        status: reply.statusCode,
        method: req.method,
        route: req.routeOptions.url ?? null,
        path: req.url.split('?')[0]!.slice(0, 200),
        ip: req.ip,
        keyId: req.principal?.keyId ?? refusal.keyId ?? null,
        reason: refusal.reason,
      },
      'request refused',
    );
  });
}
