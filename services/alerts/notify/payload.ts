/**
 * What a notification carries, the same for every channel: one alert event with its whole explanation, or a summary
 * of the events a route held back when over its rate limit. JSON shapes are documented in docs/notifications.md.
 */
import type { AlertEvent } from '../lifecycle.ts';
import type { Alert, Severity, Text } from '../model.ts';
import type { RateLimit } from './config.ts';

/**
 * Stable id of one alert event, sent as the idempotency key: a retry, or the same event notified twice, carries
 * the same id, so a receiver can ignore what it already has.
 */
export function eventId(e: AlertEvent): string {
  return `${e.alert.id}:${e.type}:${e.at.getTime()}`;
}

/** The JSON body of one event (webhook and MQTT): a superset of the MQTT alert payload (`event`, `at`, `alert`). */
export interface EventPayload {
  id: string;
  event: AlertEvent['type'];
  at: string;
  alert: Alert;
}

export function eventPayload(e: AlertEvent): EventPayload {
  return { id: eventId(e), event: e.type, at: e.at.toISOString(), alert: e.alert };
}

/** One line of a summary: enough to know what happened and where, without the whole explanation. */
export interface SummaryEntry {
  id: string;
  event: AlertEvent['type'];
  at: string;
  alertId: string;
  ruleId: string;
  severity: Severity;
  tenant: string;
  site: string;
  device?: string;
  title: Text;
  message: Text;
}

/** Events a route held back over its rate limit, sent as one notification when the limit allows. */
export interface SummaryPayload {
  id: string;
  event: 'summary';
  at: string;
  route: string;
  /** The route's limit, so that the receiver knows why it gets a summary. */
  rateLimit: RateLimit;
  /** How many events were held back, `events` lists the first of them. */
  count: number;
  events: SummaryEntry[];
  /** count − events.length: held back and counted, but not listed. */
  omitted: number;
}

export function summaryEntry(e: AlertEvent): SummaryEntry {
  const a = e.alert;
  return {
    id: eventId(e),
    event: e.type,
    at: e.at.toISOString(),
    alertId: a.id,
    ruleId: a.ruleId,
    severity: a.severity,
    tenant: a.subject.tenant,
    site: a.subject.site,
    ...(a.subject.device ? { device: a.subject.device } : {}),
    title: a.title,
    message: a.message,
  };
}

/** What a channel is asked to deliver. Events are deep copies taken at notify time (alerts are mutated later). */
export type Notification =
  | { kind: 'event'; id: string; event: AlertEvent }
  | { kind: 'summary'; id: string; summary: SummaryPayload };

export function notificationBody(n: Notification): string {
  return JSON.stringify(n.kind === 'event' ? eventPayload(n.event) : n.summary);
}
