/**
 * Webhook delivery against a local HTTP receiver (127.0.0.1) that checks each signature as a receiver would:
 * delivery with the whole explanation, retries until the receiver accepts, an unreachable or silent receiver that
 * never blocks notify(), and a rate limit that holds (the excess arrives as one summary).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { notificationsSchema } from '../../services/alerts/notify/config.ts';
import { createNotificationDispatcher, type NotificationDispatcher } from '../../services/alerts/notify/dispatcher.ts';
import { capturingLogger } from '../unit/notify-fixtures.ts';
import { closedPort, leakEvent, startWebhookReceiver } from './notify-support.ts';
import { waitFor } from './support.ts';

const SECRET = 'test-shared-secret-4f1c2a9b7e';
const env = { VEILLEUR_WEBHOOK_SECRET: SECRET };
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function dispatcher(channels: Record<string, unknown>, routes: unknown[], delivery: Record<string, unknown> = {}) {
  const cap = capturingLogger();
  const d: NotificationDispatcher = createNotificationDispatcher(notificationsSchema.parse({ delivery, channels, routes }), cap.log, { env });
  cleanup.push(() => d.stop(2000));
  return { d, cap };
}
const hook = (url: string, extra: Record<string, unknown> = {}) => ({ type: 'webhook', url, secretEnv: 'VEILLEUR_WEBHOOK_SECRET', ...extra });

describe('webhook notifications', () => {
  it('POSTs the signed event with its explanation and an idempotency key', async () => {
    const rx = await startWebhookReceiver(SECRET);
    cleanup.push(rx.close);
    const { d } = dispatcher({ astreinte: hook(rx.url) }, [{ channels: ['astreinte'], minSeverity: 'major' }]);
    const event = leakEvent(1);
    d.notify(event);
    await waitFor(async () => rx.requests.length >= 1, 5000, 'the webhook request');
    const [req] = rx.requests;
    expect(req!.verified).toBe(true);
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'idempotency-key': `${event.alert.id}:opened:${event.at.getTime()}`,
      'x-veilleur-event': 'opened',
      'x-veilleur-attempt': '1',
      'user-agent': 'Veilleur-Webhook/1',
    });
    expect(req!.body).toMatchObject({
      id: req!.headers['idempotency-key'],
      event: 'opened',
      at: event.at.toISOString(),
      alert: {
        id: 'alert-1',
        ruleId: 'W7',
        ruleVersion: 1,
        severity: 'critical',
        subject: { tenant: 'saint-veilleur', site: 'mairie', device: 'fuite-chaufferie-1' },
        measured: { water_leak: 'wet' },
        thresholds: {},
        window: { from: expect.any(String), to: expect.any(String) },
        message: { fr: expect.stringContaining("Présence d'eau détectée par fuite-chaufferie-1"), en: expect.stringContaining('Water detected by fuite-chaufferie-1') },
        action: { fr: expect.stringContaining("couper l'eau"), en: expect.stringContaining('shut the water') },
        source: { text: { fr: expect.stringContaining('État de fuite'), en: expect.stringContaining('Leak state') }, reference: expect.stringContaining('Netvox, R718WA User Manual') },
      },
    });
    expect(d.stats().channels.astreinte).toMatchObject({ delivered: 1, failedAttempts: 0 });
  });

  it('retries a receiver that fails twice: the event arrives on the 3rd attempt, with the same key', async () => {
    const rx = await startWebhookReceiver(SECRET, (n) => (n <= 2 ? 503 : 200));
    cleanup.push(rx.close);
    const { d, cap } = dispatcher({ astreinte: hook(rx.url) }, [{ channels: ['astreinte'] }], { maxAttempts: 5, initialDelayMs: 20 });
    d.notify(leakEvent(2));
    await waitFor(async () => d.stats().channels.astreinte!.delivered === 1, 10_000, 'delivery on the 3rd attempt');
    expect(rx.requests.map((r) => [r.status, r.headers['x-veilleur-attempt'], r.verified])).toEqual([
      [503, '1', true],
      [503, '2', true],
      [200, '3', true],
    ]);
    expect(new Set(rx.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(d.stats().channels.astreinte).toMatchObject({ delivered: 1, failedAttempts: 2, gaveUp: 0 });
    const failures = cap.lines.filter((l) => l.msg === 'notification attempt failed; will retry');
    expect(failures.map((l) => [l.channel, l.alertId, l.attempt, l.err])).toEqual([
      ['astreinte', 'alert-2', 1, 'HTTP 503'],
      ['astreinte', 'alert-2', 2, 'HTTP 503'],
    ]);
  });

  it('does not block notify on an unreachable or silent receiver, and logs the failures without the secret', async () => {
    const silent = await startWebhookReceiver(SECRET, () => 0);
    cleanup.push(silent.close);
    const port = await closedPort();
    const { d, cap } = dispatcher(
      { down: hook(`http://127.0.0.1:${port}/hooks/token-in-path`), silent: hook(silent.url, { timeoutMs: 300 }) },
      [{ channels: ['down', 'silent'], rateLimit: { max: 100 } }],
      { maxAttempts: 2, initialDelayMs: 20 },
    );
    for (let i = 1; i <= 20; i++) d.notify(leakEvent(i));
    // notify() only queued: no attempt has started, nothing has reached the receiver yet.
    expect(d.stats().channels.down).toMatchObject({ queued: 20, failedAttempts: 0 });
    expect(silent.requests).toHaveLength(0);
    await waitFor(async () => d.stats().channels.down!.gaveUp === 20, 15_000, 'the unreachable receiver given up');
    const gaveUp = cap.lines.filter((l) => l.channel === 'down' && l.msg === 'notification not delivered: last attempt failed, given up');
    expect(gaveUp).toHaveLength(20);
    expect(gaveUp[0]).toMatchObject({ level: 50, channelType: 'webhook', target: `http://127.0.0.1:${port}`, attempt: 2, maxAttempts: 2, err: expect.stringContaining('ECONNREFUSED') });
    expect(gaveUp.map((l) => l.alertId).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `alert-${i + 1}`).sort());
    await waitFor(async () => cap.lines.some((l) => l.channel === 'silent' && l.err === 'no response within 300 ms'), 10_000, 'the silent receiver timed out');
    expect(cap.raw()).not.toContain(SECRET);
    expect(cap.raw()).not.toContain('token-in-path');
  });

  it('holds the rate limit: 2 events go, the other 3 arrive as one signed summary (sent at stop)', async () => {
    const rx = await startWebhookReceiver(SECRET);
    cleanup.push(rx.close);
    const { d } = dispatcher({ astreinte: hook(rx.url) }, [{ name: 'fuites', channels: ['astreinte'], rateLimit: { max: 2, perMinutes: 60 } }]);
    for (let i = 1; i <= 5; i++) d.notify(leakEvent(i));
    await waitFor(async () => rx.requests.length >= 2, 5000, 'the first two events');
    expect(d.stats().routes.fuites).toEqual({ held: 3, summaries: 0 });
    await d.stop(5000);
    expect(rx.requests).toHaveLength(3);
    expect(rx.requests.map((r) => r.headers['x-veilleur-event'])).toEqual(['opened', 'opened', 'summary']);
    expect(rx.requests.every((r) => r.verified)).toBe(true);
    const summary = rx.requests[2]!.body as { route: string; count: number; omitted: number; rateLimit: unknown; events: { alertId: string; ruleId: string; message: { fr: string } }[] };
    expect(summary).toMatchObject({ event: 'summary', route: 'fuites', count: 3, omitted: 0, rateLimit: { max: 2, perMinutes: 60 } });
    expect(summary.events.map((e) => e.alertId)).toEqual(['alert-3', 'alert-4', 'alert-5']);
    expect(summary.events[0]!.message.fr).toContain('fuite-chaufferie-3');
    expect(rx.requests[2]!.headers['idempotency-key']).toBe((summary as unknown as { id: string }).id);
  });
});
