import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { findDevice } from '../../decoders/index.ts';
import { DEFAULT_TOPICS, envSchema, fileSchema, type Env, type FileConfig } from './schema.ts';
import type { InfluxSettings, InfluxV1, InfluxV2 } from '../storage/influx.ts';
import type { MqttSettings } from '../mqtt/consumer.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

// Each room declares the settings it uses; the configuration composes them.
export type { InfluxV1, InfluxV2 } from '../storage/influx.ts';

export interface Config {
  mqtt: MqttSettings;
  influx: InfluxSettings;
  write: { batchBytes: number; flushMs: number };
  http: {
    host: string;
    port: number;
    docsPublic: boolean;
    metricsPublic: boolean;
    rateLimitPerMinute: number;
    authFailuresPer15Min: number;
    heavyConcurrency: number;
    trustProxy: false | number | string[];
    corsOrigins: string[];
  };
  spool: { dir: string; maxBytes: number; segmentBytes: number; fsyncMs: number };
  logLevel: Env['LOG_LEVEL'];
  alerts: { enabled: boolean; mqttTopic: string; evalMinutes: number };
  defaultTenant: string;
  registry: FileConfig;
  /** Where the YAML came from, for messages. */
  configFile?: string;
}

function describeIssues(where: (path: PropertyKey[]) => string, error: z.ZodError): string {
  return error.issues.map((i) => `${where(i.path)}: ${i.message}`).join('\n');
}

/** Reads and validates the configuration; throws a ConfigError naming each variable or file path at fault. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty variables (FOO= in an env file) mean "not set", as in docker-compose.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsedEnv = envSchema.safeParse(cleaned);
  if (!parsedEnv.success) {
    throw new ConfigError(`invalid environment:\n${describeIssues((p) => `variable ${String(p[0])}`, parsedEnv.error)}`);
  }
  const e = parsedEnv.data;
  checkTlsFiles(e);
  const registry = e.VEILLEUR_CONFIG ? loadFile(e.VEILLEUR_CONFIG) : fileSchema.parse({});
  return {
    mqtt: {
      url: e.MQTT_URL,
      ...(e.MQTT_USERNAME ? { username: e.MQTT_USERNAME } : {}),
      ...(e.MQTT_PASSWORD ? { password: e.MQTT_PASSWORD } : {}),
      clientId: e.MQTT_CLIENT_ID,
      protocolVersion: e.MQTT_PROTOCOL_VERSION === '5' ? 5 : 4,
      topics: e.MQTT_TOPICS ?? DEFAULT_TOPICS,
      ...(e.MQTT_CA_FILE ? { caFile: e.MQTT_CA_FILE } : {}),
      ...(e.MQTT_CERT_FILE ? { certFile: e.MQTT_CERT_FILE } : {}),
      ...(e.MQTT_KEY_FILE ? { keyFile: e.MQTT_KEY_FILE } : {}),
      tlsInsecure: e.MQTT_TLS_INSECURE,
    },
    influx: { ...influxTarget(e), timeoutMs: e.INFLUX_TIMEOUT_MS, ...(e.INFLUX_CA_FILE ? { caFile: e.INFLUX_CA_FILE } : {}) },
    write: { batchBytes: e.WRITE_BATCH_KB * 1024, flushMs: e.WRITE_FLUSH_MS },
    http: {
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      docsPublic: e.HTTP_DOCS_PUBLIC,
      metricsPublic: e.HTTP_METRICS_PUBLIC,
      rateLimitPerMinute: e.HTTP_RATE_LIMIT_PER_MINUTE,
      authFailuresPer15Min: e.HTTP_AUTH_FAILURE_LIMIT,
      heavyConcurrency: e.HTTP_HEAVY_CONCURRENCY,
      trustProxy: e.HTTP_TRUST_PROXY,
      corsOrigins: e.HTTP_CORS_ORIGINS ?? [],
    },
    spool: { dir: e.DATA_DIR, maxBytes: e.SPOOL_MAX_MB * 1024 * 1024, segmentBytes: e.SPOOL_SEGMENT_MB * 1024 * 1024, fsyncMs: e.SPOOL_FSYNC_MS },
    logLevel: e.LOG_LEVEL,
    alerts: { enabled: e.ALERTS_ENABLED, mqttTopic: e.ALERT_MQTT_TOPIC, evalMinutes: e.ALERT_EVAL_MINUTES },
    defaultTenant: e.DEFAULT_TENANT,
    registry,
    ...(e.VEILLEUR_CONFIG ? { configFile: e.VEILLEUR_CONFIG } : {}),
  };
}

/**
 * The TLS files are read and tried at start-up: a wrong path, a key that is encrypted or does not match its
 * certificate would otherwise surface inside the MQTT or HTTP client after the service has half started.
 */
function checkTlsFiles(e: Env): void {
  type TlsVariable = 'MQTT_CA_FILE' | 'MQTT_CERT_FILE' | 'MQTT_KEY_FILE' | 'INFLUX_CA_FILE';
  const fail = (name: TlsVariable, why: string) => new ConfigError(`invalid environment:\nvariable ${name}: ${why}`);
  const read = (name: TlsVariable): Buffer | undefined => {
    const path = e[name];
    if (!path) return undefined;
    let pem: Buffer;
    try {
      pem = readFileSync(path);
    } catch (err) {
      throw fail(name, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    // Node takes a CA file without a single certificate in it silently, and then trusts nothing.
    if (name.endsWith('_CA_FILE') && !pem.includes('-----BEGIN CERTIFICATE-----')) throw fail(name, `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return pem;
  };
  const usable = (name: TlsVariable, options: SecureContextOptions, expected: string) => {
    try {
      createSecureContext(options);
    } catch (err) {
      throw fail(name, `${e[name] ?? ''}: expected ${expected} (${(err as Error).message})`);
    }
  };
  const mqttCa = read('MQTT_CA_FILE');
  const influxCa = read('INFLUX_CA_FILE');
  if (mqttCa) usable('MQTT_CA_FILE', { ca: mqttCa }, 'PEM CA certificates');
  if (influxCa) usable('INFLUX_CA_FILE', { ca: influxCa }, 'PEM CA certificates');
  if (!e.MQTT_CERT_FILE !== !e.MQTT_KEY_FILE) throw fail(e.MQTT_CERT_FILE ? 'MQTT_KEY_FILE' : 'MQTT_CERT_FILE', 'a client certificate needs both MQTT_CERT_FILE and MQTT_KEY_FILE');
  const cert = read('MQTT_CERT_FILE');
  const key = read('MQTT_KEY_FILE');
  if (cert && key) {
    usable('MQTT_CERT_FILE', { cert }, 'a PEM certificate');
    usable('MQTT_KEY_FILE', { cert, key }, 'the unencrypted PEM private key of MQTT_CERT_FILE');
  }
}

/** InfluxDB 2.x/3.x (token, org, bucket) is the production default; INFLUX_DB alone selects the 1.x API. */
function influxTarget(e: Env): InfluxV1 | InfluxV2 {
  const v2 = e.INFLUX_TOKEN !== undefined || e.INFLUX_ORG !== undefined || e.INFLUX_BUCKET !== undefined;
  if (v2) {
    const missing = (['INFLUX_TOKEN', 'INFLUX_ORG', 'INFLUX_BUCKET'] as const).filter((k) => !e[k]);
    if (missing.length) {
      throw new ConfigError(`invalid environment:\nvariable ${missing.join(', ')}: required for InfluxDB 2.x/3.x (set with INFLUX_TOKEN, INFLUX_ORG, INFLUX_BUCKET)`);
    }
    if (e.INFLUX_DB) throw new ConfigError('invalid environment:\nvariable INFLUX_DB: set either INFLUX_DB (InfluxDB 1.x) or INFLUX_TOKEN/INFLUX_ORG/INFLUX_BUCKET (2.x/3.x), not both');
    return { api: 'v2', url: e.INFLUX_URL, token: e.INFLUX_TOKEN!, org: e.INFLUX_ORG!, bucket: e.INFLUX_BUCKET! };
  }
  if (!e.INFLUX_DB) {
    throw new ConfigError(
      'invalid environment:\nvariable INFLUX_DB: no InfluxDB target; set INFLUX_TOKEN, INFLUX_ORG and INFLUX_BUCKET (InfluxDB 2.x/3.x) or INFLUX_DB (InfluxDB 1.x)',
    );
  }
  return {
    api: 'v1',
    url: e.INFLUX_URL,
    db: e.INFLUX_DB,
    ...(e.INFLUX_RP ? { rp: e.INFLUX_RP } : {}),
    ...(e.INFLUX_USERNAME ? { username: e.INFLUX_USERNAME } : {}),
    ...(e.INFLUX_PASSWORD ? { password: e.INFLUX_PASSWORD } : {}),
  };
}

export function loadFile(path: string): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`config file ${path}: not valid YAML: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`invalid config file:\n${describeIssues((p) => `${path}, path ${formatPath(p)}`, parsed.error)}`);
  }
  const problems = unknownDecoders(parsed.data);
  if (problems.length) throw new ConfigError(`invalid config file:\n${problems.map((p) => `${path}, path ${p}`).join('\n')}`);
  return parsed.data;
}

/** Decoder references that name no built-in decoder and no configured codec. */
function unknownDecoders(file: FileConfig): string[] {
  const codecs = new Set(file.codecs.map((c) => c.name));
  const check = (ref: string | undefined, where: string): string | undefined => {
    if (!ref) return undefined;
    if (ref.startsWith('codec:')) return codecs.has(ref.slice(6)) ? undefined : `${where}: no codec named '${ref.slice(6)}' under codecs`;
    const slash = ref.indexOf('/');
    return findDevice(ref.slice(0, slash), ref.slice(slash + 1)) ? undefined : `${where}: unknown decoder '${ref}' (\`veilleur devices\` lists them)`;
  };
  return [
    ...file.devices.map((d, i) => check(d.decoder, `devices[${i}].decoder`)),
    ...file.profiles.map((p, i) => check(p.decoder, `profiles[${i}].decoder`)),
  ].filter((x): x is string => x !== undefined);
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '') || '(root)';
}

/**
 * What is allowed but weakens security, said once at start-up: an unverified broker certificate, e-mail that may
 * travel in clear, a configuration file holding secrets that every user of the machine can read.
 */
export function startupWarnings(cfg: Config): string[] {
  const warnings: string[] = [];
  if (cfg.mqtt.tlsInsecure) warnings.push("MQTT_TLS_INSECURE=true: the broker's certificate is not verified, so anyone on the network path can read and forge uplinks (for tests only)");
  for (const [name, ch] of Object.entries(cfg.registry.notifications?.channels ?? {})) {
    if (ch.type === 'email' && ch.smtp.requireTLS === false && ch.smtp.secure !== true && !ch.smtp.url?.startsWith('smtps:')) {
      warnings.push(`notifications.channels.${name}.smtp.requireTLS is false: alert e-mails${ch.smtp.user ? ' and the SMTP password' : ''} may travel in clear`);
    }
  }
  if (cfg.configFile) {
    const secrets = secretPaths(cfg.registry);
    let mode: number | undefined;
    try {
      mode = statSync(cfg.configFile).mode;
    } catch {
      // read a moment ago; gone since: nothing to say about its permissions
    }
    if (mode !== undefined && secrets.length > 0 && (mode & 0o004) !== 0) {
      warnings.push(
        `config file ${cfg.configFile} holds secrets (${secrets.slice(0, 3).join(', ')}${secrets.length > 3 ? ', …' : ''}) and every user of the machine can read it (mode ${(mode & 0o777).toString(8)}): chmod o-r ${cfg.configFile}, or give the secrets through environment variables (passwordEnv, secretEnv, clientSecretEnv)`,
      );
    }
  }
  return warnings;
}

/** Paths of the configuration that hold a secret in clear: passwords, shared secrets, tokens, URLs with credentials. */
export function secretPaths(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretPaths(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const at = path ? `${path}.${k}` : k;
    if (typeof v === 'string') {
      if (/^(password|secret|token|apiKey|clientSecret)$/i.test(k)) return [at];
      if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i.test(v)) return [at];
      return [];
    }
    return secretPaths(v, at);
  });
}
