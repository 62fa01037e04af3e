/** Alert events as InfluxDB points (`alert_event`, see docs/schema.md): the alert history, and what rebuilds state. */
import { int, lineWithTags, tagString } from '../storage/line-protocol.ts';
import { ALERT_EVENT } from '../storage/schema.ts';
import { allRows, type InfluxTarget } from '../storage/influx.ts';
import { during, select, type Condition } from '../storage/influxql.ts';
import type { AlertEvent } from './lifecycle.ts';
import type { Alert } from './model.ts';

export function alertEventLine(e: AlertEvent): string {
  const a = e.alert;
  const tags = tagString({ category: a.category, event: e.type, rule: a.ruleId, severity: a.severity, site: a.subject.site, tenant: a.subject.tenant });
  return lineWithTags(
    ALERT_EVENT.measurement,
    tags,
    {
      alert_id: a.id,
      rule_version: int(a.ruleVersion),
      state: a.state,
      dev_eui: a.subject.devEui ?? '',
      device: a.subject.device ?? '',
      zone: a.subject.zone ?? '',
      started_at_ms: int(a.startedAt.getTime()),
      message_fr: a.message.fr,
      message_en: a.message.en,
      details: JSON.stringify({
        title: a.title,
        subject: a.subject,
        window: a.window,
        thresholds: a.thresholds,
        measured: a.measured,
        source: a.source,
        action: a.action,
        acknowledged: a.acknowledged,
        resolved: a.resolved,
      }),
    },
    e.at.getTime(),
  )!;
}

/**
 * The alerts still open (or acknowledged) according to the stored events of the last `days`: each alert's latest
 * event wins. The service rebuilds its alert book from this at start-up, so a restart neither forgets an open
 * alert nor opens it a second time.
 */
export async function loadActiveAlerts(influx: Pick<InfluxTarget, 'query'>, days = 90): Promise<Alert[]> {
  const series = await influx.query(select({ select: '*', from: ALERT_EVENT.measurement, where: [{ time: '>', at: { ago: `${Math.trunc(days)}d` } }], order: 'asc' }));
  return latestAlerts(allRows(series)).filter((a) => a.state !== 'resolved');
}

/** Every alert with an event in [from, to) (optionally confined by `scope`, the tenant conditions), in its latest state. */
export async function loadAlerts(influx: Pick<InfluxTarget, 'query'>, opts: { from: Date; to: Date; scope?: readonly Condition[]; alertId?: string; alertIds?: readonly string[] }): Promise<Alert[]> {
  const ids = [...(opts.alertId ? [opts.alertId] : []), ...(opts.alertIds ?? [])];
  if (opts.alertIds && ids.length === 0) return [];
  const byId: Condition[] = ids.length ? [{ tag: 'alert_id', in: ids }] : [];
  const series = await influx.query(select({ select: '*', from: ALERT_EVENT.measurement, where: [...during(opts.from, opts.to), ...(opts.scope ?? []), ...byId], order: 'asc' }));
  return latestAlerts(allRows(series));
}

/** Rows of alert events in time order → each alert as its latest event describes it. */
export function latestAlerts(rows: Record<string, unknown>[]): Alert[] {
  const latest = new Map<string, Record<string, unknown>>();
  for (const row of rows) latest.set(String(row.alert_id), row);
  return [...latest.values()].map(alertFromRow);
}

/**
 * A rule's source as stored: events written before the sources were translated hold an English string, shown in
 * both languages rather than lost (those alerts keep the text they were raised with).
 */
export function storedSource(s: { text?: unknown; reference?: unknown } | undefined): Alert['source'] {
  const t = s?.text;
  const text =
    typeof t === 'string'
      ? { fr: t, en: t }
      : t && typeof t === 'object'
        ? { fr: String((t as Record<string, unknown>).fr ?? ''), en: String((t as Record<string, unknown>).en ?? '') }
        : { fr: '', en: '' };
  return { text, reference: typeof s?.reference === 'string' ? s.reference : '' };
}

function alertFromRow(row: Record<string, unknown>): Alert {
  const d = JSON.parse(String(row.details ?? '{}')) as {
    window?: { from: string; to: string };
    thresholds?: Alert['thresholds'];
    measured?: Alert['measured'];
    /** Before the sources were translated, `text` was English only: a string. */
    source?: { text?: string | Alert['source']['text']; reference?: string };
    action?: Alert['action'];
    acknowledged?: { by: string; at: string; comment: string };
    resolved?: { by: string; at: string; comment: string };
    title?: Alert['title'];
    subject?: Alert['subject'];
  };
  const str = (k: string) => (typeof row[k] === 'string' && row[k] !== '' ? (row[k] as string) : undefined);
  const at = new Date(Number(row.time));
  const state: Alert['state'] = row.state === 'acknowledged' ? 'acknowledged' : row.state === 'resolved' ? 'resolved' : 'open';
  return {
    id: String(row.alert_id),
    ruleId: String(row.rule),
    ruleVersion: Number(row.rule_version ?? 1),
    category: String(row.category) as Alert['category'],
    title: d.title ?? { fr: String(row.rule), en: String(row.rule) },
    severity: String(row.severity) as Alert['severity'],
    subject: d.subject ?? { tenant: String(row.tenant), site: String(row.site ?? ''), ...(str('dev_eui') ? { devEui: str('dev_eui') } : {}), ...(str('device') ? { device: str('device') } : {}), ...(str('zone') ? { zone: str('zone') } : {}) },
    state,
    startedAt: new Date(Number(row.started_at_ms ?? row.time)),
    lastFiringAt: at,
    ...(state === 'resolved' ? { endedAt: d.resolved ? new Date(d.resolved.at) : at } : {}),
    window: d.window ? { from: new Date(d.window.from), to: new Date(d.window.to) } : { from: at, to: at },
    thresholds: d.thresholds ?? {},
    measured: d.measured ?? {},
    message: { fr: String(row.message_fr ?? ''), en: String(row.message_en ?? '') },
    source: storedSource(d.source),
    action: d.action ?? { fr: '', en: '' },
    ...(d.acknowledged ? { acknowledged: { ...d.acknowledged, at: new Date(d.acknowledged.at) } } : {}),
    ...(d.resolved ? { resolved: { ...d.resolved, at: new Date(d.resolved.at) } } : {}),
  };
}
