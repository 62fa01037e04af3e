/** What the API needs from the running service; tests build it around a real InfluxDB. */
import type { FileConfig } from '../config/schema.ts';
import type { AlertBook, AlertEvent } from '../alerts/lifecycle.ts';
import type { StreamRule } from '../alerts/stream-rules.ts';
import type { WindowContext, WindowedRule } from '../alerts/windowed-rules.ts';
import type { RedecodeOptions, RedecodeReport } from '../pipeline/redecode.ts';
import type { InfluxTarget } from '../storage/influx.ts';
import type { KeyRing } from './keys.ts';

export interface AlertsAccess {
  book: AlertBook;
  /** Stores (through the spool) and notifies events caused by hand: acknowledge, resolve. */
  record(events: AlertEvent[]): void;
  streamRules: StreamRule[];
  windowedRules: WindowedRule[];
  calendarFor: WindowContext['calendarFor'];
}

export interface ApiOptions {
  /** Serve /docs without a key (the OpenAPI document holds no data). */
  docsPublic: boolean;
  /** Serve /metrics without a key (else an instance-wide key). */
  metricsPublic: boolean;
  rateLimitPerMinute: number;
  /** Origins allowed by CORS; empty: no CORS headers at all. */
  corsOrigins: string[];
}

export interface ApiDeps {
  keys: KeyRing;
  influx: Pick<InfluxTarget, 'query'>;
  registry: FileConfig;
  defaultTenant: string;
  alerts?: AlertsAccess | undefined;
  redecode?: ((opts: RedecodeOptions) => Promise<RedecodeReport>) | undefined;
  options: ApiOptions;
}
