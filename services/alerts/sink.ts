/**
 * The one way out for alert events, whoever caused them: a stream rule on an uplink, a windowed rule in its round,
 * a person acknowledging or resolving through the API or the console. Each event is stored durably (through the
 * spool, like readings), published on ALERT_MQTT_TOPIC and handed to the notification routes, once.
 */
import type { Logger } from 'pino';
import type { AlertEvent } from './lifecycle.ts';
import { alertPayload, alertTopic } from './notify-mqtt.ts';
import { alertEventLine } from './store.ts';

export interface AlertOutlets {
  /** Appends lines durably (the spool); false when it could not (disk full, I/O error). */
  store(lines: string[]): boolean;
  /** Publishes on the broker; never blocks (QoS 1, queued by the client while disconnected). */
  publish(topic: string, payload: string): void;
  /** The configured notification routes (webhook, e-mail, MQTT); never blocks. */
  notify(event: AlertEvent): void;
  /** ALERT_MQTT_TOPIC, a template ('veilleur/alerts/{tenant}/{rule}'). */
  mqttTopic: string;
  log?: Pick<Logger, 'error'>;
}

export class AlertSink {
  constructor(private readonly out: AlertOutlets) {}

  /**
   * Events caused by an uplink: returns their lines, to be stored in the same spool write as the uplink's own
   * (as durably, and acknowledged together); publishes and notifies them.
   */
  withUplink(events: AlertEvent[]): string[] {
    if (events.length === 0) return [];
    this.announce(events);
    return events.map(alertEventLine);
  }

  /** Events caused by a windowed rule or by a person: stored through the spool, then published and notified. */
  record(events: AlertEvent[]): void {
    if (events.length === 0) return;
    if (!this.out.store(events.map(alertEventLine))) {
      this.out.log?.error({ events: events.map((e) => `${e.type} ${e.alert.id}`) }, 'alert events not stored: the spool refused them (published and notified all the same)');
    }
    this.announce(events);
  }

  private announce(events: AlertEvent[]): void {
    for (const e of events) {
      this.out.publish(alertTopic(this.out.mqttTopic, e), alertPayload(e));
      this.out.notify(e);
    }
  }
}
