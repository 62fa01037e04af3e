/**
 * Local receivers for the notification tests, on 127.0.0.1 free ports: an HTTP server that checks webhook signatures
 * the way a receiver would (with node:crypto, not with Veilleur's helper), and an SMTP sink (smtp-server).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { AlertBook, type AlertEvent } from '../../services/alerts/lifecycle.ts';
import { leakSensorWet } from '../../services/alerts/rules/stream.ts';

export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: Record<string, unknown>;
  /** The receiver's verdict on the signature (HMAC of "t.body", timestamp within 5 min). */
  verified: boolean;
  status: number;
}

/** A receiver answering each request with `status(n)` (n = 1 for the first request), or never when it returns 0. */
export async function startWebhookReceiver(secret: string, status: (n: number) => number = () => 204) {
  const requests: WebhookRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const code = status(requests.length + 1);
      requests.push({ headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>, verified: verify(secret, req.headers['x-veilleur-signature'], raw), status: code });
      if (code === 0) return; // hangs: the sender's timeout must fire
      res.writeHead(code, { 'content-type': 'text/plain' }).end(code < 300 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/veilleur`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A receiver's check, written from the documentation (docs/notifications.md). */
function verify(secret: string, header: string | string[] | undefined, raw: Buffer): boolean {
  if (typeof header !== 'string') return false;
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.`).update(raw).digest();
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

/** A loopback port nothing listens on (taken, then released). */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/**
 * SMTP sink requiring AUTH PLAIN/LOGIN with `user`/`password` (over plain TCP: loopback only). `reply(n)` may return
 * an SMTP error code for the n-th message (451: try later, 550: refused) instead of accepting it.
 */
export async function startSmtpSink(user: string, password: string, reply: (n: number) => number | undefined = () => undefined) {
  const mails: ReceivedMail[] = [];
  let attempts = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === password) cb(null, { user });
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = reply(++attempts);
        if (code) return cb(Object.assign(new Error(code < 500 ? 'Try again later' : 'Refused'), { responseCode: code }));
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    mails,
    attempts: () => attempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Headers (unfolded, names in lower case) and the decoded text and HTML parts of a MIME message. */
export function parseMail(raw: string): { headers: Record<string, string>; text: string; html: string } {
  const split = (s: string) => {
    const at = s.indexOf('\r\n\r\n');
    const head = s.slice(0, at).replace(/\r\n[ \t]+/g, ' ');
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { headers, body: s.slice(at + 4) };
  };
  const top = split(raw);
  const boundary = /boundary="?([^";]+)"?/.exec(top.headers['content-type'] ?? '')?.[1];
  const parts = boundary ? top.body.split(`--${boundary}`).slice(1, -1).map((p) => split(p.replace(/^\r\n/, ''))) : [top];
  const decode = (p: { headers: Record<string, string>; body: string }) => {
    const enc = (p.headers['content-transfer-encoding'] ?? '').toLowerCase();
    if (enc === 'base64') return Buffer.from(p.body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (enc === 'quoted-printable') return decodeQuotedPrintable(p.body.replace(/=\r\n/g, ''));
    return p.body;
  };
  const part = (type: string) => {
    const p = parts.find((x) => (x.headers['content-type'] ?? '').startsWith(type));
    return p ? decode(p) : '';
  };
  const headers = Object.fromEntries(Object.entries(top.headers).map(([k, v]) => [k, decodeWords(v)]));
  return { headers, text: part('text/plain'), html: part('text/html') };
}

function decodeQuotedPrintable(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=' && /^[0-9A-F]{2}$/i.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(s[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=), as nodemailer writes non-ASCII headers. */
function decodeWords(s: string): string {
  return s.replace(/\?=\s+=\?/g, '?==?').replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')),
  );
}

/** A real W7 event, from the rule and the alert book, as the engine produces it. */
export function leakEvent(n = 1, at = new Date()): AlertEvent {
  const book = new AlertBook(() => `alert-${n}`);
  const subject = { tenant: 'saint-veilleur', site: 'mairie', zone: 'chaufferie', devEui: '24e124126c140001', device: `fuite-chaufferie-${n}` };
  const finding = leakSensorWet.evaluate({ subject, role: 'leak', at, values: { 'water.leak': true } })!;
  return book.apply(finding)[0]!;
}
