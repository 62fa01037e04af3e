/** What the API needs from the running service; tests build it around a real InfluxDB. */
import type { FileConfig } from '../config/schema.ts';
import type { AlertBook, AlertEvent } from '../alerts/lifecycle.ts';
import type { WindowContext } from '../alerts/rules/define.ts';
import type { RedecodeOptions, RedecodeReport } from '../pipeline/redecode.ts';
import type { InfluxSettings, InfluxTarget } from '../storage/influx.ts';
import type { RetentionConfig } from '../retention/config.ts';
import type { KeyRing } from './keys.ts';
import type { ConcurrencyLimit, RequestThrottle } from './throttle.ts';
import type { AuditLog } from '../audit/trail.ts';

export interface AlertsAccess {
  book: AlertBook;
  /**
   * Stores (through the spool) and notifies events caused by hand: acknowledge, resolve. Resolves to the events
   * recorded: with several replicas, one that another replica recorded a change of the same alert before (two people
   * at once), or that NATS could not confirm, is left out. Never rejects.
   */
  record(events: AlertEvent[]): Promise<AlertEvent[]>;
  calendarFor: WindowContext['calendarFor'];
  rulesFor?: WindowContext['rulesFor'];
}

export interface ApiOptions {
  /** Serve /docs without a key (the OpenAPI document holds no data). */
  docsPublic: boolean;
  /** Serve /metrics without a key (else an instance-wide key). */
  metricsPublic: boolean;
  rateLimitPerMinute: number;
  /** Failed authentications per client address per 15 minutes (default 20); beyond, 429 until the window ends. */
  authFailuresPer15Min?: number | undefined;
  /** Reverse proxies whose X-Forwarded-For is believed (Fastify's trustProxy): addresses/CIDRs or a hop count. */
  trustProxy?: boolean | number | string[] | undefined;
  /** Heavy requests (year-long backtests and reports, re-decoding) running at once (default 2). */
  heavyConcurrency?: number | undefined;
  /** Origins allowed by CORS; empty: no CORS headers at all. */
  corsOrigins: string[];
}

/**
 * What the API and the console read of the configuration file: communes, devices, sites (names, calendars) and the
 * reports section. Not the API keys (the KeyRing has them), codecs, notification channels or single sign-on secrets.
 */
export type ApiRegistry = Pick<FileConfig, 'tenants' | 'devices' | 'sites' | 'reports'>;

/** The part of the configuration file the API is given (a new object: the rest of the file does not reach it). */
export function apiRegistry(file: ApiRegistry): ApiRegistry {
  return { tenants: file.tenants, devices: file.devices, sites: file.sites, reports: file.reports };
}

export interface ApiDeps {
  keys: KeyRing;
  influx: Pick<InfluxTarget, 'query'>;
  registry: ApiRegistry;
  defaultTenant: string;
  alerts?: AlertsAccess | undefined;
  /** Retention settings and their audit log (absent from tests that do not need them). */
  retention?: { influx: Pick<InfluxTarget, 'query' | 'write'>; influxConfig: InfluxSettings; settings: RetentionConfig | undefined } | undefined;
  redecode?: ((opts: RedecodeOptions) => Promise<RedecodeReport>) | undefined;
  /** The audit trail of actions, shared by the API and the console (absent: nothing is recorded). */
  audit?: AuditLog | undefined;
  options: ApiOptions;
  /** Per-address budgets, shared with the console's sign-in (throttle.ts, `requestThrottle`); made on first use. */
  throttle?: RequestThrottle | undefined;
  /** The slots of heavy requests; made on first use. */
  heavy?: ConcurrencyLimit | undefined;
}
