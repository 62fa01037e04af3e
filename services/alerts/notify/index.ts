/** Alert notifications: webhook, e-mail and MQTT channels, routing, rate limits, retries (docs/notifications.md). */
export { createNotificationDispatcher, type NotificationDeps, type NotificationDispatcher, type NotificationStats } from './dispatcher.ts';
export { notificationsSchema, type NotificationsConfig } from './config.ts';
export { SIGNATURE_HEADER, signatureHeader, verifySignature } from './signature.ts';
