/**
 * Authentication and authorisation as one onRequest hook on the root instance, so it covers every route,
 * including those plugins add (Swagger UI) and the 404 handler: fail closed. A route opts out with
 * `config: { public: true }`, asks for a role with `config: { role }` (viewer by default), or for an
 * instance-wide key with `config: { instanceWide: true }` (metrics aggregate every tenant).
 * API routes take the key in `Authorization: Bearer vk_…` or `X-API-Key`; it is never logged. Console routes
 * (`config: { console: true }`) take the principal of the browser's session instead, under the same role rules:
 * one permission model for the API and the console, enforced here.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasRole, type ApiRole, type KeyRing, type Principal } from './keys.ts';
import { ApiError, sendError } from './scope.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    public?: boolean;
    role?: ApiRole;
    instanceWide?: boolean;
    /** A console page or form: authenticated by the session cookie, refused with a page rather than JSON. */
    console?: boolean;
  }
}

/** How the console authenticates its requests and answers refusals (services/console). */
export interface ConsoleAuth {
  principal(req: FastifyRequest): Principal | undefined;
  refuse(req: FastifyRequest, reply: FastifyReply, err: ApiError): FastifyReply;
}

export function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const header = req.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : undefined;
}

export function installAuth(app: FastifyInstance, keys: KeyRing, consoleAuth?: ConsoleAuth): void {
  app.addHook('onRequest', async (req, reply) => {
    const config = req.routeOptions.config;
    if (config.public) return;
    const isConsole = config.console === true && consoleAuth !== undefined;
    const refuse = (err: ApiError) => (isConsole ? consoleAuth.refuse(req, reply, err) : sendError(reply, err));
    const key = isConsole ? undefined : presentedKey(req);
    const principal = isConsole ? consoleAuth.principal(req) : key ? keys.authenticate(key) : undefined;
    if (!principal) {
      if (!isConsole) reply.header('www-authenticate', 'Bearer realm="veilleur"');
      // Refusals are logged at warn: the HTTP logger starts there (one line per health probe would drown it).
      req.log.warn({ url: req.routeOptions.url ?? req.url.split('?')[0], ip: req.ip, presented: isConsole ? 'session' : key !== undefined }, 'request refused: not authenticated');
      const message = isConsole ? 'a console session is required' : key ? 'this API key is not valid (unknown, revoked or expired)' : 'an API key is required (Authorization: Bearer vk_…)';
      return refuse(new ApiError(401, 'unauthorized', message));
    }
    const needed = config.role ?? 'viewer';
    if (!hasRole(principal.role, needed)) {
      req.log.warn({ url: req.routeOptions.url, ip: req.ip, keyId: principal.keyId, role: principal.role, needed }, 'request refused: role too low');
      return refuse(new ApiError(403, 'forbidden', `this endpoint needs the ${needed} role; the key has ${principal.role}`));
    }
    if (config.instanceWide && principal.tenants !== undefined) {
      req.log.warn({ url: req.routeOptions.url, ip: req.ip, keyId: principal.keyId }, 'request refused: instance-wide key needed');
      return refuse(new ApiError(403, 'forbidden', "this endpoint needs an instance-wide key (tenants: ['*'])"));
    }
    req.principal = principal;
  });
}
