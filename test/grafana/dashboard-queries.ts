/**
 * Every InfluxQL statement the provisioned dashboards send (panels and variables, both languages), generated from
 * dashboards/ (the same JSON Grafana loads: generate.test.ts checks the committed files equal it), with the substitutions Grafana makes before its InfluxDB datasource sends
 * them: `$timeFilter` as `time >= <ms>ms and time <= <ms>ms` and `$__interval` by its backend, the variables as
 * escaped regexes by its frontend (a value, `(a|b)` for several, `.*` for "All").
 */
import { join } from 'node:path';
import { generate } from '../../dashboards/build.ts';

export const DASHBOARD_DIR = join(import.meta.dirname, '..', '..', 'infra', 'grafana', 'dashboards');

export interface DashboardQuery {
  file: string;
  where: string;
  template: string;
}

/** The query templates, as written in the dashboards (one entry per distinct text and file). */
export function dashboardQueries(): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const [file, json] of [...generate()].sort(([a], [b]) => a.localeCompare(b))) {
    const d = JSON.parse(json) as { panels?: any[]; templating?: { list?: any[] } };
    for (const v of d.templating?.list ?? []) if (v.type === 'query' && typeof v.query === 'string') out.push({ file, where: `variable ${v.name}`, template: v.query });
    for (const p of d.panels ?? []) for (const t of p.targets ?? []) if (typeof t.query === 'string') out.push({ file, where: `panel ${p.title}`, template: t.query });
  }
  return out;
}

/** Grafana's escaping of a variable value in a regex (escapeRegex of @grafana/data). */
const escapeRegex = (v: string) => v.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

export interface Substitution {
  from: number;
  to: number;
  interval?: string;
  /** Variable values: a list (one or several), or 'All'. */
  tenant?: string[] | 'All';
  site?: string[] | 'All';
  device?: string[] | 'All';
}

const variable = (v: string[] | 'All' | undefined) => (v === undefined || v === 'All' ? '.*' : v.length === 1 ? escapeRegex(v[0]!) : `(${v.map(escapeRegex).join('|')})`);

export function substitute(template: string, s: Substitution): string {
  return template
    .replaceAll('$timeFilter', `time >= ${s.from}ms and time <= ${s.to}ms`)
    .replaceAll('$__interval', s.interval ?? '1h')
    .replaceAll('$tenant', variable(s.tenant))
    .replaceAll('$site', variable(s.site))
    .replaceAll('$device', variable(s.device));
}
