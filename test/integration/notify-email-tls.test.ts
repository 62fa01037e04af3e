/**
 * SMTP requires TLS unless told otherwise: against a real SMTP server that offers no STARTTLS, the default
 * configuration sends nothing (neither the message nor the password); `requireTLS: false` is the explicit way to
 * allow clear text, and start-up says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { emailChannelSchema } from '../../services/alerts/notify/config.ts';
import { emailChannel } from '../../services/alerts/notify/email.ts';
import { DeliveryError } from '../../services/alerts/notify/channel.ts';
import { eventId } from '../../services/alerts/notify/payload.ts';
import { loadConfig, startupWarnings } from '../../services/config/load.ts';
import { leakEvent, startSmtpSink } from './notify-support.ts';

const PASSWORD = 'smtp-pa55word-never-sent-in-clear';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function channel(port: number, extra: Record<string, unknown> = {}) {
  const cfg = emailChannelSchema.parse({
    type: 'email',
    smtp: { host: '127.0.0.1', port, user: 'veilleur', timeoutMs: 5000, ...extra },
    from: 'veilleur@mairie.example.fr',
    to: ['st@mairie.example.fr'],
  });
  const ch = emailChannel('mail', cfg, PASSWORD);
  cleanup.push(() => ch.close());
  return ch;
}

const send = (ch: ReturnType<typeof channel>) => {
  const event = leakEvent(1);
  return ch.send({ kind: 'event', id: eventId(event), event }, { attempt: 1, lang: 'fr', signal: new AbortController().signal });
};

describe('SMTP TLS', () => {
  it('sends nothing to a server without STARTTLS by default, and sends once clear text is explicitly allowed', async () => {
    const sink = await startSmtpSink('veilleur', PASSWORD);
    cleanup.push(sink.close);
    const refused = await send(channel(sink.port)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(DeliveryError);
    expect(String((refused as Error).message)).toContain("no TLS with the SMTP server");
    expect(sink.mails).toHaveLength(0);
    expect(sink.attempts()).toBe(0);

    await send(channel(sink.port, { requireTLS: false }));
    expect(sink.mails).toHaveLength(1);
  });

  it('warns at start-up about clear-text SMTP and MQTT_TLS_INSECURE', () => {
    const cfg = loadConfig({ INFLUX_DB: 'veilleur', MQTT_TLS_INSECURE: 'true' });
    cfg.registry.notifications = { channels: { mail: emailChannelSchema.parse({ type: 'email', smtp: { host: 'smtp.example.fr', requireTLS: false }, from: 'v@example.fr', to: ['a@example.fr'] }) } } as never;
    const warnings = startupWarnings(cfg);
    expect(warnings.some((w) => w.startsWith('MQTT_TLS_INSECURE=true'))).toBe(true);
    expect(warnings.some((w) => w.includes('notifications.channels.mail.smtp.requireTLS is false'))).toBe(true);
  });
});
