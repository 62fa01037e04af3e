/**
 * MQTT channel: publishes the same JSON as the webhook on a topic of the service's broker connection, for routes
 * that need their own topic (one per commune, only critical alerts…). The service's ALERT_MQTT_TOPIC publication of
 * every event is separate and unchanged (../notify-mqtt.ts).
 */
import { fillTopic } from '../../mqtt/topic.ts';
import { alertTopic } from '../notify-mqtt.ts';
import type { MqttChannelConfig } from './config.ts';
import type { Channel } from './channel.ts';
import { notificationBody, type Notification, type SummaryPayload } from './payload.ts';

/** Publishes with QoS 1; a throw or a rejected promise is a failed attempt, retried. */
export type MqttPublish = (topic: string, payload: string) => void | Promise<void>;

export function mqttChannel(name: string, cfg: MqttChannelConfig, publish: MqttPublish): Channel {
  return {
    name,
    type: 'mqtt',
    target: 'mqtt',
    async send(n: Notification) {
      const topic = n.kind === 'event' ? alertTopic(cfg.topic, n.event) : summaryTopic(cfg.topic, n.summary);
      await publish(topic, notificationBody(n));
    },
    async close() {},
  };
}

/** A summary's topic: a placeholder shared by all its events takes that value, otherwise '_'; rule and event are 'summary'. */
export function summaryTopic(template: string, s: SummaryPayload): string {
  const common = (pick: (e: SummaryPayload['events'][number]) => string): string => {
    const values = new Set(s.events.map(pick));
    return values.size === 1 ? [...values][0]! : '_';
  };
  return fillTopic(template, { tenant: common((e) => e.tenant), site: common((e) => e.site), severity: common((e) => e.severity), rule: 'summary', event: 'summary' });
}
