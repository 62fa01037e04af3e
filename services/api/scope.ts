/**
 * Tenant isolation in one place: which tenants a request may touch, and the InfluxQL conditions that confine a
 * query to them. Every route that reads InfluxDB goes through `tenantConditions`; every route that names a tenant
 * goes through `requestedTenants`. A resource of another tenant is answered as if it did not exist (404), so a
 * key cannot even learn which DevEUIs or alert ids its neighbours have.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Condition } from '../storage/influxql.ts';
import type { Principal } from './keys.ts';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new ApiError(401, 'unauthorized', 'an API key is required');
  return req.principal;
}

export function mayRead(p: Principal, tenant: string): boolean {
  return p.tenants === undefined || p.tenants.has(tenant);
}

/**
 * The tenants a request covers: the one it asks for (refused when the key does not cover it), else all the key
 * covers; `undefined` means the whole instance (an instance-wide key asking for no tenant in particular).
 */
export function requestedTenants(p: Principal, tenant: string | undefined): string[] | undefined {
  if (tenant !== undefined) {
    if (!mayRead(p, tenant)) throw new ApiError(403, 'forbidden', `this key does not cover tenant '${tenant}'`);
    return [tenant];
  }
  return p.tenants === undefined ? undefined : [...p.tenants];
}

/** The condition `("tenant" = 'a' OR "tenant" = 'b')` of the InfluxQL builder, or none for the whole instance. */
export function tenantConditions(tenants: readonly string[] | undefined): Condition[] {
  if (tenants === undefined) return [];
  if (tenants.length === 0) throw new ApiError(403, 'forbidden', 'this key covers no tenant');
  return [{ tag: 'tenant', in: tenants }];
}

export function sendError(reply: FastifyReply, err: ApiError): FastifyReply {
  return reply.code(err.statusCode).send({ statusCode: err.statusCode, error: err.code, message: err.message });
}
