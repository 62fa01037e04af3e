/**
 * Retention and its audit log: what each data class keeps and why (anyone may read it: "automatic forgetting" is
 * a promise to the citizens), and changes by an instance-wide admin, refused without a reason when they shorten.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listAudit, type AuditEntry } from '../../retention/audit.ts';
import { applyChanges, currentRetention, RetentionError } from '../../retention/apply.ts';
import { canonicalDuration, CONFIGURABLE_CLASSES, type ConfigurableClass } from '../../retention/classes.ts';
import { defaultRetention } from '../../retention/config.ts';
import { noteAudit } from '../../audit/http.ts';
import type { ApiDeps } from '../deps.ts';
import { instant, tenantId } from '../params.ts';
import type { Principal } from '../keys.ts';
import { ApiError, principalOf, requestedTenants } from '../scope.ts';

/**
 * Retention is decided for the whole instance, by its team: a commune's key reads what was decided and why, not
 * the names of the instance's keys nor its accounts and machines (`name (keyId)` through the API, `user@host`
 * through the CLI). The configuration's `changedBy` is a public decision and stays.
 */
function shownTo<T extends { actor: string; source: string }>(p: Principal, e: T): T {
  if (p.tenants === undefined || (e.source !== 'api' && e.source !== 'cli')) return e;
  return { ...e, actor: 'instance team' };
}

const duration = z.string().regex(/^(\d{1,6}[hdw]|inf)$/, "expected a duration like '90d', '2w', '36h' or 'inf'");

export const retentionRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const access = () => {
    if (!deps.retention) throw new ApiError(503, 'unavailable', 'retention is not available on this instance');
    return deps.retention;
  };

  app.get('/retention', { schema: { summary: 'How long each data class is kept: configured, applied, last decision', tags: ['retention'] } }, async (req) => {
    const r = access();
    const current = await currentRetention({ influx: r.influx, influxConfig: r.influxConfig, retention: r.settings ?? defaultRetention() });
    const p = principalOf(req);
    return { managed: r.settings !== undefined, ...current, classes: current.classes.map((c) => (c.lastChange ? { ...c, lastChange: shownTo(p, c.lastChange) } : c)) };
  });

  app.get(
    '/retention/audit',
    {
      schema: {
        summary: 'The audit log of retention and rollup decisions (who, when, old → new, reason), newest first',
        tags: ['retention'],
        querystring: z.strictObject({ tenant: tenantId.optional(), from: instant.optional(), to: instant.optional(), limit: z.coerce.number().int().min(1).max(10_000).default(1000) }),
      },
    },
    async (req) => {
      const r = access();
      const q = req.query;
      const tenants = requestedTenants(principalOf(req), q.tenant);
      const base = { ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}), limit: q.limit };
      // Entries for every tenant ('*') come with each tenant's own.
      const lists = tenants ? await Promise.all(tenants.map((tenant) => listAudit(r.influx, { ...base, tenant }))) : [await listAudit(r.influx, base)];
      const seen = new Set<string>();
      const entries: AuditEntry[] = [];
      for (const e of lists.flat()) {
        const key = `${e.at.getTime()}|${e.setting}|${e.tenant}|${e.seq}`;
        if (!seen.has(key)) entries.push(e);
        seen.add(key);
      }
      return entries
        .sort((a, b) => b.at.getTime() - a.at.getTime())
        .slice(0, q.limit)
        .map((e) => ({ ...shownTo(principalOf(req), e), at: e.at.toISOString() }));
    },
  );

  app.post(
    '/retention',
    {
      config: { role: 'admin', instanceWide: true, audit: 'retention.change' },
      schema: {
        summary: 'Change retention (instance-wide admin); shortening deletes data and needs a reason; recorded in the audit log',
        description: 'The configuration file is applied again at the next start: change it too, or the next start changes the retention back (and records that).',
        tags: ['retention'],
        body: z.strictObject({
          raw: duration.optional(),
          hourly: duration.optional(),
          daily: duration.optional(),
          events: duration.optional(),
          actions: duration.optional(),
          reason: z.string().trim().min(3).max(2000).optional(),
        }),
      },
    },
    async (req, reply) => {
      const r = access();
      const p = principalOf(req);
      const wanted: Partial<Record<ConfigurableClass, string>> = {};
      for (const cls of CONFIGURABLE_CLASSES) if (req.body[cls] !== undefined) wanted[cls] = canonicalDuration(req.body[cls]!);
      noteAudit(req, { tenant: '*', target: Object.keys(wanted).join(', ') || 'retention', detail: [Object.entries(wanted).map(([c, d]) => `${c}=${d}`).join(', '), req.body.reason].filter(Boolean).join(' · ') });
      if (Object.keys(wanted).length === 0) throw new ApiError(400, 'bad_request', `body: expected at least one of ${CONFIGURABLE_CLASSES.join(', ')}`);
      try {
        const report = await applyChanges({ influx: r.influx, influxConfig: r.influxConfig }, { retention: wanted, actor: `${p.name} (${p.keyId})`, ...(req.body.reason ? { reason: req.body.reason } : {}), source: 'api' });
        return { entries: report.entries.map((e) => ({ ...e, at: e.at.toISOString() })) };
      } catch (err) {
        if (err instanceof RetentionError) return reply.code(422).send({ statusCode: 422, error: 'reason_required', message: err.message, settings: err.settings });
        throw err;
      }
    },
  );
};
