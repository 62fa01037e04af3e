/**
 * E-mail delivery against a local SMTP sink (smtp-server on 127.0.0.1, AUTH required): French by default with the
 * explanation and the action in text and HTML, English per route, retried after temporary refusals, and never the
 * password in the logs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { notificationsSchema } from '../../services/alerts/notify/config.ts';
import { createNotificationDispatcher } from '../../services/alerts/notify/dispatcher.ts';
import { capturingLogger } from '../unit/notify-fixtures.ts';
import { leakEvent, parseMail, startSmtpSink } from './notify-support.ts';
import { waitFor } from './support.ts';

const PASSWORD = 'smtp-pa55word-never-logged';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function dispatcher(port: number, routes: unknown[], opts: { password?: string; delivery?: Record<string, unknown> } = {}) {
  const cap = capturingLogger();
  const config = notificationsSchema.parse({
    delivery: opts.delivery ?? {},
    channels: {
      'services-techniques': {
        type: 'email',
        // The sink offers no STARTTLS: clear text must be allowed explicitly (TLS is required by default).
        smtp: { host: '127.0.0.1', port, requireTLS: false, user: 'veilleur', passwordEnv: 'VEILLEUR_SMTP_PASSWORD', timeoutMs: 5000 },
        from: 'Veilleur <veilleur@mairie.example.fr>',
        to: ['st@mairie.example.fr', 'astreinte@mairie.example.fr'],
      },
    },
    routes,
  });
  const d = createNotificationDispatcher(config, cap.log, { env: { VEILLEUR_SMTP_PASSWORD: opts.password ?? PASSWORD } });
  cleanup.push(() => d.stop(2000));
  return { d, cap };
}

describe('e-mail notifications', () => {
  it('sends a French e-mail with the explanation and the action, in text and HTML', async () => {
    const sink = await startSmtpSink('veilleur', PASSWORD);
    cleanup.push(sink.close);
    const { d, cap } = dispatcher(sink.port, [{ channels: ['services-techniques'] }]);
    const event = leakEvent(1);
    d.notify(event);
    await waitFor(async () => sink.mails.length >= 1, 10_000, 'the e-mail');
    const [mail] = sink.mails;
    expect(mail!.from).toBe('veilleur@mairie.example.fr');
    expect(mail!.to).toEqual(['st@mairie.example.fr', 'astreinte@mairie.example.fr']);
    const m = parseMail(mail!.raw);
    expect(m.headers.subject).toBe('[Veilleur] Critique · Nouvelle alerte W7 : Détecteur de fuite mouillé — fuite-chaufferie-1 (mairie, chaufferie)');
    expect(m.headers['x-veilleur-event-id']).toBe(`alert-1:opened:${event.at.getTime()}`);
    expect(m.headers['message-id']).toMatch(/^<[0-9a-f]{32}@mairie\.example\.fr>$/);
    expect(m.text).toContain("Présence d'eau détectée par fuite-chaufferie-1 (mairie, chaufferie)");
    expect(m.text).toContain("Action suggérée : Se rendre sur place, couper l'eau en amont si la fuite se confirme.");
    expect(m.text).toContain('Valeurs mesurées : water_leak = wet');
    expect(m.text).toContain('Source de la règle : ');
    expect(m.html).toContain('<strong>Action suggérée</strong>');
    expect(m.html).toContain('Présence d&#39;eau détectée par fuite-chaufferie-1');
    expect(d.stats().channels['services-techniques']).toMatchObject({ delivered: 1 });
    expect(cap.raw()).not.toContain(PASSWORD);
  });

  it('writes English when the route asks for it', async () => {
    const sink = await startSmtpSink('veilleur', PASSWORD);
    cleanup.push(sink.close);
    const { d } = dispatcher(sink.port, [{ channels: ['services-techniques'], lang: 'en' }]);
    d.notify(leakEvent(2));
    await waitFor(async () => sink.mails.length >= 1, 10_000, 'the e-mail');
    const m = parseMail(sink.mails[0]!.raw);
    expect(m.headers.subject).toBe('[Veilleur] Critical · New alert W7: Leak sensor wet — fuite-chaufferie-2 (mairie, chaufferie)');
    expect(m.text).toContain('Water detected by fuite-chaufferie-2 (mairie, chaufferie)');
    expect(m.text).toContain('Suggested action: Go on site; shut the water upstream if the leak is confirmed.');
  });

  it('retries after two temporary refusals (451): the e-mail is accepted on the 3rd attempt, once', async () => {
    const sink = await startSmtpSink('veilleur', PASSWORD, (n) => (n <= 2 ? 451 : undefined));
    cleanup.push(sink.close);
    const { d, cap } = dispatcher(sink.port, [{ channels: ['services-techniques'] }], { delivery: { maxAttempts: 4, initialDelayMs: 20 } });
    d.notify(leakEvent(3));
    await waitFor(async () => d.stats().channels['services-techniques']!.delivered === 1, 10_000, 'delivery on the 3rd attempt');
    expect(sink.attempts()).toBe(3);
    expect(sink.mails).toHaveLength(1);
    const failures = cap.lines.filter((l) => l.msg === 'notification attempt failed; will retry');
    expect(failures.map((l) => [l.channel, l.alertId, l.attempt])).toEqual([
      ['services-techniques', 'alert-3', 1],
      ['services-techniques', 'alert-3', 2],
    ]);
    expect(String(failures[0]!.err)).toContain('SMTP 451');
  });

  it('does not retry a permanent refusal (wrong password), and logs it without the password', async () => {
    const sink = await startSmtpSink('veilleur', PASSWORD);
    cleanup.push(sink.close);
    const wrong = 'wrong-password-also-secret';
    const { d, cap } = dispatcher(sink.port, [{ channels: ['services-techniques'] }], { password: wrong, delivery: { maxAttempts: 5, initialDelayMs: 20 } });
    d.notify(leakEvent(4));
    await waitFor(async () => d.stats().channels['services-techniques']!.refused === 1, 10_000, 'the refusal');
    expect(d.stats().channels['services-techniques']).toMatchObject({ failedAttempts: 1, delivered: 0 });
    expect(sink.mails).toHaveLength(0);
    expect(cap.lines.find((l) => l.msg === 'notification refused by the receiver; not retried')).toMatchObject({
      channel: 'services-techniques',
      alertId: 'alert-4',
      target: `smtp://127.0.0.1:${sink.port}`,
      err: expect.stringContaining('SMTP 535'),
    });
    expect(cap.raw()).not.toContain(wrong);
    expect(cap.raw()).not.toContain(PASSWORD);
  });
});
