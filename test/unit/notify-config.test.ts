import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { notificationsSchema } from '../../services/alerts/notify/config.ts';
import { createNotificationDispatcher } from '../../services/alerts/notify/dispatcher.ts';
import { ConfigError, loadFile } from '../../services/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'veilleur-notify-config-'));
let n = 0;
const yamlFile = (text: string) => {
  const p = join(dir, `c${++n}.yaml`);
  writeFileSync(p, text);
  return p;
};
const fileError = (text: string): string => {
  const p = yamlFile(text);
  try {
    loadFile(p);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message.replaceAll(`${p}, path `, '');
  }
  throw new Error('expected a ConfigError');
};
const silent = pino({ level: 'silent' });

const example = `
notifications:
  channels:
    astreinte:
      type: webhook
      url: https://astreinte.example.fr/veilleur
      secretEnv: VEILLEUR_WEBHOOK_SECRET
    services-techniques:
      type: email
      smtp: { host: smtp.mairie.example.fr, port: 587, requireTLS: true, user: veilleur, passwordEnv: VEILLEUR_SMTP_PASSWORD }
      from: "Veilleur <veilleur@mairie.example.fr>"
      to: [st@mairie.example.fr]
  routes:
    - name: fuites
      categories: [water]
      minSeverity: major
      channels: [astreinte, services-techniques]
      rateLimit: { max: 10, perMinutes: 60 }
    - tenants: [saint-veilleur]
      sites: [mairie]
      events: [opened, resolved]
      channels: [services-techniques]
      lang: en
`;

describe('notifications configuration', () => {
  it('reads the documented example from the YAML file and applies the defaults', () => {
    const cfg = loadFile(yamlFile(example)).notifications!;
    expect(cfg.delivery).toEqual({ maxAttempts: 5, initialDelayMs: 2000, maxDelayMs: 300_000, queueSize: 1000, concurrency: 2 });
    expect(cfg.channels.astreinte).toMatchObject({ type: 'webhook', timeoutMs: 5000, secretEnv: 'VEILLEUR_WEBHOOK_SECRET' });
    expect(cfg.channels['services-techniques']).toMatchObject({ type: 'email', lang: 'fr', subjectPrefix: '[Veilleur]', smtp: { timeoutMs: 10_000, port: 587 } });
    expect(cfg.routes[0]).toMatchObject({ name: 'fuites', minSeverity: 'major', events: ['opened', 'escalated', 'acknowledged', 'resolved'] });
    expect(cfg.routes[1]).toMatchObject({ minSeverity: 'info', events: ['opened', 'resolved'], lang: 'en' });
    expect(cfg.routes[1]!.rateLimit).toBeUndefined();
  });

  it('accepts the example of docs/notifications.md as written', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'notifications.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const cfg = loadFile(yamlFile(yaml)).notifications!;
    expect(Object.keys(cfg.channels)).toEqual(['astreinte', 'services-techniques', 'commune']);
    expect(cfg.routes.map((r) => r.name ?? '')).toEqual(['fuites', '']);
  });

  it('is optional: a file without the section has none', () => {
    expect(loadFile(yamlFile('devices: []\n')).notifications).toBeUndefined();
  });

  it('names the path and what was expected', () => {
    const msg = fileError(`
notifications:
  channels:
    hook: { type: webhook, url: "ftp://x" }
    mail: { type: email, smtp: { host: smtp.x.fr, port: "587" }, from: "veilleur", to: [bob] }
    sms: { type: sms }
  routes:
    - { channels: [hook], minSeverity: high, events: [closed], rateLimit: { max: 0 } }
`);
    expect(msg).toContain('notifications.channels.hook.url: expected a URL starting with http:// or https://');
    expect(msg).toContain('notifications.channels.hook.secretEnv: expected secretEnv (an environment variable holding the shared secret) or secret');
    expect(msg).toContain('notifications.channels.mail.smtp.port: expected port: a whole number from 1 to 65535');
    expect(msg).toContain("notifications.channels.mail.from: expected an e-mail address, optionally with a name ('Veilleur <veilleur@mairie.fr>')");
    expect(msg).toContain('notifications.channels.mail.to[0]: expected an e-mail address (name@example.fr)');
    expect(msg).toContain("notifications.channels.sms.type: expected a channel with type 'webhook', 'email' or 'mqtt'");
    expect(msg).toContain('notifications.routes[0].minSeverity: expected one of info, warning, major, critical');
    expect(msg).toContain('notifications.routes[0].events[0]: expected one of opened, escalated, acknowledged, resolved');
    expect(msg).toContain('notifications.routes[0].rateLimit.max: expected max of at least 1');
  });

  it('checks that routes name existing channels, and that secrets are given once', () => {
    const msg = fileError(`
notifications:
  channels:
    hook: { type: webhook, url: "https://x.example.fr/h", secret: "0123456789abcdef", secretEnv: HOOK_SECRET }
    mail: { type: email, smtp: { host: smtp.x.fr, password: p }, from: "v@x.fr", to: [a@x.fr] }
  routes:
    - { channels: [hook, sms] }
`);
    expect(msg).toContain('notifications.channels.hook.secret: expected either secret or secretEnv, not both');
    expect(msg).toContain('notifications.channels.mail.smtp.user: expected user along with the password');
    const unknown = notificationsSchema.safeParse({ channels: { hook: { type: 'mqtt', topic: 'a/{tenant}' } }, routes: [{ channels: ['hook', 'sms'] }] });
    expect(unknown.success).toBe(false);
    expect(unknown.error!.issues).toMatchObject([{ path: ['routes', 0, 'channels', 1], message: "no channel named 'sms': expected one of hook (under notifications.channels)" }]);
  });

  it('refuses a short secret and a topic with wildcards', () => {
    const r = notificationsSchema.safeParse({ channels: { h: { type: 'webhook', url: 'http://127.0.0.1:1/x', secret: 'short' }, m: { type: 'mqtt', topic: 'a/+/b' } } });
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['channels.h.secret', 'expected a shared secret of at least 16 characters'],
      ['channels.m.topic', 'expected a topic without wildcards (placeholders: {tenant} {site} {rule} {severity} {event})'],
    ]);
  });

  it('fails at start-up, naming the variable, when a secret or password variable is not set', () => {
    const cfg = loadFile(yamlFile(example)).notifications!;
    expect(() => createNotificationDispatcher(cfg, silent, { env: { VEILLEUR_SMTP_PASSWORD: 'x' } })).toThrow(
      'notifications.channels.astreinte.secretEnv: environment variable VEILLEUR_WEBHOOK_SECRET is not set',
    );
    expect(() => createNotificationDispatcher(cfg, silent, { env: { VEILLEUR_WEBHOOK_SECRET: '0123456789abcdef0123' } })).toThrow(
      'notifications.channels.services-techniques.smtp.passwordEnv: environment variable VEILLEUR_SMTP_PASSWORD is not set',
    );
    expect(() => createNotificationDispatcher(cfg, silent, { env: { VEILLEUR_WEBHOOK_SECRET: 'short', VEILLEUR_SMTP_PASSWORD: 'x' } })).toThrow(
      'notifications.channels.astreinte: expected a shared secret of at least 16 characters',
    );
    const mqttOnly = notificationsSchema.parse({ channels: { t: { type: 'mqtt', topic: 'x/{tenant}' } }, routes: [{ channels: ['t'] }] });
    expect(() => createNotificationDispatcher(mqttOnly, silent, {})).toThrow("an mqtt channel needs the service's broker connection");
  });
});
