/**
 * Configuration: environment variables (the 12-factor way, what docker-compose sets) and an optional YAML file
 * (`VEILLEUR_CONFIG`) for what does not fit in a variable: the device registry and per-profile decoders.
 * Every value is validated with zod at start-up; README.md lists each variable with its default.
 */
import { z } from 'zod';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { siteCalendarSchema } from '../time/calendar.ts';
import { siteRulesSchema } from '../alerts/settings.ts';
import { retentionSchema } from '../retention/config.ts';
import { notificationsSchema } from '../alerts/notify/config.ts';
import { apiKeyList } from '../api/keys-schema.ts';
import { reportsConfigSchema } from '../reports/config.ts';
import { oidcSchema } from '../console/oidc-config.ts';
import { topicTemplate } from '../mqtt/topic.ts';
import { clusterSchema } from '../cluster/config.ts';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const url = (protocols: string[]) =>
  z.string().refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

export const DEFAULT_TOPICS = [
  'application/+/device/+/event/up',
  'application/+/device/+/event/status',
  'application/+/device/+/event/join',
  'v3/+/devices/+/up',
  'v3/+/devices/+/join',
  // Device positions (docs/schema.md, device_location) and ThingPark's documented MQTT topic pattern.
  'application/+/device/+/event/location',
  'v3/+/devices/+/location/solved',
  'mqtt/things/+/uplink',
];

/** Variables and their defaults; the key is the variable name, so a zod path is the variable to fix. */
export const envSchema = z.object({
  MQTT_URL: url(['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:']).default('mqtt://127.0.0.1:1883'),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  MQTT_CLIENT_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 letters, digits, _ . -').default('veilleur'),
  MQTT_TOPICS: z
    .string()
    .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(z.string()).min(1, 'expected at least one topic'))
    .optional(),
  MQTT_PROTOCOL_VERSION: z.enum(['3.1.1', '5']).default('5'),
  MQTT_CA_FILE: z.string().optional(),
  MQTT_CERT_FILE: z.string().optional(),
  MQTT_KEY_FILE: z.string().optional(),
  MQTT_TLS_INSECURE: bool.default(false),

  INFLUX_URL: url(['http:', 'https:']).default('http://127.0.0.1:8086'),
  INFLUX_DB: z.string().min(1).optional(),
  INFLUX_RP: z.string().min(1).optional(),
  INFLUX_USERNAME: z.string().optional(),
  INFLUX_PASSWORD: z.string().optional(),
  INFLUX_TOKEN: z.string().min(1).optional(),
  INFLUX_ORG: z.string().min(1).optional(),
  INFLUX_BUCKET: z.string().min(1).optional(),
  INFLUX_TIMEOUT_MS: int(100, 600_000).default(10_000),
  INFLUX_CA_FILE: z.string().optional(),
  WRITE_BATCH_KB: int(1, 65_536).default(1024),
  WRITE_FLUSH_MS: int(1, 60_000).default(100),

  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: int(0, 65_535).default(8080),
  HTTP_DOCS_PUBLIC: bool.default(false),
  HTTP_METRICS_PUBLIC: bool.default(false),
  HTTP_RATE_LIMIT_PER_MINUTE: int(1, 1_000_000).default(600),
  HTTP_AUTH_FAILURE_LIMIT: int(1, 1_000_000).default(20),
  HTTP_HEAVY_CONCURRENCY: int(1, 64).default(2),
  /**
   * Reverse proxies whose X-Forwarded-For gives the client address: a hop count, or their addresses/CIDRs.
   * `true` (every address) is refused: any client could then choose its address and escape the throttles.
   */
  HTTP_TRUST_PROXY: z
    .string()
    .transform((s, ctx) => {
      const v = s.trim();
      if (v === 'false' || v === '0') return false;
      if (/^\d{1,2}$/.test(v)) return Number(v);
      const list = v.split(',').map((x) => x.trim()).filter(Boolean);
      const bad = list.find((x) => !/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(x) || (!x.includes('.') && !x.includes(':')));
      if (v === 'true' || bad !== undefined || list.length === 0) {
        ctx.addIssue({ code: 'custom', message: `expected the proxy's addresses or CIDRs separated by commas (e.g. 127.0.0.1,10.0.0.0/8), or a hop count; got '${bad ?? v}'` });
        return z.NEVER;
      }
      return list;
    })
    .default(false),
  HTTP_CORS_ORIGINS: z
    .string()
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'expected http(s) origins separated by commas' })))
    .optional(),
  DATA_DIR: z.string().default('./data'),
  SPOOL_MAX_MB: int(1, 1_048_576).default(1024),
  SPOOL_SEGMENT_MB: int(1, 4096).default(64),
  SPOOL_FSYNC_MS: int(0, 60_000).default(200),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ALERTS_ENABLED: bool.default(true),
  ALERT_EVAL_MINUTES: int(1, 1440).default(15),
  ALERT_MQTT_TOPIC: topicTemplate.default('veilleur/alerts/{tenant}/{rule}'),
  DEFAULT_TENANT: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected a lower-case slug').default('default'),
  VEILLEUR_CONFIG: z.string().optional(),
});

export type Env = z.infer<typeof envSchema>;

const devEui = z
  .string()
  .regex(/^[0-9a-fA-F]{16}$/, 'expected a DevEUI of 16 hexadecimal characters')
  .transform((s) => s.toLowerCase());
const slug = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'expected letters, digits, _ . - (at most 63)');

/** `vendor/model` of a built-in decoder (see `veilleur devices`), or `codec:<name>` of a custom codec. */
const decoderRef = z.string().regex(/^(codec:[A-Za-z0-9_.-]+|[^/:]+\/.+)$/, "expected 'vendor/model' (e.g. 'milesight/em300-di') or 'codec:<name>'");

const quantityId = z.enum(Object.keys(QUANTITIES) as [keyof typeof QUANTITIES, ...(keyof typeof QUANTITIES)[]]);

/** A custom TS013 codec and how its output fields map to canonical quantities. */
export const codecEntry = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,63}$/, 'expected letters, digits, _ . - (at most 63)'),
  /** JavaScript file defining decodeUplink; relative paths are relative to the configuration file. */
  file: z.string().min(1),
  /** LNS device-profile names decoded with this codec (devices can also name it: decoder: codec:<name>). */
  profiles: z.array(z.string().min(1)).default([]),
  timeoutMs: z.number().int().min(1).max(10_000).default(100),
  memoryMb: z.number().int().min(8).max(1024).default(32),
  readings: z
    .array(
      z.strictObject({
        /** Field of the codec's `data`, dotted for nested objects ('meter.index'). */
        field: z.string().min(1),
        quantity: quantityId,
        /** Multiplies the value into the quantity's unit (e.g. 1000 for m³ → L). */
        scale: z.number().finite().default(1),
        channel: z.string().min(1).max(32).optional(),
      }),
    )
    .default([]),
});
export type CodecEntry = z.infer<typeof codecEntry>;

/** A pulse input wired to a meter: each pulse is `perPulse` of the quantity (10 L, 1 Wh…). */
const pulseInput = z.strictObject({
  input: z.string().min(1).optional(),
  quantity: z.enum(['metering.water.total', 'metering.electricity.activeEnergy', 'metering.heat.total']),
  perPulse: z.number().positive(),
});

export const deviceEntry = z.strictObject({
  devEui,
  name: z.string().min(1).max(100).optional(),
  tenant: slug.optional(),
  decoder: decoderRef.optional(),
  site: slug.optional(),
  building: slug.optional(),
  zone: slug.optional(),
  role: slug.optional(),
  /** For pulse counters: what the counted pulses measure. */
  pulse: pulseInput.optional(),
});

export const profileEntry = z.strictObject({
  /** LNS device-profile name (ChirpStack) or `brand/model` version ids (TTS). */
  profile: z.string().min(1),
  decoder: decoderRef,
});

export const fileSchema = z.strictObject({
  /** Alert notifications: channels (webhook, e-mail, MQTT topic) and routes (docs/notifications.md). */
  notifications: notificationsSchema.optional(),
  /** Maps a network-server tenant / application to a Veilleur tenant (a commune). */
  tenants: z
    .array(
      z.strictObject({
        id: slug,
        /** What people read: "Commune de Saint-Veilleur" (the console, reports and alert texts never show the id). */
        name: z.string().trim().min(1).max(120).optional(),
        /** ChirpStack tenant names or ids (read from the event body), The Things Stack tenant ids (from the topic). */
        lnsTenants: z.array(z.string().min(1)).default([]),
        /**
         * Applications whose topic places an event in this commune, whatever its body says (README, "Communes and
         * network servers"): ChirpStack application ids as in `application/{id}/…`, The Things Stack `app@tenant`
         * (or `app` without a tenant) as in `v3/{app}@{tenant}/…`.
         */
        applications: z.array(z.string().min(1)).default([]),
      }),
    )
    .default([])
    .superRefine((tenants, ctx) => {
      // Mapped to two communes, an application would be stored under whichever came last: refuse instead.
      for (const key of ['lnsTenants', 'applications'] as const) {
        const owner = new Map<string, string>();
        tenants.forEach((t, i) =>
          t[key].forEach((value, j) => {
            const first = owner.get(value);
            if (first === undefined) owner.set(value, t.id);
            else if (first !== t.id) ctx.addIssue({ code: 'custom', path: [i, key, j], message: `'${value}' is already mapped to tenant '${first}': it can belong to one commune only` });
          }),
        );
      }
    }),
  /** API keys (hashes only): `veilleur keys create` prints an entry to paste here. */
  apiKeys: apiKeyList.default([]),
  devices: z.array(deviceEntry).default([]),
  profiles: z.array(profileEntry).default([]),
  codecs: z.array(codecEntry).default([]),
  /**
   * Occupancy calendars (opening hours, closures, public holidays, time zone) of sites, for the alert rules, and
   * per-site rule settings (`rules: { W1: { minLitresPerHour: 20 }, E3: { enabled: false } }`, services/alerts/settings.ts).
   */
  sites: z
    .array(
      z.strictObject({
        tenant: slug.optional(),
        site: slug,
        /** What people read: "École Jean-Jaurès" rather than `ecole-jaures`. */
        name: z.string().trim().min(1).max(120).optional(),
        calendar: siteCalendarSchema.prefault({}), rules: siteRulesSchema.optional(),
      }),
    )
    .default([]),
  /**
   * How long each data class is kept, which rollups are computed, who decided and why (services/retention).
   * Absent: Veilleur leaves InfluxDB's retention alone (data kept until someone decides) and computes no rollups.
   */
  retention: retentionSchema.optional(),
  /** What the yearly report needs beyond data: décret tertiaire reference years, PUE categories (docs/reports.md). */
  reports: reportsConfigSchema.optional(),
  /** Single sign-on to the console (OpenID Connect): providers and the claim that maps people to communes and roles. */
  oidc: oidcSchema.optional(),
  /** Several replicas on NATS JetStream (services/cluster/config.ts); absent: one process, as before. */
  cluster: clusterSchema.optional(),
});

export type FileConfig = z.infer<typeof fileSchema>;
export type DeviceEntry = z.infer<typeof deviceEntry>;
