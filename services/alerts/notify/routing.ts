/** Which routes an alert event takes: every criterion a route sets must hold; a list matches any of its values. */
import type { AlertEvent } from '../lifecycle.ts';
import { SEVERITY_ORDER } from '../model.ts';
import type { RouteConfig } from './config.ts';

export function routeMatches(route: RouteConfig, e: AlertEvent): boolean {
  const a = e.alert;
  if (!route.events.includes(e.type)) return false;
  // A resolved or acknowledged event carries the alert's (highest) severity, so a route that got the alert gets its end.
  if (SEVERITY_ORDER[a.severity] < SEVERITY_ORDER[route.minSeverity]) return false;
  if (route.tenants && !route.tenants.includes(a.subject.tenant)) return false;
  if (route.sites && !route.sites.includes(a.subject.site)) return false;
  if (route.rules && !route.rules.includes(a.ruleId)) return false;
  if (route.categories && !route.categories.includes(a.category)) return false;
  return true;
}
