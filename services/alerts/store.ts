/** Alert events as InfluxDB points (`alert_event`, see docs/schema.md): the alert history, and what rebuilds state. */
import { int, lineWithTags, tagString } from '../storage/line-protocol.ts';
import { ALERT_EVENT } from '../storage/schema.ts';
import type { AlertEvent } from './lifecycle.ts';

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
      details: JSON.stringify({ window: a.window, thresholds: a.thresholds, measured: a.measured, source: a.source, action: a.action, acknowledged: a.acknowledged, resolved: a.resolved }),
    },
    e.at.getTime(),
  )!;
}
