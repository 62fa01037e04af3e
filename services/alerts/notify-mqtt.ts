/** Alert notifications on MQTT: one JSON message per alert event, on a topic built from a template. */
import { fillTopic } from '../mqtt/topic.ts';
import type { AlertEvent } from './lifecycle.ts';

/** 'veilleur/alerts/{tenant}/{rule}' → 'veilleur/alerts/saint-veilleur/W7' (placeholders: tenant site rule severity event). */
export function alertTopic(template: string, e: AlertEvent): string {
  return fillTopic(template, { tenant: e.alert.subject.tenant, site: e.alert.subject.site, rule: e.alert.ruleId, severity: e.alert.severity, event: e.type });
}

export function alertPayload(e: AlertEvent): string {
  return JSON.stringify({ event: e.type, at: e.at.toISOString(), alert: e.alert });
}
