/**
 * InfluxDB access for every supported version, through @influxdata/influxdb-client's transport (keep-alive, TLS,
 * timeouts, HTTP errors with Retry-After).
 * - writes: the same line protocol, ms precision, to `/api/v2/write` (2.x, and 3.x's v2 compatibility) or to
 *   `/write` (1.x: Debian's 1.6 has no /api/v2/write);
 * - reads: InfluxQL over `/query`, which 1.x, 2.x (v1 compatibility, DBRP) and 3.x all accept.
 */
import { readFileSync } from 'node:fs';
import { HttpError, InfluxDB, type Transport } from '@influxdata/influxdb-client';

/** InfluxDB 1.x: a database and its optional retention policy (`INFLUX_DB`, `INFLUX_RP`, credentials). */
export interface InfluxV1 {
  api: 'v1';
  url: string;
  db: string;
  rp?: string;
  username?: string;
  password?: string;
}
/** InfluxDB 2.x/3.x: a token, an organisation and a bucket (3.x: bucket = database). */
export interface InfluxV2 {
  api: 'v2';
  url: string;
  token: string;
  org: string;
  bucket: string;
}
/** What storage needs of the configuration to reach InfluxDB (config/load.ts reads it from the environment). */
export type InfluxSettings = (InfluxV1 | InfluxV2) & { timeoutMs: number; caFile?: string };

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Each series' tags, with its rows as column → value objects. */
export function seriesRows(series: InfluxSeries[]): { tags: Record<string, string>; rows: Record<string, unknown>[] }[] {
  return series.map((s) => ({ tags: s.tags ?? {}, rows: s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))) }));
}

/** Every row of every series, as column → value objects. */
export function allRows(series: InfluxSeries[]): Record<string, unknown>[] {
  return seriesRows(series).flatMap((s) => s.rows);
}

export interface InfluxTarget {
  /** A short description without secrets, for logs. */
  readonly describe: string;
  /** The database name InfluxQL queries run against (1.x database, 2.x/3.x bucket). */
  readonly database: string;
  /**
   * Line protocol, as bytes (never turned into a JS string: batches are megabytes). `rp` addresses another retention
   * policy of the same database (1.x `/write?rp=`), or on 2.x/3.x the bucket/database `<bucket>/<rp>` (their v1
   * DBRP naming), so InfluxQL reads it as `"rp"."measurement"` on every version. Without it: the configured target.
   */
  write(body: Buffer, rp?: string): Promise<void>;
  /** One InfluxQL statement; throws on an error in the result. Times are epoch milliseconds. */
  query(q: string): Promise<InfluxSeries[]>;
  ping(): Promise<boolean>;
}

export function createInfluxTarget(cfg: InfluxSettings): InfluxTarget {
  const ca = cfg.caFile ? readFileSync(cfg.caFile) : undefined;
  const client = new InfluxDB({
    url: cfg.url,
    ...(cfg.api === 'v2' ? { token: cfg.token } : {}),
    timeout: cfg.timeoutMs,
    transportOptions: { ...(ca ? { ca } : {}) },
  });
  const transport: Transport = client.transport;
  const auth: Record<string, string> =
    cfg.api === 'v1' && cfg.username ? { Authorization: `Basic ${Buffer.from(`${cfg.username}:${cfg.password ?? ''}`).toString('base64')}` } : {};
  const database = cfg.api === 'v1' ? cfg.db : cfg.bucket;
  const writePathFor = (rp: string | undefined) => {
    if (cfg.api === 'v2') return `/api/v2/write?${new URLSearchParams({ org: cfg.org, bucket: rp ? `${cfg.bucket}/${rp}` : cfg.bucket, precision: 'ms' })}`;
    const policy = rp ?? cfg.rp;
    return `/write?${new URLSearchParams({ db: cfg.db, precision: 'ms', ...(policy ? { rp: policy } : {}) })}`;
  };
  const writePath = writePathFor(undefined);
  const queryDb: Record<string, string> = cfg.api === 'v1' ? { db: cfg.db, ...(cfg.rp ? { rp: cfg.rp } : {}) } : { db: cfg.bucket };

  return {
    describe: cfg.api === 'v1' ? `InfluxDB 1.x ${cfg.url} db=${cfg.db}` : `InfluxDB 2.x/3.x ${cfg.url} org=${cfg.org} bucket=${cfg.bucket}`,
    database,
    write(body, rp) {
      const path = rp === undefined ? writePath : writePathFor(rp);
      // transport.send copies the body with Buffer.from, which takes bytes as well as text: a multi-megabyte batch
      // never becomes a V8 string (request() would JSON-encode a non-string body).
      return new Promise((resolve, reject) => {
        transport.send(path, body as unknown as string, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8', ...auth } }, {
          error: reject,
          complete: () => resolve(),
        });
      });
    },
    async query(q) {
      const body = new URLSearchParams({ ...queryDb, q, epoch: 'ms' }).toString();
      const res = (await transport.request('/query', body, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...auth },
      })) as { error?: string; results?: { error?: string; series?: InfluxSeries[] }[] };
      const err = res.error ?? res.results?.find((r) => r.error)?.error;
      if (err) throw new Error(`InfluxQL error: ${err}`);
      return res.results?.flatMap((r) => r.series ?? []) ?? [];
    },
    async ping() {
      try {
        await transport.request('/ping', '', { method: 'GET', headers: auth });
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * Whether a failed write should be retried: network errors, timeouts, 408, 429 and 5xx are transient. Other 4xx
 * (bad line protocol, field type conflict, partial write) will fail the same way forever: InfluxDB has stored the
 * valid lines of the batch and rejected the rest, so retrying would only block the spool.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof HttpError) return err.statusCode === 408 || err.statusCode === 429 || err.statusCode >= 500;
  return true;
}

/** The server's Retry-After, in ms, when it sent one. */
export function retryAfterMs(err: unknown): number | undefined {
  if (err instanceof HttpError && err.retryAfter() > 0) return err.retryAfter();
  return undefined;
}

