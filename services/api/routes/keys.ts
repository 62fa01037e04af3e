/**
 * API keys managed through the API, applied at once and kept across restarts (keys.ts, key-store.ts): list,
 * create, revoke, rotate. Admins only: an instance-wide admin manages every key; a commune's admin the keys that
 * cover only its communes (another commune's key, or an instance-wide one, is "not found"). The key itself is in
 * the answer to create and rotate, once; it is never stored nor logged.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { noteAudit } from '../../audit/http.ts';
import type { ApiDeps } from '../deps.ts';
import { API_ROLES, KEY_ID, KeyError, mayManage, type KeyView, type Principal } from '../keys.ts';
import { tenantId } from '../params.ts';
import { ApiError, notFound, principalOf, requestedTenants } from '../scope.ts';

const keyId = z.string().regex(KEY_ID, 'expected a key id: 8-32 lower-case letters or digits');
const keyName = z.string().trim().min(1, 'expected a name saying who or what holds the key').max(100);
const future = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 date-time with offset, e.g. 2027-01-01T00:00:00+01:00' }).refine((s) => Date.parse(s) > Date.now(), 'expected a date in the future');

function fail(err: unknown, field: string): never {
  if (err instanceof KeyError) {
    if (err.code === 'not_found') throw notFound(err.message.replace(/ not found$/, ''));
    if (err.code === 'conflict') throw new ApiError(409, 'conflict', err.message);
    throw new ApiError(400, 'bad_request', `body/${field}: ${err.message}`);
  }
  throw err;
}

export const keysRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  /** Communes a key may be given: those of the configuration, and '*' for instance-wide admins. */
  const known = () => new Set([...deps.registry.tenants.map((t) => t.id), ...deps.registry.devices.flatMap((d) => (d.tenant ? [d.tenant] : [])), deps.defaultTenant]);
  const actor = (p: Principal) => `${p.name} (${p.keyId})`;
  /** A key this principal may manage, or 404 (a commune admin cannot even learn the ids of other communes' keys). */
  const manageable = (p: Principal, id: string): KeyView => {
    const k = deps.keys.find(id);
    if (!k || !mayManage(p, k.tenants)) throw notFound(`key ${id}`);
    return k;
  };

  app.get(
    '/keys',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'API keys (name, role, communes, created, expires, last used, state) an admin manages: every key for an instance-wide admin, its communes’ keys for a commune’s admin; never a hash',
        tags: ['keys'],
        querystring: z.strictObject({ tenant: tenantId.optional(), state: z.enum(['active', 'expired', 'revoked', 'all']).default('all') }),
      },
    },
    async (req) => {
      const p = principalOf(req);
      const q = req.query;
      if (q.tenant) requestedTenants(p, q.tenant);
      return deps.keys.list((k) => mayManage(p, k.tenants) && (!q.tenant || k.tenants.includes(q.tenant)) && (q.state === 'all' || k.state === q.state));
    },
  );

  app.post(
    '/keys',
    {
      config: { role: 'admin', audit: 'key.create' },
      schema: {
        summary: 'Create an API key (admins; a commune’s admin for its communes only); it works at once and is shown once in the answer',
        tags: ['keys'],
        body: z.strictObject({
          name: keyName,
          role: z.enum(API_ROLES),
          /** Absent: the communes of the admin's own key (a commune's admin), required for an instance-wide admin. */
          tenants: z.array(z.union([tenantId, z.literal('*')])).min(1).max(100).optional(),
          expires: future.optional(),
        }),
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const b = req.body;
      const tenants = b.tenants ?? (p.tenants ? [...p.tenants] : undefined);
      if (!tenants) throw new ApiError(400, 'bad_request', "body/tenants: required for an instance-wide admin (communes, or ['*'] for the whole instance)");
      const communes = known();
      for (const t of tenants) {
        if (t === '*' && p.tenants !== undefined) throw new ApiError(403, 'forbidden', "body/tenants: only an instance-wide admin may create an instance-wide key ('*')");
        if (t !== '*') requestedTenants(p, t);
        if (t !== '*' && !communes.has(t)) throw new ApiError(400, 'bad_request', `body/tenants: no commune '${t}' in the configuration`);
      }
      const made = await deps.keys.create({ name: b.name, role: b.role, tenants: [...new Set(tenants)], expires: b.expires }, actor(p)).catch((err: unknown) => fail(err, 'tenants'));
      noteAudit(req, { tenant: made.view.tenants.includes('*') ? undefined : made.view.tenants, target: made.view.id, detail: `${made.view.role}, ${made.view.name}` });
      req.log.warn({ keyId: made.view.id, by: p.keyId, role: made.view.role, tenants: made.view.tenants }, 'API key created');
      return reply.code(201).send({ key: made.key, ...made.view });
    },
  );

  app.post(
    '/keys/:keyId/revoke',
    {
      config: { role: 'admin', audit: 'key.revoke' },
      schema: { summary: 'Revoke an API key: refused from the next request on, its console sessions end', tags: ['keys'], params: z.strictObject({ keyId }) },
    },
    async (req) => {
      const p = principalOf(req);
      const k = manageable(p, req.params.keyId);
      noteAudit(req, { tenant: k.tenants.includes('*') ? undefined : k.tenants, target: k.id });
      const view = await deps.keys.revoke(k.id, actor(p)).catch((err: unknown) => fail(err, 'keyId'));
      req.log.warn({ keyId: k.id, by: p.keyId }, 'API key revoked');
      return view;
    },
  );

  app.post(
    '/keys/:keyId/rotate',
    {
      config: { role: 'admin', audit: 'key.rotate' },
      schema: {
        summary: 'Rotate an API key: a new key with the same name, role and communes (shown once); the old one stops working after graceHours (0, the default: at once)',
        tags: ['keys'],
        params: z.strictObject({ keyId }),
        body: z.strictObject({ graceHours: z.number().int().min(0).max(720).default(0) }).prefault({}),
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const k = manageable(p, req.params.keyId);
      noteAudit(req, { tenant: k.tenants.includes('*') ? undefined : k.tenants, target: k.id });
      const made = await deps.keys.rotate(k.id, actor(p), req.body.graceHours * 3_600_000).catch((err: unknown) => fail(err, 'keyId'));
      noteAudit(req, { detail: `new key ${made.view.id}, old one until ${made.old.expires}` });
      req.log.warn({ keyId: k.id, newKeyId: made.view.id, by: p.keyId, oldUntil: made.old.expires }, 'API key rotated');
      return reply.code(201).send({ key: made.key, ...made.view, replaced: made.old });
    },
  );
};
