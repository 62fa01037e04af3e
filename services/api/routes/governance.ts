/**
 * Governance reports of one tenant: radio parsimony of its sensors (GET /reports/parsimony) and the REEN yearly
 * review (GET /reports/yearly) as JSON, CSV or self-contained HTML. An encapsulated plugin like reports.ts: a key
 * only gets its own tenants (naming another is a 403), and every parameter is validated before any query.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parsimonyCsv, PARSIMONY_CSV_COLUMNS, yearlyCsv, YEARLY_CSV_COLUMNS } from '../../reports/csv.ts';
import { renderParsimonyHtml, renderYearlyHtml } from '../../reports/html.ts';
import { parsimonyReport, yearlyReport } from '../../reports/read.ts';
import { tenantTimeZone } from '../../reports/common.ts';
import { noteAudit } from '../../audit/http.ts';
import type { ApiDeps } from '../deps.ts';
import type { Principal } from '../keys.ts';
import { lang, rangeQuery, resolveRange, tenantId } from '../params.ts';
import { ApiError, principalOf, requestedTenants } from '../scope.ts';

/** Reports are about one tenant: the one asked for, or the key's only one. */
function singleTenant(p: Principal, tenant: string | undefined): string {
  const tenants = requestedTenants(p, tenant);
  if (tenants?.length === 1) return tenants[0]!;
  throw new ApiError(400, 'bad_request', 'querystring/tenant: required (this key covers several tenants)');
}

const year = z
  .string()
  .regex(/^20\d{2}$/, 'expected a year from 2000 to 2099, e.g. 2026')
  .transform(Number);

export const governanceRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/reports/parsimony',
    {
      config: { audit: 'report.export', heavy: true },
      schema: {
        summary: `Radio parsimony per device: uplinks/day, airtime/day, battery estimate, the interval its rules need, flags (CSV columns: ${PARSIMONY_CSV_COLUMNS.join(', ')}); at most 366 days, 7 by default`,
        tags: ['reports'],
        querystring: z.strictObject({ tenant: tenantId.optional(), format: z.enum(['json', 'csv', 'html']).default('json'), lang, ...rangeQuery }),
      },
    },
    async (req, reply) => {
      const q = req.query;
      const tenant = singleTenant(principalOf(req), q.tenant);
      const range = resolveRange(q, 7, 366);
      noteAudit(req, { tenant, target: 'parsimony', detail: `${q.format}, ${range.from.toISOString()} – ${range.to.toISOString()}` });
      const report = await parsimonyReport({ influx: deps.influx, registry: deps.registry, tenant, ...range });
      if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${tenant}-parsimony.csv"`).send(parsimonyCsv(report));
      if (q.format === 'html') return reply.type('text/html; charset=utf-8').send(renderParsimonyHtml(report, q.lang, { timeZone: tenantTimeZone(deps.registry, tenant) }));
      return report;
    },
  );

  app.get(
    '/reports/yearly',
    {
      config: { audit: 'report.export', heavy: true },
      schema: {
        summary: `REEN yearly review of a tenant: water and leaks, building energy (degree-days, décret tertiaire), server rooms (PUE, kgCO2e), fleet and platform footprint; HTML with charts (default), CSV (columns: ${YEARLY_CSV_COLUMNS.join(', ')}) or JSON`,
        tags: ['reports'],
        querystring: z.strictObject({ tenant: tenantId.optional(), year, format: z.enum(['html', 'csv', 'json']).default('html'), lang }),
      },
    },
    async (req, reply) => {
      const q = req.query;
      const tenant = singleTenant(principalOf(req), q.tenant);
      noteAudit(req, { tenant, target: `yearly ${q.year}`, detail: q.format });
      const report = await yearlyReport({ influx: deps.influx, registry: deps.registry, tenant, year: q.year });
      if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${tenant}-${q.year}.csv"`).send(yearlyCsv(report, q.lang));
      if (q.format === 'json') return report;
      return reply.type('text/html; charset=utf-8').send(renderYearlyHtml(report, q.lang));
    },
  );
};
