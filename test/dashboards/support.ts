/** The panel queries of the generated dashboards, and how to run them outside Grafana. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { InfluxQLDataquery } from '../../dashboards/influxql.ts';

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  query: string;
}

interface PanelLike {
  title?: string;
  targets?: unknown[];
  panels?: PanelLike[];
}

export function panelsOf(d: Dashboard): PanelLike[] {
  return ((d.panels ?? []) as PanelLike[]).flatMap((p) => [p, ...(p.panels ?? [])]);
}

export function panelQueries(d: Dashboard): PanelQuery[] {
  return panelsOf(d).flatMap((p) =>
    ((p.targets ?? []) as InfluxQLDataquery[]).map((t) => ({ dashboard: d.title ?? '', panel: p.title ?? '', refId: t.refId, query: t.query })),
  );
}

/**
 * What Grafana does to a raw InfluxQL query before sending it: the time filter, the interval macros and the
 * variables (here "All", i.e. `.*`).
 */
export function substitute(query: string, range = '3d'): string {
  return query
    .replaceAll('$timeFilter', `time > now() - ${range}`)
    .replaceAll('$__interval_ms', '3600000')
    .replaceAll('$__interval', '1h')
    .replaceAll('$interval', '1h')
    .replace(/\$(tenant|site|device)\b/g, '.*');
}
