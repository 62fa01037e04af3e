/**
 * The `notifications` section of the YAML file (VEILLEUR_CONFIG): named channels (webhook, e-mail, MQTT topic) and
 * routes that send alert events to channels by tenant, site, rule, category, severity and event type. Secrets can
 * stay out of the file (`secretEnv`, `passwordEnv` name environment variables, read at start-up).
 * Every message says what was expected, and zod paths name the key to fix (docs/notifications.md).
 */
import { z } from 'zod';
import { topicTemplate } from '../../mqtt/topic.ts';

export const SEVERITIES = ['info', 'warning', 'major', 'critical'] as const;
export const EVENT_TYPES = ['opened', 'escalated', 'acknowledged', 'resolved'] as const;
export const CATEGORIES = ['water', 'energy', 'air', 'datacenter', 'fleet'] as const;
export const LANGS = ['fr', 'en'] as const;
export type Lang = (typeof LANGS)[number];

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'expected a name of letters, digits, _ . - (at most 63)');
const slug = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'expected letters, digits, _ . - (at most 63)');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'expected the name of an environment variable (letters, digits, _)');
const int = (min: number, max: number, what: string) =>
  z.number({ error: `expected ${what}: a whole number from ${min} to ${max}` }).int(`expected ${what}: a whole number`).min(min, `expected ${what} of at least ${min}`).max(max, `expected ${what} of at most ${max}`);
const url = (protocols: string[]) =>
  z.string({ error: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` }).refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
// Not a full RFC 5322 parser: catches the usual typos ("mairie.fr", "a@b") and lets the SMTP server judge the rest.
const email = z.string().regex(/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/, 'expected an e-mail address (name@example.fr)');
const mailbox = z
  .string()
  .regex(/^([^<>]*<[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+>|[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+)$/, "expected an e-mail address, optionally with a name ('Veilleur <veilleur@mairie.fr>')");

/** Delivery of one channel: bounded queue, parallel sends, retries with exponential back-off. */
const deliveryFields = {
  maxAttempts: int(1, 20, 'maxAttempts'),
  /** First retry delay; doubles at each attempt up to maxDelayMs (with ±20 % jitter). */
  initialDelayMs: int(10, 3_600_000, 'initialDelayMs'),
  maxDelayMs: int(10, 86_400_000, 'maxDelayMs'),
  queueSize: int(1, 100_000, 'queueSize'),
  concurrency: int(1, 32, 'concurrency'),
};
export const deliverySchema = z.strictObject({
  maxAttempts: deliveryFields.maxAttempts.default(5),
  initialDelayMs: deliveryFields.initialDelayMs.default(2000),
  maxDelayMs: deliveryFields.maxDelayMs.default(300_000),
  queueSize: deliveryFields.queueSize.default(1000),
  concurrency: deliveryFields.concurrency.default(2),
});
// Without defaults, so that a channel overrides only the keys it sets.
const deliveryOverrides = z.strictObject(deliveryFields).partial().optional();
export type DeliveryOptions = z.infer<typeof deliverySchema>;

/** Exactly one of the literal value and the environment variable naming it. */
function oneOf(value: string, env: string) {
  return (c: Record<string, unknown>, ctx: z.RefinementCtx) => {
    if (c[value] !== undefined && c[env] !== undefined) ctx.addIssue({ code: 'custom', path: [value], message: `expected either ${value} or ${env}, not both` });
  };
}

export const webhookChannelSchema = z
  .strictObject({
    type: z.literal('webhook'),
    url: url(['http:', 'https:']),
    /** Shared secret for the HMAC-SHA256 signature; prefer secretEnv so that it stays out of the file. */
    secret: z.string().min(16, 'expected a shared secret of at least 16 characters').optional(),
    secretEnv: envName.optional(),
    timeoutMs: int(100, 120_000, 'timeoutMs').default(5000),
    delivery: deliveryOverrides,
  })
  .superRefine((c, ctx) => {
    oneOf('secret', 'secretEnv')(c, ctx);
    if (c.secret === undefined && c.secretEnv === undefined) {
      ctx.addIssue({ code: 'custom', path: ['secretEnv'], message: 'expected secretEnv (an environment variable holding the shared secret) or secret' });
    }
  });

export const emailChannelSchema = z
  .strictObject({
    type: z.literal('email'),
    smtp: z
      .strictObject({
        /** smtp://host:587 or smtps://host:465; credentials are better given with user/passwordEnv. */
        url: url(['smtp:', 'smtps:']).optional(),
        host: z.string().min(1, 'expected a host name').optional(),
        port: int(1, 65_535, 'port').optional(),
        /** Implicit TLS (port 465). Without it, STARTTLS is required (see requireTLS). */
        secure: z.boolean({ error: 'expected true or false' }).optional(),
        /** Refuse to send unless the connection is upgraded with STARTTLS: true by default; false allows clear text (warned at start-up). */
        requireTLS: z.boolean({ error: 'expected true or false' }).optional(),
        user: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        passwordEnv: envName.optional(),
        timeoutMs: int(100, 120_000, 'timeoutMs').default(10_000),
      })
      .superRefine((s, ctx) => {
        if (!s.url && !s.host) ctx.addIssue({ code: 'custom', path: ['host'], message: 'expected host (or url) of the SMTP server' });
        if (s.url && s.host) ctx.addIssue({ code: 'custom', path: ['host'], message: 'expected either url or host, not both' });
        oneOf('password', 'passwordEnv')(s, ctx);
        if ((s.password !== undefined || s.passwordEnv !== undefined) && !s.user) ctx.addIssue({ code: 'custom', path: ['user'], message: 'expected user along with the password' });
      }),
    from: mailbox,
    to: z.array(email, { error: 'expected a list of e-mail addresses' }).min(1, 'expected at least one recipient'),
    /** Language of subject and body; a route can override it. */
    lang: z.enum(LANGS, { error: "expected 'fr' or 'en'" }).default('fr'),
    subjectPrefix: z.string().max(50).default('[Veilleur]'),
    delivery: deliveryOverrides,
  });

export const mqttChannelSchema = z.strictObject({
  type: z.literal('mqtt'),
  /** Placeholders {tenant} {site} {rule} {severity} {event}; published with QoS 1 on the service's broker connection. */
  topic: topicTemplate,
  delivery: deliveryOverrides,
});

export const channelSchema = z.discriminatedUnion('type', [webhookChannelSchema, emailChannelSchema, mqttChannelSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? "expected a channel with type 'webhook', 'email' or 'mqtt'" : undefined),
});
export type ChannelConfig = z.infer<typeof channelSchema>;
export type WebhookChannelConfig = z.infer<typeof webhookChannelSchema>;
export type EmailChannelConfig = z.infer<typeof emailChannelSchema>;
export type MqttChannelConfig = z.infer<typeof mqttChannelSchema>;

export const rateLimitSchema = z.strictObject({
  /** At most `max` notifications per `perMinutes` (a token bucket: bursts up to max, then max/perMinutes per minute). */
  max: int(1, 100_000, 'max'),
  perMinutes: z.number({ error: 'expected perMinutes: a number of minutes' }).positive('expected perMinutes above 0').max(10_080, 'expected perMinutes of at most 10080 (a week)').default(1),
});
export type RateLimit = z.infer<typeof rateLimitSchema>;
export const DEFAULT_RATE_LIMIT: RateLimit = { max: 20, perMinutes: 60 };

export const routeSchema = z.strictObject({
  /** For logs and metrics; defaults to `routes[i]`. */
  name: name.optional(),
  /** Each criterion left out matches everything; a list matches any of its values. */
  tenants: z.array(slug).min(1, 'expected at least one tenant (or leave tenants out)').optional(),
  sites: z.array(slug).min(1, 'expected at least one site (or leave sites out)').optional(),
  rules: z.array(z.string().min(1)).min(1, 'expected at least one rule id (or leave rules out)').optional(),
  categories: z.array(z.enum(CATEGORIES, { error: `expected one of ${CATEGORIES.join(', ')}` })).min(1).optional(),
  minSeverity: z.enum(SEVERITIES, { error: `expected one of ${SEVERITIES.join(', ')}` }).default('info'),
  events: z
    .array(z.enum(EVENT_TYPES, { error: `expected one of ${EVENT_TYPES.join(', ')}` }))
    .min(1, 'expected at least one event type')
    .default([...EVENT_TYPES]),
  channels: z.array(name, { error: 'expected a list of channel names' }).min(1, 'expected at least one channel'),
  lang: z.enum(LANGS, { error: "expected 'fr' or 'en'" }).optional(),
  rateLimit: rateLimitSchema.optional(),
});
export type RouteConfig = z.infer<typeof routeSchema>;

export const notificationsSchema = z
  .strictObject({
    /** Defaults for every channel; a channel's own `delivery` overrides them key by key. */
    delivery: deliverySchema.prefault({}),
    channels: z.record(name, channelSchema).default({}),
    routes: z.array(routeSchema).default([]),
  })
  .superRefine((n, ctx) => {
    const names = Object.keys(n.channels);
    n.routes.forEach((r, i) =>
      r.channels.forEach((c, j) => {
        if (!(c in n.channels)) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', i, 'channels', j],
            message: names.length ? `no channel named '${c}': expected one of ${names.join(', ')} (under notifications.channels)` : `no channel named '${c}': notifications.channels defines none`,
          });
        }
      }),
    );
    const routeNames = n.routes.map((r, i) => r.name ?? `routes[${i}]`);
    routeNames.forEach((r, i) => {
      if (routeNames.indexOf(r) !== i) ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `expected a unique route name ('${r}' is used twice)` });
    });
  });
export type NotificationsConfig = z.infer<typeof notificationsSchema>;
