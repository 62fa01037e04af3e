/** The datacenter report (PUE, kWh, kgCO2e) and CSV exports of readings and daily totals for open data. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { QUANTITIES } from '../../../decoders/model/quantities.ts';
import { calendarPeriod, CALENDAR_PERIOD_FORMATS, datacenterReport, datacenterReportCsv, type CalendarPeriodKind } from '../../datacenter/kpi.ts';
import { EMISSION_FACTORS } from '../../datacenter/emission-factors.ts';
import { localTime } from '../../time/calendar.ts';
import { toCsv } from '../../csv.ts';
import { DAILY_CSV_COLUMNS, READINGS_CSV_COLUMNS } from '../csv.ts';
import { noteAudit } from '../../audit/http.ts';
import type { ApiDeps } from '../deps.ts';
import { siteTimeZone } from '../inventory.ts';
import { lang, quantityId, rangeQuery, resolveRange, siteId, tenantId } from '../params.ts';
import { readSeries } from '../readings.ts';
import { ApiError, principalOf, requestedTenants } from '../scope.ts';
import type { Principal } from '../keys.ts';

/** Reports are about one tenant: the one asked for, or the key's only one. */
function singleTenant(p: Principal, tenant: string | undefined): string {
  const tenants = requestedTenants(p, tenant);
  if (tenants?.length === 1) return tenants[0]!;
  throw new ApiError(400, 'bad_request', 'querystring/tenant: required (this key covers several tenants)');
}

const factorIds = Object.keys(EMISSION_FACTORS) as [string, ...string[]];

const PERIOD_KINDS = ['month', 'quarter', 'year'] as const satisfies readonly CalendarPeriodKind[];

/**
 * The datacenter report's period: explicit from/to dates, or a calendar month, quarter or year in the site's time
 * zone (`period=month&month=2026-11`, `quarter=2026-Q4`, `year=2026`; the reference alone implies its kind), by
 * default the month under way. Mixing the two ways, or a reference of another kind than `period`, is a 400.
 */
function datacenterPeriod(
  q: { from?: Date | undefined; to?: Date | undefined; period?: CalendarPeriodKind | undefined } & Partial<Record<CalendarPeriodKind, string | undefined>>,
  timeZone: string,
): { from: Date; to: Date } {
  const refs = PERIOD_KINDS.filter((k) => q[k] !== undefined);
  if (q.from || q.to) {
    if (q.period || refs.length) throw new ApiError(400, 'bad_request', `querystring/${q.period ? 'period' : refs[0]}: give either from/to dates or a calendar period, not both`);
    return resolveRange(q, 30, 5 * 366);
  }
  if (refs.length > 1) throw new ApiError(400, 'bad_request', `querystring/${refs[1]}: give one calendar reference (${refs.join(' or ')})`);
  const kind = q.period ?? refs[0] ?? 'month';
  if (refs.length === 1 && refs[0] !== kind) throw new ApiError(400, 'bad_request', `querystring/${refs[0]}: period=${kind} is named by ${kind}=…, not ${refs[0]}=…`);
  try {
    const p = calendarPeriod(kind, q[kind], timeZone);
    return { from: p.from, to: p.to };
  } catch (e) {
    if (e instanceof RangeError) throw new ApiError(400, 'bad_request', `querystring/${kind}: ${e.message}`);
    throw e;
  }
}

export const reportsRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/reports/datacenter',
    {
      config: { audit: 'report.export', heavy: true },
      schema: {
        summary:
          'PUE (ISO/IEC 30134-2), DCiE, IT/cooling/other split, kWh and kgCO2e of a server room over a calendar month, quarter or year in the site’s time zone (default: the month under way) or between from and to; warnings in French (lang=fr, default) or English',
        tags: ['reports'],
        querystring: z.strictObject({
          tenant: tenantId.optional(),
          site: siteId,
          zone: siteId.optional(),
          category: z.enum(['1', '2', '3']).optional(),
          factor: z.enum(factorIds).optional(),
          format: z.enum(['json', 'csv']).default('json'),
          lang,
          period: z.enum(PERIOD_KINDS).optional(),
          month: z.string().regex(CALENDAR_PERIOD_FORMATS.month, 'expected a month such as 2026-11').optional(),
          quarter: z.string().regex(CALENDAR_PERIOD_FORMATS.quarter, 'expected a quarter such as 2026-Q4').optional(),
          year: z.string().regex(/^20\d{2}$/, 'expected a year from 2000 to 2099, e.g. 2026').optional(),
          ...rangeQuery,
        }),
      },
    },
    async (req, reply) => {
      const q = req.query;
      const tenant = singleTenant(principalOf(req), q.tenant);
      noteAudit(req, { tenant, target: `datacenter ${q.site}`, detail: q.format });
      const range = datacenterPeriod(q, siteTimeZone(deps.registry, tenant, q.site));
      noteAudit(req, { detail: `${q.format}, ${range.from.toISOString()} – ${range.to.toISOString()}` });
      const report = await datacenterReport({
        influx: deps.influx,
        tenant,
        site: q.site,
        zone: q.zone,
        factor: q.factor,
        category: q.category ? (Number(q.category) as 1 | 2 | 3) : undefined,
        lang: q.lang,
        ...range,
      });
      if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').send(datacenterReportCsv(report));
      return report;
    },
  );

  const exportQuery = z.strictObject({ tenant: tenantId.optional(), site: siteId, quantity: quantityId, ...rangeQuery });

  app.get(
    '/export/readings.csv',
    {
      config: { audit: 'data.export' },
      schema: {
        summary: `Raw readings of one quantity at a site, as CSV (columns: ${READINGS_CSV_COLUMNS.join(', ')}); at most 31 days`,
        tags: ['export'],
        querystring: exportQuery,
      },
    },
    async (req, reply) => {
      const q = req.query;
      const tenant = singleTenant(principalOf(req), q.tenant);
      const range = resolveRange(q, 1, 31);
      noteAudit(req, { tenant, target: `readings.csv ${q.site} ${q.quantity}`, detail: `${range.from.toISOString()} – ${range.to.toISOString()}` });
      const spec = QUANTITIES[q.quantity];
      const series = await readSeries(deps, { tenants: [tenant], site: q.site, quantity: q.quantity, aggregation: 'raw', timeZone: 'UTC', limit: 100_000, ...range });
      const rows = series.flatMap((s) =>
        s.points.map((p) => ({ time_utc: p.time, tenant: s.tenant, site: s.site, dev_eui: s.devEui, device: s.device, channel: s.channel, quantity: q.quantity, value: p.value, unit: spec.unit })),
      );
      rows.sort((a, b) => a.time_utc.localeCompare(b.time_utc) || a.dev_eui.localeCompare(b.dev_eui));
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${tenant}-${q.site}-${q.quantity}.csv"`).send(toCsv(READINGS_CSV_COLUMNS, rows));
    },
  );

  app.get(
    '/export/daily.csv',
    {
      config: { audit: 'data.export', heavy: true },
      schema: {
        summary: `Daily totals (indexes: consumption) or min/mean/max per local day at a site, as CSV (columns: ${DAILY_CSV_COLUMNS.join(', ')}); at most 3 years`,
        tags: ['export'],
        querystring: exportQuery,
      },
    },
    async (req, reply) => {
      const q = req.query;
      const tenant = singleTenant(principalOf(req), q.tenant);
      const range = resolveRange(q, 30, 3 * 366);
      noteAudit(req, { tenant, target: `daily.csv ${q.site} ${q.quantity}`, detail: `${range.from.toISOString()} – ${range.to.toISOString()}` });
      const spec = QUANTITIES[q.quantity];
      const timeZone = siteTimeZone(deps.registry, tenant, q.site);
      const series = await readSeries(deps, { tenants: [tenant], site: q.site, quantity: q.quantity, aggregation: 'daily', timeZone, limit: 10_000, ...range });
      const rows = series.flatMap((s) =>
        s.points.flatMap((p) => {
          const base = { date: localTime(new Date(p.time), timeZone).date, time_zone: timeZone, tenant: s.tenant, site: s.site, dev_eui: s.devEui, device: s.device, channel: s.channel, quantity: q.quantity, unit: spec.unit };
          const stats = spec.cumulative ? (['consumption'] as const) : (['min', 'mean', 'max'] as const);
          return stats.map((statistic) => ({ ...base, statistic, value: p[statistic] }));
        }),
      );
      rows.sort((a, b) => a.date.localeCompare(b.date) || a.dev_eui.localeCompare(b.dev_eui));
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${tenant}-${q.site}-${q.quantity}-daily.csv"`).send(toCsv(DAILY_CSV_COLUMNS, rows));
    },
  );
};
