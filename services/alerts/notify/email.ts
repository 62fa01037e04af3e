/**
 * E-mail channel over SMTP (nodemailer): one message per notification, French by default, text and HTML. The
 * Message-ID is derived from the event id, so a message sent twice (a retry after a lost reply) is recognisable as
 * the same one. Errors are reduced to their SMTP code and reply: never the credentials. TLS is required unless
 * `requireTLS: false` is set explicitly (a warning at start-up says so).
 */
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { EmailChannelConfig } from './config.ts';
import { DeliveryError, type Channel, type SendContext } from './channel.ts';
import type { DisplayNames } from '../../registry/names.ts';
import type { Notification } from './payload.ts';
import { renderMail } from './render.ts';

/** `names`: display names of communes and sites for the messages (identifiers without). */
export function emailChannel(name: string, cfg: EmailChannelConfig, password: string | undefined, names?: DisplayNames): Channel {
  const s = cfg.smtp;
  const implicitTls = s.secure === true || s.url?.startsWith('smtps:') === true;
  const auth = s.user ? { user: s.user, ...(password !== undefined ? { pass: password } : {}) } : undefined;
  const transport = nodemailer.createTransport({
    ...(s.url ? { url: s.url } : { host: s.host }),
    ...(s.port !== undefined ? { port: s.port } : {}),
    ...(s.secure !== undefined ? { secure: s.secure } : {}),
    // TLS unless the configuration says otherwise: implicit TLS (secure, smtps://), else STARTTLS required, so
    // alert texts and the SMTP password never travel in clear because a server (or someone between) offered no TLS.
    ...(implicitTls ? {} : { requireTLS: s.requireTLS ?? true }),
    ...(auth ? { auth } : {}),
    connectionTimeout: s.timeoutMs,
    greetingTimeout: s.timeoutMs,
    socketTimeout: s.timeoutMs,
    // Nothing we send refers to files or URLs; refuse them in case rendered content ever did.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const target = describeSmtp(cfg);
  const domain = /@([^>\s]+)>?$/.exec(cfg.from)?.[1] ?? 'veilleur.invalid';
  return {
    name,
    type: 'email',
    target,
    async send(n: Notification, ctx: SendContext) {
      const mail = renderMail(n, ctx.lang, cfg.subjectPrefix, names);
      try {
        await transport.sendMail({
          from: cfg.from,
          to: cfg.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: `<${createHash('sha256').update(n.id).digest('hex').slice(0, 32)}@${domain}>`,
          headers: { 'X-Veilleur-Event-Id': n.id },
        });
      } catch (err) {
        const e = err as Error & { responseCode?: number; code?: string; permanent?: boolean; response?: string; command?: string };
        const what = e.responseCode ? `SMTP ${e.responseCode}${e.response ? `: ${e.response}` : ''}` : `${e.code ? `${e.code}: ` : ''}${e.message}`;
        if (e.command === 'STARTTLS' || e.code === 'ETLS') throw new DeliveryError(`no TLS with the SMTP server (${what}): TLS is required unless smtp.requireTLS is false`, false);
        throw new DeliveryError(what, e.permanent === true);
      }
    },
    async close() {
      transport.close();
    },
  };
}

/** smtp://host:port, for logs: never the user or the password (a url may carry both). */
function describeSmtp(cfg: EmailChannelConfig): string {
  const s = cfg.smtp;
  if (s.url) {
    const u = new URL(s.url);
    return `${u.protocol}//${u.host}`;
  }
  return `${s.secure ? 'smtps' : 'smtp'}://${s.host}${s.port !== undefined ? `:${s.port}` : ''}`;
}
