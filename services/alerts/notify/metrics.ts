/**
 * Prometheus metrics of the notifications, registered on the service's registry when one is given (served at
 * /metrics with the others). Labels are channel and route names from the configuration: a bounded set.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export function createNotificationMetrics(registry: Registry | undefined, queueLengths: () => Map<string, number>) {
  const registers = registry ? [registry] : [];
  return {
    delivered: new Counter({ name: 'veilleur_notifications_delivered_total', help: 'Notifications a channel accepted', labelNames: ['channel'], registers }),
    failedAttempts: new Counter({
      name: 'veilleur_notification_failed_attempts_total',
      help: 'Delivery attempts that failed (retried or not)',
      labelNames: ['channel'],
      registers,
    }),
    dropped: new Counter({
      name: 'veilleur_notifications_dropped_total',
      help: 'Notifications never delivered: gave-up (attempts exhausted), refused (permanent error), queue-full, shutdown',
      labelNames: ['channel', 'reason'],
      registers,
    }),
    held: new Counter({ name: 'veilleur_notifications_rate_limited_total', help: 'Events a route held back over its rate limit (sent in a summary)', labelNames: ['route'], registers }),
    summaries: new Counter({ name: 'veilleur_notification_summaries_total', help: 'Summaries of held-back events sent by a route', labelNames: ['route'], registers }),
    queued: new Gauge({
      name: 'veilleur_notification_queue_length',
      help: 'Notifications waiting, in flight or waiting for a retry, per channel',
      labelNames: ['channel'],
      registers,
      collect() {
        for (const [channel, n] of queueLengths()) this.set({ channel }, n);
      },
    }),
  };
}

export type NotificationMetrics = ReturnType<typeof createNotificationMetrics>;
