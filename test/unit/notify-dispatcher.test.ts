import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AlertEvent } from '../../services/alerts/lifecycle.ts';
import { DeliveryError, type Channel, type SendContext } from '../../services/alerts/notify/channel.ts';
import { notificationsSchema } from '../../services/alerts/notify/config.ts';
import { createNotificationDispatcher, type NotificationDeps } from '../../services/alerts/notify/dispatcher.ts';
import type { EventPayload, Notification } from '../../services/alerts/notify/payload.ts';
import { alertEvent, capturingLogger, T0 } from './notify-fixtures.ts';

/** A channel that records each attempt and answers with `behaviour` (resolve, throw, or never settle). */
interface Recorded {
  channel: string;
  n: Notification;
  ctx: SendContext;
}
function fakeChannels(behaviour: (channel: string, attempt: number, n: Notification) => 'ok' | 'hang' | Error = () => 'ok') {
  const sent: Recorded[] = [];
  const closed: string[] = [];
  const factory: NotificationDeps['channelFactory'] = (name, cfg) =>
    ({
      name,
      type: cfg.type,
      target: `fake://${name}`,
      async send(n, ctx) {
        sent.push({ channel: name, n, ctx });
        const b = behaviour(name, ctx.attempt, n);
        if (b === 'hang') return new Promise<void>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        if (b instanceof Error) throw b;
      },
      async close() {
        closed.push(name);
      },
    }) satisfies Channel;
  return { sent, closed, factory };
}

const webhook = (extra: Record<string, unknown> = {}) => ({ type: 'webhook', url: 'https://hook.example.fr/secret-token', secret: 'webhook-secret-123456', ...extra });
const config = (c: Record<string, unknown>) => notificationsSchema.parse(c);
/** stop() waits on a (faked) timeout: let the fake clock run through its deadline. */
const stopWithin = async (d: { stop(ms?: number): Promise<void> }, ms: number) => {
  const stopping = d.stop(ms);
  await vi.advanceTimersByTimeAsync(ms);
  await stopping;
};
/** Lets setImmediate callbacks (the queue pumps) and the promises they start run. */
const turn = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

beforeEach(() => {
  // Only timeouts and the clock are faked: setImmediate stays real so that queues pump as in production.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('notification dispatcher', () => {
  it('sends each event to the channels of the routes it matches, once per channel, in the route language', async () => {
    const { sent, factory } = fakeChannels();
    const { log } = capturingLogger();
    const d = createNotificationDispatcher(
      config({
        channels: { a: webhook(), b: webhook(), c: webhook() },
        routes: [
          { name: 'mairie', sites: ['mairie'], channels: ['a', 'b'], lang: 'en' },
          { name: 'critical', minSeverity: 'critical', channels: ['b', 'c'] },
        ],
      }),
      log,
      { channelFactory: factory },
    );
    d.notify(alertEvent({ id: 'x1' }));
    d.notify(alertEvent({ id: 'x2', site: 'ecole', severity: 'warning' }));
    d.notify(alertEvent({ id: 'x3', site: 'ecole' }));
    await turn();
    // Channels drain independently: only the order within a channel is kept.
    const got = sent.map((s) => [s.channel, (s.n as Extract<Notification, { kind: 'event' }>).event.alert.id, s.ctx.lang].join(' '));
    expect(got.sort()).toEqual(['a x1 en', 'b x1 en', 'b x3 fr', 'c x1 fr', 'c x3 fr']);
    expect(d.stats().channels.b).toMatchObject({ delivered: 2, queued: 0 });
    await stopWithin(d, 1000);
  });

  it('returns from notify before any attempt, keeps a copy of the event, and never throws', async () => {
    const { sent, factory } = fakeChannels(() => new Error('boom'));
    const cap = capturingLogger();
    const d = createNotificationDispatcher(config({ channels: { a: webhook() }, routes: [{ channels: ['a'] }] }), cap.log, { channelFactory: factory });
    const e = alertEvent();
    d.notify(e);
    expect(sent).toHaveLength(0);
    expect(d.stats().channels.a!.queued).toBe(1);
    // The alert keeps living after its event (the lifecycle mutates it): the queued notification does not change.
    e.alert.severity = 'info';
    e.alert.measured = { water_leak: 'dry' };
    expect(() => d.notify(undefined as unknown as AlertEvent)).not.toThrow();
    expect(cap.lines.find((l) => l.msg === 'alert event not notified: dispatcher error')).toBeDefined();
    await turn();
    const n = sent[0]!.n as Extract<Notification, { kind: 'event' }>;
    expect(n.event.alert).toMatchObject({ severity: 'critical', measured: { water_leak: 'wet' } });
    expect(n.id).toBe(`alert-1:opened:${T0}`);
    await stopWithin(d, 10);
  });

  it('retries with exponential back-off, logs each failure without secrets, and gives up after maxAttempts', async () => {
    const { sent, factory } = fakeChannels(() => new Error('connect ECONNREFUSED 127.0.0.1:9'));
    const cap = capturingLogger();
    const d = createNotificationDispatcher(
      config({ delivery: { maxAttempts: 3, initialDelayMs: 1000 }, channels: { a: webhook() }, routes: [{ channels: ['a'] }] }),
      cap.log,
      { channelFactory: factory, random: () => 0.5 },
    );
    d.notify(alertEvent());
    await turn();
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    await turn();
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await turn();
    expect(sent).toHaveLength(2);
    // Doubled: the third attempt comes 2 s after the second.
    await vi.advanceTimersByTimeAsync(1999);
    await turn();
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await turn();
    expect(sent.map((s) => s.ctx.attempt)).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(600_000);
    await turn();
    expect(sent).toHaveLength(3);
    expect(d.stats().channels.a).toMatchObject({ failedAttempts: 3, gaveUp: 1, delivered: 0, queued: 0 });
    const failures = cap.lines.filter((l) => l.channel === 'a' && l.err);
    expect(failures.map((l) => [l.level, l.attempt, l.retryInMs, l.msg])).toEqual([
      [40, 1, 1000, 'notification attempt failed; will retry'],
      [40, 2, 2000, 'notification attempt failed; will retry'],
      [50, 3, undefined, 'notification not delivered: last attempt failed, given up'],
    ]);
    expect(failures[2]).toMatchObject({ alertId: 'alert-1', rule: 'W7', event: 'opened', err: 'connect ECONNREFUSED 127.0.0.1:9', target: 'fake://a' });
    expect(cap.raw()).not.toContain('webhook-secret-123456');
    expect(cap.raw()).not.toContain('secret-token');
    await stopWithin(d, 10);
  });

  it('does not retry a refusal, and waits as long as the receiver asks (Retry-After)', async () => {
    const { sent, factory } = fakeChannels((channel, attempt) =>
      channel === 'refusing' ? new DeliveryError('HTTP 400', true) : attempt === 1 ? new DeliveryError('HTTP 429', false, 30_000) : 'ok',
    );
    const cap = capturingLogger();
    const d = createNotificationDispatcher(
      config({ delivery: { initialDelayMs: 1000 }, channels: { refusing: webhook(), busy: webhook() }, routes: [{ channels: ['refusing', 'busy'] }] }),
      cap.log,
      { channelFactory: factory, random: () => 0.5 },
    );
    d.notify(alertEvent());
    await turn();
    await vi.advanceTimersByTimeAsync(29_999);
    await turn();
    expect(sent.map((s) => s.channel)).toEqual(['refusing', 'busy']);
    await vi.advanceTimersByTimeAsync(1);
    await turn();
    expect(sent.map((s) => s.channel)).toEqual(['refusing', 'busy', 'busy']);
    expect(d.stats().channels).toMatchObject({ refusing: { refused: 1, failedAttempts: 1 }, busy: { delivered: 1, failedAttempts: 1 } });
    expect(cap.lines.find((l) => l.channel === 'refusing' && l.err)).toMatchObject({ level: 50, msg: 'notification refused by the receiver; not retried', err: 'HTTP 400' });
    await stopWithin(d, 10);
  });

  it('holds events over the rate limit and sends them as one summary when a token is back', async () => {
    const { sent, factory } = fakeChannels();
    const cap = capturingLogger();
    const d = createNotificationDispatcher(
      config({ channels: { a: webhook() }, routes: [{ name: 'fuites', channels: ['a'], rateLimit: { max: 2, perMinutes: 1 } }] }),
      cap.log,
      { channelFactory: factory },
    );
    for (let i = 1; i <= 5; i++) d.notify(alertEvent({ id: `a${i}` }));
    await turn();
    expect(sent.map((s) => s.n.kind)).toEqual(['event', 'event']);
    // 2 per minute: the next token comes 30 s later, and carries the summary of the 3 held events.
    await vi.advanceTimersByTimeAsync(29_999);
    await turn();
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await turn();
    expect(sent).toHaveLength(3);
    const s = (sent[2]!.n as Extract<Notification, { kind: 'summary' }>).summary;
    expect(s).toMatchObject({ event: 'summary', route: 'fuites', count: 3, omitted: 0, rateLimit: { max: 2, perMinutes: 1 } });
    expect(s.events.map((e) => e.alertId)).toEqual(['a3', 'a4', 'a5']);
    // Still over the limit: the next event waits for the next token, 30 s on.
    d.notify(alertEvent({ id: 'a6' }));
    await vi.advanceTimersByTimeAsync(29_999);
    await turn();
    expect(sent).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    await turn();
    expect(sent).toHaveLength(4);
    expect((sent[3]!.n as Extract<Notification, { kind: 'summary' }>).summary.events.map((e) => e.alertId)).toEqual(['a6']);
    expect(d.stats().routes.fuites).toEqual({ held: 4, summaries: 2 });
    expect(cap.lines.filter((l) => l.msg === 'notification route over its rate limit: holding events for one summary')).toHaveLength(2);
    await stopWithin(d, 10);
  });

  it('bounds the queue of a channel and counts what it drops', async () => {
    const { factory } = fakeChannels(() => 'hang');
    const cap = capturingLogger();
    const d = createNotificationDispatcher(
      config({ delivery: { queueSize: 2, concurrency: 1 }, channels: { a: webhook() }, routes: [{ channels: ['a'], rateLimit: { max: 100 } }] }),
      cap.log,
      { channelFactory: factory },
    );
    for (let i = 1; i <= 5; i++) d.notify(alertEvent({ id: `a${i}` }));
    expect(d.stats().channels.a).toMatchObject({ queued: 2, queueFull: 3 });
    // One line for the burst, with the count, not one per dropped event.
    expect(cap.lines.filter((l) => l.msg === 'notification queue full: new notifications dropped')).toHaveLength(1);
    const stopping = d.stop(1000);
    await vi.advanceTimersByTimeAsync(1000);
    await stopping;
    expect(d.stats().channels.a).toMatchObject({ queued: 0, shutdown: 2 });
  });

  it('at stop, sends held summaries and retries now, gives up after the deadline, then refuses new events', async () => {
    // flaky: refuses the first attempt of an event (not of the summary); down: never answers.
    const { sent, closed, factory } = fakeChannels((channel, attempt, n) => (channel === 'down' ? 'hang' : n.kind === 'event' && attempt === 1 ? new Error('503') : 'ok'));
    const cap = capturingLogger();
    const d = createNotificationDispatcher(
      config({
        delivery: { initialDelayMs: 60_000 },
        channels: { flaky: webhook(), down: webhook() },
        routes: [
          { name: 'r1', channels: ['flaky'], rateLimit: { max: 1, perMinutes: 60 } },
          { name: 'r2', channels: ['down'] },
        ],
      }),
      cap.log,
      { channelFactory: factory },
    );
    d.notify(alertEvent({ id: 'a1' }));
    d.notify(alertEvent({ id: 'a2' }));
    await turn();
    expect(sent.map((s) => [s.channel, s.n.kind, s.ctx.attempt])).toEqual([
      ['flaky', 'event', 1],
      ['down', 'event', 1],
      ['down', 'event', 1],
    ]);
    const stopping = d.stop(2000);
    await turn();
    // The retry waiting 60 s goes at once, and the held event goes as a summary, without waiting for a token.
    expect(sent.slice(3).map((s) => [s.channel, s.n.kind, s.ctx.attempt])).toEqual([
      ['flaky', 'summary', 1],
      ['flaky', 'event', 2],
    ]);
    await vi.advanceTimersByTimeAsync(2000);
    await stopping;
    expect(d.stats().channels).toMatchObject({ flaky: { delivered: 2 }, down: { shutdown: 2, delivered: 0 } });
    expect(cap.lines.find((l) => l.msg === 'notifications still queued at shutdown were given up (not confirmed as delivered)')).toMatchObject({ lost: { down: 2 } });
    expect(closed.sort()).toEqual(['down', 'flaky']);
    d.notify(alertEvent({ id: 'late' }));
    await turn();
    expect(sent).toHaveLength(5);
    expect(d.stats().afterStop).toBe(1);
  });

  it('publishes on its MQTT topic the same JSON as the webhook, and retries a failed publish', async () => {
    const published: { topic: string; payload: string }[] = [];
    let failures = 1;
    const cap = capturingLogger();
    const d = createNotificationDispatcher(
      config({ delivery: { initialDelayMs: 100 }, channels: { commune: { type: 'mqtt', topic: 'communes/{tenant}/alertes/{severity}' } }, routes: [{ channels: ['commune'] }] }),
      cap.log,
      {
        mqttPublish: (topic, payload) => {
          if (failures-- > 0) throw new Error('not connected');
          published.push({ topic, payload });
        },
        random: () => 0.5,
      },
    );
    d.notify(alertEvent());
    await turn();
    expect(published).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    await turn();
    expect(published.map((p) => p.topic)).toEqual(['communes/saint-veilleur/alertes/critical']);
    const body = JSON.parse(published[0]!.payload) as EventPayload;
    expect(body).toMatchObject({ id: `alert-1:opened:${T0}`, event: 'opened', at: new Date(T0).toISOString(), alert: { ruleId: 'W7', action: { fr: expect.stringContaining('couper') } } });
    expect(cap.lines.find((l) => l.err === 'not connected')).toMatchObject({ channel: 'commune', attempt: 1 });
    await stopWithin(d, 10);
  });

  it('exposes its counters on the service registry', async () => {
    const { factory } = fakeChannels((channel) => (channel === 'b' ? new DeliveryError('HTTP 410', true) : 'ok'));
    const registry = new Registry();
    const cap = capturingLogger();
    const d = createNotificationDispatcher(
      config({ channels: { a: webhook(), b: webhook() }, routes: [{ name: 'tout', channels: ['a', 'b'], rateLimit: { max: 1 } }] }),
      cap.log,
      { channelFactory: factory, registry },
    );
    d.notify(alertEvent({ id: 'a1' }));
    d.notify(alertEvent({ id: 'a2' }));
    await turn();
    const text = await registry.metrics();
    expect(text).toContain('veilleur_notifications_delivered_total{channel="a"} 1');
    expect(text).toContain('veilleur_notification_failed_attempts_total{channel="b"} 1');
    expect(text).toContain('veilleur_notifications_dropped_total{channel="b",reason="refused"} 1');
    expect(text).toContain('veilleur_notifications_rate_limited_total{route="tout"} 1');
    expect(text).toContain('veilleur_notification_queue_length{channel="a"} 0');
    await stopWithin(d, 10);
  });

  it('does nothing without a notifications section', async () => {
    const cap = capturingLogger();
    const d = createNotificationDispatcher(undefined, cap.log);
    d.notify(alertEvent());
    expect(d.stats()).toEqual({ channels: {}, routes: {}, afterStop: 0 });
    await stopWithin(d, 10);
  });
});
