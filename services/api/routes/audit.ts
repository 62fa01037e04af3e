/**
 * The audit trail of actions (services/audit): admins only. An instance-wide admin reads every record, the
 * instance's own ('*': retention changes, attempts outside a commune, failed sign-ins) included; a commune's admin
 * reads its commune's records only. JSON pages, or the whole period as CSV or JSON lines for a log collector
 * (an export is itself recorded).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { noteAudit } from '../../audit/http.ts';
import { AUDIT_ACTIONS, AUDIT_CSV_COLUMNS, AUDIT_OUTCOMES, auditCsv, auditJsonLines, auditView } from '../../audit/trail.ts';
import type { ApiDeps } from '../deps.ts';
import { rangeQuery, resolveRange, tenantId } from '../params.ts';
import { ApiError, principalOf, requestedTenants } from '../scope.ts';

/** The most records one export carries; a longer history is exported period by period. */
const EXPORT_MAX = 100_000;

export const auditRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/audit',
    {
      config: { role: 'admin', audit: 'audit.export' },
      schema: {
        summary: `The audit trail of actions, newest first: who (key or person), when, from which address, what, on which commune, outcome; JSON pages, or the period as CSV (columns: ${AUDIT_CSV_COLUMNS.join(', ')}) or JSON lines; at most 366 days, 30 by default`,
        tags: ['audit'],
        querystring: z.strictObject({
          tenant: tenantId.optional(),
          action: z.enum(AUDIT_ACTIONS).optional(),
          outcome: z.enum(AUDIT_OUTCOMES).optional(),
          ...rangeQuery,
          format: z.enum(['json', 'csv', 'jsonl']).default('json'),
          page: z.coerce.number().int().min(1).max(100_000).default(1),
          pageSize: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (req, reply) => {
      const audit = deps.audit;
      if (!audit) throw new ApiError(503, 'unavailable', 'the audit trail is not available on this instance');
      const q = req.query;
      const p = principalOf(req);
      const tenants = requestedTenants(p, q.tenant);
      const range = resolveRange(q, 30, 366);
      const base = { tenants, ...range, action: q.action, outcome: q.outcome };
      if (q.format === 'json') {
        // Reading a page is not an export: not recorded.
        noteAudit(req, { skip: true });
        const rows = await audit.list({ ...base, limit: q.pageSize + 1, offset: (q.page - 1) * q.pageSize });
        return { from: range.from.toISOString(), to: range.to.toISOString(), page: q.page, pageSize: q.pageSize, hasMore: rows.length > q.pageSize, records: rows.slice(0, q.pageSize).map(auditView) };
      }
      const records = await audit.list({ ...base, limit: EXPORT_MAX });
      noteAudit(req, { tenant: tenants, target: 'audit', detail: `${q.format}, ${range.from.toISOString()} – ${range.to.toISOString()}, ${records.length} records` });
      const name = `veilleur-audit-${q.tenant ?? (tenants?.length === 1 ? tenants[0] : 'instance')}`;
      if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(auditCsv(records));
      return reply.type('application/x-ndjson; charset=utf-8').header('content-disposition', `attachment; filename="${name}.jsonl"`).send(auditJsonLines(records));
    },
  );
};
