/**
 * The alerts a request may see, filtered: stored alert events of the period (each alert in its latest state) merged
 * with the live alert book (an event may still be on its way to InfluxDB). The API's `GET /alerts` and the console's
 * alert pages both read alerts here, so they can never disagree on what a commune sees.
 */
import type { Alert } from '../alerts/model.ts';
import { loadAlerts } from '../alerts/store.ts';
import type { ApiDeps } from './deps.ts';
import { tenantClause } from './scope.ts';

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
  for (const a of await loadAlerts(deps.influx, { from: f.from, to: f.to, tenantClause: tenantClause(f.tenants) })) byId.set(a.id, a);
  for (const a of deps.alerts?.book.list() ?? []) if (!f.tenants || f.tenants.includes(a.subject.tenant)) byId.set(a.id, a);
  const wanted = (a: Alert) =>
    (f.state === 'all' || (f.state === 'active' ? a.state !== 'resolved' : a.state === f.state)) &&
    (!f.site || a.subject.site === f.site) &&
    (!f.severity || a.severity === f.severity) &&
    (!f.category || a.category === f.category) &&
    (!f.rule || a.ruleId === f.rule);
  return [...byId.values()].filter(wanted).sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
}
