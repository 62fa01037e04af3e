/**
 * Authentication and authorisation as one onRequest hook on the root instance, so it covers every route,
 * including those plugins add (Swagger UI) and the 404 handler: fail closed. A route opts out with
 * `config: { public: true }`, asks for a role with `config: { role }` (viewer by default), or for an
 * instance-wide key with `config: { instanceWide: true }` (metrics aggregate every tenant).
 * The key travels in `Authorization: Bearer vk_…` or `X-API-Key`; it is never logged.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
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
  }
}

export function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const header = req.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : undefined;
}

export function installAuth(app: FastifyInstance, keys: KeyRing): void {
  app.addHook('onRequest', async (req, reply) => {
    const config = req.routeOptions.config;
    if (config.public) return;
    const key = presentedKey(req);
    const principal = key ? keys.authenticate(key) : undefined;
    if (!principal) {
      reply.header('www-authenticate', 'Bearer realm="veilleur"');
      req.log.info({ url: req.routeOptions.url, presented: key !== undefined }, 'request refused: no valid API key');
      return sendError(reply, new ApiError(401, 'unauthorized', key ? 'this API key is not valid (unknown, revoked or expired)' : 'an API key is required (Authorization: Bearer vk_…)'));
    }
    const needed = config.role ?? 'viewer';
    if (!hasRole(principal.role, needed)) {
      req.log.info({ keyId: principal.keyId, role: principal.role, needed }, 'request refused: role too low');
      return sendError(reply, new ApiError(403, 'forbidden', `this endpoint needs the ${needed} role; the key has ${principal.role}`));
    }
    if (config.instanceWide && principal.tenants !== undefined) {
      return sendError(reply, new ApiError(403, 'forbidden', "this endpoint needs an instance-wide key (tenants: ['*'])"));
    }
    req.principal = principal;
  });
}
