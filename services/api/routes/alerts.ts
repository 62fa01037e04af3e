/**
 * Alerts: list and filter (live ones from the alert book, history from the stored alert events), one alert with
 * its whole explanation, acknowledge and resolve (operator), the rule catalogue and backtests.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { backtest } from '../../alerts/backtest.ts';
import { ruleCatalogue } from '../../alerts/catalogue.ts';
import { defaultWindowedRules } from '../../alerts/rules/index.ts';
import type { Alert } from '../../alerts/model.ts';
import { loadAlerts } from '../../alerts/store.ts';
import { displayNames } from '../../registry/names.ts';
import { ALERT_CATEGORIES, ALERT_SEVERITIES, ALERT_STATES, listAlerts } from '../alerts-list.ts';
import { noteAudit } from '../../audit/http.ts';
import type { ApiDeps, AlertsAccess } from '../deps.ts';
import { alertId, instant, lang, rangeQuery, resolveRange, siteId, tenantId } from '../params.ts';
import { ApiError, mayRead, notFound, principalOf, requestedTenants, tenantConditions } from '../scope.ts';


export function alertView(a: Alert, language: 'fr' | 'en') {
  return {
    id: a.id,
    rule: { id: a.ruleId, version: a.ruleVersion, title: a.title, source: a.source },
    category: a.category,
    severity: a.severity,
    state: a.state,
    subject: a.subject,
    startedAt: a.startedAt.toISOString(),
    lastFiringAt: a.lastFiringAt.toISOString(),
    endedAt: a.endedAt?.toISOString() ?? null,
    window: { from: a.window.from.toISOString(), to: a.window.to.toISOString() },
    thresholds: a.thresholds,
    measured: a.measured,
    message: a.message,
    text: a.message[language],
    action: a.action,
    acknowledged: a.acknowledged ? { ...a.acknowledged, at: a.acknowledged.at.toISOString() } : null,
    resolved: a.resolved ? { ...a.resolved, at: a.resolved.at.toISOString() } : null,
  };
}

function requireAlerts(deps: ApiDeps): AlertsAccess {
  if (!deps.alerts) throw new ApiError(503, 'alerts_disabled', 'alerts are disabled on this instance (ALERTS_ENABLED=false)');
  return deps.alerts;
}

export const alertsRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/alerts',
    {
      schema: {
        summary: 'Alerts, newest first: open and acknowledged ones, and those resolved in the period',
        tags: ['alerts'],
        querystring: z.strictObject({
          tenant: tenantId.optional(),
          site: siteId.optional(),
          state: z.enum(ALERT_STATES).default('active'),
          severity: z.enum(ALERT_SEVERITIES).optional(),
          category: z.enum(ALERT_CATEGORIES).optional(),
          rule: z.string().regex(/^[A-Z][A-Z0-9]{0,7}$/, 'expected a rule id such as W1').optional(),
          lang,
          ...rangeQuery,
        }),
      },
    },
    async (req) => {
      const q = req.query;
      const tenants = requestedTenants(principalOf(req), q.tenant);
      const range = resolveRange(q, 30, 366);
      const alerts = await listAlerts(deps, { tenants, ...range, state: q.state, site: q.site, severity: q.severity, category: q.category, rule: q.rule });
      return alerts.map((a) => alertView(a, q.lang));
    },
  );

  app.get(
    '/alerts/:id',
    { schema: { summary: 'One alert with its explanation', tags: ['alerts'], params: z.strictObject({ id: alertId }), querystring: z.strictObject({ lang }) } },
    async (req) => alertView(await findAlert(deps, req.params.id, principalOf(req)), req.query.lang),
  );

  const handAction = (action: 'acknowledge' | 'resolve') =>
    app.post(
      `/alerts/:id/${action}`,
      {
        config: { role: 'operator', audit: action === 'acknowledge' ? 'alert.acknowledge' : 'alert.resolve' },
        schema: {
          summary: action === 'acknowledge' ? 'Acknowledge an open alert (who, when, comment)' : 'Resolve an alert by hand (it reopens only after its condition has cleared once)',
          tags: ['alerts'],
          params: z.strictObject({ id: alertId }),
          body: z.strictObject({ comment: z.string().trim().min(1, 'expected a comment saying what was done').max(2000) }),
        },
      },
      async (req) => {
        const alerts = requireAlerts(deps);
        const p = principalOf(req);
        const alert = await findAlert(deps, req.params.id, p);
        noteAudit(req, { tenant: alert.subject.tenant, target: alert.id, detail: req.body.comment });
        const by = `${p.name} (${p.keyId})`;
        const event = action === 'acknowledge' ? alerts.book.acknowledge(alert.id, by, req.body.comment) : alerts.book.resolve(alert.id, by, req.body.comment);
        if (!event) throw new ApiError(409, 'conflict', `alert ${alert.id} is ${alert.state}: it cannot be ${action === 'acknowledge' ? 'acknowledged' : 'resolved'}`);
        if ((await alerts.record([event])).length === 0) {
          throw new ApiError(409, 'conflict', `alert ${alert.id} was not ${action === 'acknowledge' ? 'acknowledged' : 'resolved'}: another replica recorded a change to it first, or the replicas could not confirm it; read it again and retry`);
        }
        return alertView(event.alert, 'fr');
      },
    );
  handAction('acknowledge');
  handAction('resolve');

  app.get('/rules', { schema: { summary: 'The rule catalogue: what each rule checks, its source, defaults and what a site may override', tags: ['alerts'] } }, async () =>
    ruleCatalogue(),
  );

  app.post(
    '/rules/:rule/backtest',
    {
      config: { role: 'operator', heavy: true },
      schema: {
        summary: 'The alerts a windowed rule would have raised over a period (nothing is stored or notified)',
        tags: ['alerts'],
        params: z.strictObject({ rule: z.string().regex(/^[A-Z][A-Z0-9]{0,7}$/, 'expected a rule id such as W1') }),
        body: z.strictObject({
          tenant: tenantId.optional(),
          from: instant,
          to: instant,
          stepHours: z.number().int().min(1).max(168).default(24),
          lang,
        }),
      },
    },
    async (req) => {
      const alerts = requireAlerts(deps);
      const tenants = requestedTenants(principalOf(req), req.body.tenant);
      // Fresh instances: daily rules remember their last computation, which must not leak between backtests.
      const rule = defaultWindowedRules().find((r) => r.info.id === req.params.rule);
      if (!rule) throw notFound(`windowed rule ${req.params.rule}`);
      const { from, to } = resolveRange(req.body, 90, 366);
      const events = await backtest([rule], { query: (q) => deps.influx.query(q), calendarFor: alerts.calendarFor, rulesFor: alerts.rulesFor, siteName: displayNames(deps.registry).site }, { from, to, stepMs: req.body.stepHours * 3_600_000, maxSteps: 2000 }).catch((err: unknown) => {
        if (err instanceof RangeError) throw new ApiError(400, 'bad_request', err.message);
        throw err;
      });
      // Rules read the whole instance; only the key's tenants come back.
      return events
        .filter((e) => !tenants || tenants.includes(e.alert.subject.tenant))
        .map((e) => ({ type: e.type, at: e.at.toISOString(), alert: alertView(e.alert, req.body.lang) }));
    },
  );
};

/** An alert the key may see, from the book or the stored events; another tenant's is "not found". */
async function findAlert(deps: ApiDeps, id: string, p: ReturnType<typeof principalOf>): Promise<Alert> {
  const live = deps.alerts?.book.find(id);
  const alert = live ?? (await loadAlerts(deps.influx, { from: new Date(0), to: new Date(Date.now() + 86_400_000), alertId: id, scope: tenantConditions(requestedTenants(p, undefined)) }))[0];
  if (!alert || !mayRead(p, alert.subject.tenant)) throw notFound(`alert ${id}`);
  return alert;
}
