/**
 * Where retention is applied, per InfluxDB version:
 * - 1.x (run and tested here): one retention policy per class in the database, with InfluxQL
 *   (`SHOW RETENTION POLICIES`, `CREATE/ALTER RETENTION POLICY`, `SHOW SHARDS`). Needs an admin user when
 *   authentication is on.
 * - 2.x (written against the documented HTTP API, NOT run here: no 2.x server on this machine): one bucket per class
 *   named `<bucket>/<rp>` (the raw class is INFLUX_BUCKET itself), retention = the bucket's expire rule
 *   (`GET/POST /api/v2/buckets`, `PATCH /api/v2/buckets/{id}`). InfluxQL reaches `<bucket>/<rp>` through the virtual
 *   DBRP mapping of OSS ≥ 2.4 (database `<bucket>`, policy `<rp>`). The token must be allowed to read and write buckets.
 * - 3.x (NOT run here): databases `<bucket>/<rp>` (3.x's DBRP naming convention), created with their retention by
 *   `POST /api/v3/configure/database`. Core cannot change a database's retention after creation: a change to an
 *   existing one is refused with the command to run by hand (Enterprise: `influxdb3 update database`).
 */
import { InfluxDB } from '@influxdata/influxdb-client';
import { readFileSync } from 'node:fs';
import type { InfluxSettings, InfluxTarget } from '../storage/influx.ts';
import { alterRetentionPolicy, createRetentionPolicy, showRetentionPolicies, showShards } from '../storage/influxql.ts';
import { CLASSES, DATA_CLASSES, formatDuration, goDurationMs, influxqlDuration, influxqlHours, shardGroupMs, type DataClass } from './classes.ts';

export type BackendKind = 'influxdb-1' | 'influxdb-2' | 'influxdb-3';

export interface RetentionBackend {
  readonly kind: BackendKind;
  /** Where a class lives, for people ('retention policy "rollup_1h" of database "veilleur"'). */
  location(cls: DataClass): string;
  /**
   * Applied retention of each class in ms (Infinity: forever); absent when its policy does not exist yet; NaN when the
   * server cannot tell (3.x).
   */
  applied(): Promise<Partial<Record<DataClass, number>>>;
  /** Whether the class's policy holds any data (an empty one loses nothing when shortened). */
  holdsData(cls: DataClass): Promise<boolean>;
  /** Creates or changes the class's policy; returns what was done, for the audit log. */
  apply(cls: DataClass, ms: number, exists: boolean): Promise<string>;
}

export class RetentionBackendError extends Error {
  override name = 'RetentionBackendError';
}

// ---------------------------------------------------------------------------------------------------------
// InfluxDB 1.x

export class InfluxV1Retention implements RetentionBackend {
  readonly kind = 'influxdb-1';
  private rawRp: string | undefined;

  constructor(
    private readonly influx: Pick<InfluxTarget, 'query'>,
    private readonly db: string,
    /** INFLUX_RP: the policy raw data is written to; otherwise the database's default policy. */
    configuredRp?: string,
  ) {
    this.rawRp = configuredRp;
  }

  private rpOf(cls: DataClass): string {
    const rp = CLASSES[cls].rp ?? this.rawRp;
    if (!rp) throw new RetentionBackendError(`database "${this.db}" has no default retention policy`);
    return rp;
  }

  location(cls: DataClass): string {
    return `retention policy "${CLASSES[cls].rp ?? this.rawRp ?? '(default)'}" of database "${this.db}"`;
  }

  async applied(): Promise<Partial<Record<DataClass, number>>> {
    let series;
    try {
      series = await this.influx.query(showRetentionPolicies(this.db));
    } catch (err) {
      throw new RetentionBackendError(`cannot read the retention policies of database "${this.db}" (does it exist?): ${(err as Error).message}`);
    }
    const byName = new Map<string, { ms: number; isDefault: boolean }>();
    for (const s of series) {
      const col = (c: string) => s.columns.indexOf(c);
      for (const v of s.values ?? []) byName.set(String(v[col('name')]), { ms: goDurationMs(String(v[col('duration')])), isDefault: v[col('default')] === true });
    }
    this.rawRp ??= [...byName].find(([, p]) => p.isDefault)?.[0];
    const out: Partial<Record<DataClass, number>> = {};
    for (const cls of DATA_CLASSES) {
      const rp = CLASSES[cls].rp ?? this.rawRp;
      const p = rp ? byName.get(rp) : undefined;
      if (p) out[cls] = p.ms;
    }
    return out;
  }

  async holdsData(cls: DataClass): Promise<boolean> {
    const rp = this.rpOf(cls);
    const series = await this.influx.query(showShards());
    for (const s of series) {
      const db = s.columns.indexOf('database');
      const pol = s.columns.indexOf('retention_policy');
      if ((s.values ?? []).some((v) => v[db] === this.db && v[pol] === rp)) return true;
    }
    return false;
  }

  async apply(cls: DataClass, ms: number, exists: boolean): Promise<string> {
    const rp = this.rpOf(cls);
    const policy = { name: rp, database: this.db, duration: influxqlDuration(ms), shardDuration: influxqlHours(shardGroupMs(ms, cls)) };
    const statement = exists ? alterRetentionPolicy(policy) : createRetentionPolicy(policy);
    await this.influx.query(statement);
    return statement;
  }
}

// ---------------------------------------------------------------------------------------------------------
// InfluxDB 2.x and 3.x (HTTP APIs; not run on this machine)

type InfluxV2Config = Extract<InfluxSettings, { api: 'v2' }>;

interface HttpApi {
  request(method: string, path: string, body?: unknown): Promise<unknown>;
}

function httpApi(cfg: InfluxV2Config): { api: HttpApi; version(): Promise<string> } {
  const ca = cfg.caFile ? readFileSync(cfg.caFile) : undefined;
  const client = new InfluxDB({ url: cfg.url, token: cfg.token, timeout: cfg.timeoutMs, transportOptions: { ...(ca ? { ca } : {}) } });
  const t = client.transport;
  return {
    api: {
      request: (method, path, body) =>
        t.request(path, body === undefined ? '' : JSON.stringify(body), { method, headers: { 'content-type': 'application/json', accept: 'application/json' } }) as Promise<unknown>,
    },
    async version() {
      let version = '';
      await t.request('/ping', '', { method: 'GET' }, (headers) => {
        const v = headers['x-influxdb-version'];
        version = Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
      });
      return version;
    },
  };
}

const bucketName = (cfg: InfluxV2Config, cls: DataClass) => (CLASSES[cls].rp ? `${cfg.bucket}/${CLASSES[cls].rp}` : cfg.bucket);

interface Bucket {
  id: string;
  name: string;
  retentionRules?: { type: string; everySeconds: number }[];
}

export class InfluxV2Retention implements RetentionBackend {
  readonly kind = 'influxdb-2';
  private orgId: string | undefined;

  constructor(
    private readonly cfg: InfluxV2Config,
    private readonly api: HttpApi,
  ) {}

  location(cls: DataClass): string {
    return `bucket "${bucketName(this.cfg, cls)}" of organisation "${this.cfg.org}"`;
  }

  private async org(): Promise<string> {
    if (!this.orgId) {
      const r = (await this.api.request('GET', `/api/v2/orgs?${new URLSearchParams({ org: this.cfg.org })}`)) as { orgs?: { id: string }[] };
      this.orgId = r.orgs?.[0]?.id;
      if (!this.orgId) throw new RetentionBackendError(`organisation "${this.cfg.org}" not found`);
    }
    return this.orgId;
  }

  private async bucket(cls: DataClass): Promise<Bucket | undefined> {
    const r = (await this.api.request('GET', `/api/v2/buckets?${new URLSearchParams({ orgID: await this.org(), name: bucketName(this.cfg, cls) })}`)) as { buckets?: Bucket[] };
    return r.buckets?.find((b) => b.name === bucketName(this.cfg, cls));
  }

  async applied(): Promise<Partial<Record<DataClass, number>>> {
    const out: Partial<Record<DataClass, number>> = {};
    for (const cls of DATA_CLASSES) {
      const b = await this.bucket(cls);
      if (!b) continue;
      const seconds = b.retentionRules?.find((r) => r.type === 'expire')?.everySeconds ?? 0;
      out[cls] = seconds > 0 ? seconds * 1000 : Infinity;
    }
    return out;
  }

  async holdsData(cls: DataClass): Promise<boolean> {
    // No cheap way to tell on 2.x: an existing bucket is assumed to hold data (a reason is then required).
    return (await this.bucket(cls)) !== undefined;
  }

  async apply(cls: DataClass, ms: number, exists: boolean): Promise<string> {
    const retentionRules = [{ type: 'expire', everySeconds: Number.isFinite(ms) ? Math.round(ms / 1000) : 0, shardGroupDurationSeconds: Math.round(shardGroupMs(ms, cls) / 1000) }];
    const b = exists ? await this.bucket(cls) : undefined;
    if (b) {
      await this.api.request('PATCH', `/api/v2/buckets/${encodeURIComponent(b.id)}`, { retentionRules });
      return `PATCH /api/v2/buckets/${b.id} (${b.name}) expire after ${formatDuration(ms)}`;
    }
    await this.api.request('POST', '/api/v2/buckets', { orgID: await this.org(), name: bucketName(this.cfg, cls), retentionRules });
    return `POST /api/v2/buckets ${bucketName(this.cfg, cls)} expire after ${formatDuration(ms)}`;
  }
}

export class InfluxV3Retention implements RetentionBackend {
  readonly kind = 'influxdb-3';

  constructor(
    private readonly cfg: InfluxV2Config,
    private readonly api: HttpApi,
  ) {}

  location(cls: DataClass): string {
    return `database "${bucketName(this.cfg, cls)}"`;
  }

  private async databases(): Promise<Set<string>> {
    const r = (await this.api.request('GET', '/api/v3/configure/database?format=json')) as Record<string, unknown>[];
    return new Set((Array.isArray(r) ? r : []).map((row) => String(Object.values(row)[0] ?? '')));
  }

  async applied(): Promise<Partial<Record<DataClass, number>>> {
    const dbs = await this.databases();
    const out: Partial<Record<DataClass, number>> = {};
    // The listing does not give retention periods: existing databases are "unknown" (NaN).
    for (const cls of DATA_CLASSES) if (dbs.has(bucketName(this.cfg, cls))) out[cls] = NaN;
    return out;
  }

  async holdsData(cls: DataClass): Promise<boolean> {
    return (await this.databases()).has(bucketName(this.cfg, cls));
  }

  async apply(cls: DataClass, ms: number, exists: boolean): Promise<string> {
    const name = bucketName(this.cfg, cls);
    const period = Number.isFinite(ms) ? formatDuration(ms) : 'none';
    if (exists) {
      throw new RetentionBackendError(
        `InfluxDB 3 cannot change the retention of existing database "${name}" from Veilleur; Core: create a new database and migrate, Enterprise: influxdb3 update database --database ${name} --retention-period ${period}`,
      );
    }
    await this.api.request('POST', '/api/v3/configure/database', { db: name, ...(Number.isFinite(ms) ? { retention_period: period } : {}) });
    return `POST /api/v3/configure/database ${name} retention_period ${period}`;
  }
}

/** The backend for the configured InfluxDB (2.x and 3.x told apart by the version /ping reports). */
export async function retentionBackend(cfg: InfluxSettings, influx: Pick<InfluxTarget, 'query'>): Promise<RetentionBackend> {
  if (cfg.api === 'v1') return new InfluxV1Retention(influx, cfg.db, cfg.rp);
  const { api, version } = httpApi(cfg);
  const v = await version().catch(() => '');
  return /^v?3/.test(v) ? new InfluxV3Retention(cfg, api) : new InfluxV2Retention(cfg, api);
}
