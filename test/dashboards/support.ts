/** The panel queries of the generated dashboards, and how to run them outside Grafana. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { InfluxQLDataquery } from '../../dashboards/influxql.ts';
import { TIME_ZONE } from '../../dashboards/influxql.ts';
import { localDayBounds, localTime } from '../../services/time/calendar.ts';

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  query: string;
  /** The panel's own relative range (`1y`, `now/M`) and shift (`1y`), when it has them. */
  timeFrom?: string;
  timeShift?: string;
}

interface PanelLike {
  title?: string;
  targets?: unknown[];
  panels?: PanelLike[];
  timeFrom?: string;
  timeShift?: string;
}

export function panelsOf(d: Dashboard): PanelLike[] {
  return ((d.panels ?? []) as PanelLike[]).flatMap((p) => [p, ...(p.panels ?? [])]);
}

export function panelQueries(d: Dashboard): PanelQuery[] {
  return panelsOf(d).flatMap((p) =>
    ((p.targets ?? []) as InfluxQLDataquery[]).map((t) => ({
      dashboard: d.title ?? '',
      panel: p.title ?? '',
      refId: t.refId,
      query: t.query,
      ...(p.timeFrom ? { timeFrom: p.timeFrom } : {}),
      ...(p.timeShift ? { timeShift: p.timeShift } : {}),
    })),
  );
}

export interface Range {
  from: Date;
  to: Date;
}

const FIXED_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `t` minus `n` units; months and years on the calendar (UTC fields: Paris keeps its offset a year apart but on DST-change days). */
export function minus(t: Date, n: number, unit: string): Date {
  if (FIXED_MS[unit] !== undefined) return new Date(t.getTime() - n * FIXED_MS[unit]);
  const d = new Date(t);
  if (unit === 'M') d.setUTCMonth(d.getUTCMonth() - n);
  else if (unit === 'y') d.setUTCFullYear(d.getUTCFullYear() - n);
  else throw new Error(`unsupported time unit '${unit}'`);
  return d;
}

export function startOfLocalMonth(t: Date): Date {
  return localDayBounds(`${localTime(t, TIME_ZONE).date.slice(0, 7)}-01`, TIME_ZONE).start;
}

/**
 * The subset of Grafana's date math the dashboards use: `now`, `now/M` (start of the local month), `now-7d`,
 * and a bare `7d` (= `now-7d`, as a panel's relative time reads it).
 */
function relative(expr: string, now: Date): Date {
  if (expr === 'now') return now;
  if (expr === 'now/M') return startOfLocalMonth(now);
  const m = /^(?:now-)?(\d+)([mhdwMy])$/.exec(expr);
  if (!m) throw new Error(`unsupported relative time '${expr}'`);
  return minus(now, Number(m[1]), m[2]!);
}

/**
 * The range Grafana gives a panel's queries: the dashboard's (`dashboardFrom` to now), or the panel's relative
 * time (`1y` → now-1y to now, `now/M` → this month so far), then moved back by its time shift.
 */
export function panelRange(q: Pick<PanelQuery, 'timeFrom' | 'timeShift'>, now: Date, dashboardFrom = '3d'): Range {
  let from = relative(q.timeFrom ?? dashboardFrom, now);
  let to = now;
  if (q.timeShift) {
    const m = /^(\d+)([mhdwMy])$/.exec(q.timeShift);
    if (!m) throw new Error(`unsupported time shift '${q.timeShift}'`);
    from = minus(from, Number(m[1]), m[2]!);
    to = minus(to, Number(m[1]), m[2]!);
  }
  return { from, to };
}

/**
 * What Grafana does to a raw InfluxQL query before sending it: the time filter (in Grafana's own form, epoch
 * milliseconds), the interval macros and the variables ("All", i.e. `.*`, unless one value is given).
 */
export function substitute(query: string, range: Range, vars: Partial<Record<'tenant' | 'site' | 'device', string>> = {}): string {
  return query
    .replaceAll('$timeFilter', `time >= ${range.from.getTime()}ms and time <= ${range.to.getTime()}ms`)
    .replaceAll('$__interval_ms', '3600000')
    .replaceAll('$__interval', '1h')
    .replaceAll('$interval', '1h')
    .replace(/\$(tenant|site|device)\b/g, (_, v: 'tenant' | 'site' | 'device') => vars[v] ?? '.*');
}
