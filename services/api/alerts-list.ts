/**
 * The alerts a request may see, filtered: stored alert events of the period (each alert in its latest state) merged
 * with the live alert book (an event may still be on its way to InfluxDB). The API's `GET /alerts` and the console's
 * alert pages both read alerts here, so they can never disagree on what a commune sees.
 */
import type { Alert } from '../alerts/model.ts';
import { loadAlerts } from '../alerts/store.ts';
import { allRows } from '../storage/influx.ts';
import { during, select, tagFilters } from '../storage/influxql.ts';
import { ALERT_EVENT } from '../storage/schema.ts';
import type { ApiDeps } from './deps.ts';
import { tenantConditions } from './scope.ts';

export const ALERT_SEVERITIES = ['info', 'warning', 'major', 'critical'] as const;
export const ALERT_CATEGORIES = ['water', 'energy', 'air', 'datacenter', 'fleet'] as const;
export const ALERT_STATES = ['active', 'open', 'acknowledged', 'resolved', 'all'] as const;

export interface AlertFilter {
  /** The tenants the request covers (requestedTenants); undefined: the whole instance. */
  tenants: string[] | undefined;
  from: Date;
  to: Date;
  state: (typeof ALERT_STATES)[number];
  site?: string | undefined;
  severity?: string | undefined;
  category?: string | undefined;
  rule?: string | undefined;
}

/** Newest first. */
export async function listAlerts(deps: Pick<ApiDeps, 'influx' | 'alerts'>, f: AlertFilter): Promise<Alert[]> {
  const byId = new Map<string, Alert>();
  for (const a of await loadAlerts(deps.influx, { from: f.from, to: f.to, scope: tenantConditions(f.tenants) })) byId.set(a.id, a);
  for (const a of deps.alerts?.book.list() ?? []) if (!f.tenants || f.tenants.includes(a.subject.tenant)) byId.set(a.id, a);
  const wanted = (a: Alert) =>
    (f.state === 'all' || (f.state === 'active' ? a.state !== 'resolved' : a.state === f.state)) &&
    (!f.site || a.subject.site === f.site) &&
    (!f.severity || a.severity === f.severity) &&
    (!f.category || a.category === f.category) &&
    (!f.rule || a.ruleId === f.rule);
  return [...byId.values()].filter(wanted).sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || a.ruleId.localeCompare(b.ruleId) || a.id.localeCompare(b.id));
}

/** What a list needs of an alert before its page is chosen: identity, place, state and dates; no texts. */
export interface AlertSummary {
  id: string;
  ruleId: string;
  tenant: string;
  site: string;
  severity: string;
  category: string;
  state: Alert['state'];
  startedAt: number;
}

const SUMMARY_STATES: Record<string, Alert['state']> = { open: 'open', acknowledged: 'acknowledged', resolved: 'resolved' };

/**
 * The alerts of a filter as light summaries, newest first: one InfluxDB query that reads only ids, states, dates
 * and tags (the filters on tags go into the query), merged with the live book. A list then loads the whole alerts
 * of the page it shows only (loadAlertsOfPage): 10,000 stored events cost tens of milliseconds, not a second.
 */
export async function listAlertSummaries(deps: Pick<ApiDeps, 'influx' | 'alerts'>, f: AlertFilter): Promise<AlertSummary[]> {
  const tags = tagFilters({ site: f.site, severity: f.severity, category: f.category, rule: f.rule });
  const columns = ['alert_id', 'state', 'started_at_ms', 'rule', 'tenant', 'site', 'severity', 'category'];
  const rows = allRows(
    await deps.influx.query(
      select({ select: columns.map((field) => ({ field })), from: ALERT_EVENT.measurement, where: [...during(f.from, f.to), ...tenantConditions(f.tenants), ...tags], order: 'asc' }),
    ),
  );
  const byId = new Map<string, AlertSummary>();
  for (const r of rows) {
    const id = String(r.alert_id);
    byId.set(id, {
      id,
      ruleId: String(r.rule ?? ''),
      tenant: String(r.tenant ?? ''),
      site: String(r.site ?? ''),
      severity: String(r.severity ?? ''),
      category: String(r.category ?? ''),
      state: SUMMARY_STATES[String(r.state)] ?? 'open',
      startedAt: Number(r.started_at_ms ?? r.time),
    });
  }
  for (const a of deps.alerts?.book.list() ?? []) {
    if (f.tenants && !f.tenants.includes(a.subject.tenant)) continue;
    byId.set(a.id, { id: a.id, ruleId: a.ruleId, tenant: a.subject.tenant, site: a.subject.site, severity: a.severity, category: a.category, state: a.state, startedAt: a.startedAt.getTime() });
  }
  const wanted = (a: AlertSummary) =>
    (f.state === 'all' || (f.state === 'active' ? a.state !== 'resolved' : a.state === f.state)) &&
    (!f.site || a.site === f.site) &&
    (!f.severity || a.severity === f.severity) &&
    (!f.category || a.category === f.category) &&
    (!f.rule || a.ruleId === f.rule);
  // Same start: by rule then id, so that a page shows the same order on every load.
  return [...byId.values()].filter(wanted).sort((a, b) => b.startedAt - a.startedAt || a.ruleId.localeCompare(b.ruleId) || a.id.localeCompare(b.id));
}

/** The whole alerts of some summaries (one page of a list), in the summaries' order: live ones from the book. */
export async function loadAlertsOfPage(deps: Pick<ApiDeps, 'influx' | 'alerts'>, page: AlertSummary[], f: Pick<AlertFilter, 'from' | 'to' | 'tenants'>): Promise<Alert[]> {
  const live = new Map<string, Alert>();
  for (const s of page) {
    const a = deps.alerts?.book.find(s.id);
    if (a) live.set(s.id, a);
  }
  const missing = page.filter((s) => !live.has(s.id)).map((s) => s.id);
  // An alert's events all come at or after its start: the page's oldest start bounds the scan (page 1 reads hours, not a month).
  const oldest = Math.min(...page.filter((s) => !live.has(s.id)).map((s) => s.startedAt));
  const from = new Date(Math.max(f.from.getTime(), oldest - 1000));
  const stored = missing.length ? await loadAlerts(deps.influx, { from, to: f.to, scope: tenantConditions(f.tenants), alertIds: missing }) : [];
  const byId = new Map([...stored.map((a) => [a.id, a] as const), ...live]);
  return page.flatMap((s) => byId.get(s.id) ?? []);
}
