/**
 * The audit log of storage decisions: every change of a retention or of the rollup settings, with who made it,
 * when, on which data class, the old and new values and why. Stored in InfluxDB, measurement `audit_log` in the
 * `audit` retention policy, which is infinite: the log outlives the data it governs. It is written before the
 * change is applied (`applied=false`), then the same point (same tags and time) is rewritten with `applied=true`:
 * a change that failed half-way still leaves its trace.
 */
import { int, lineWithTags, tagString } from '../storage/line-protocol.ts';
import { allRows, type InfluxTarget } from '../storage/influx.ts';
import { select, tagFilters, type Condition } from '../storage/influxql.ts';
import { CLASSES, type DataClass } from './classes.ts';

export const AUDIT_LOG = {
  measurement: 'audit_log',
  rp: CLASSES.audit.rp!,
  tags: ['tenant', 'scope', 'setting', 'data_class', 'source'] as const,
  fields: {
    actor: 'string: who made the change (configuration `changedBy`, `--by`, API user), or how it was found',
    old_value: "string: the value before ('none' when the policy did not exist)",
    new_value: 'string: the value after',
    reason: 'string: why (required to shorten a retention or turn a rollup off)',
    applied: 'boolean: false until the change is in effect',
    detail: 'string: what was done in the database, or why it failed',
    seq: 'integer: order of the entries written by one change',
  },
} as const;

/** Tenant value of entries that concern every tenant (retention is per installation). */
export const ALL_TENANTS = '*';

export type AuditSource = 'config' | 'cli' | 'api' | 'external';
export type AuditScope = 'retention' | 'rollups';

export interface AuditEntry {
  at: Date;
  tenant: string;
  scope: AuditScope;
  /** `retention.raw`, `rollups.daily`… (the configuration path). */
  setting: string;
  dataClass?: DataClass;
  source: AuditSource;
  actor: string;
  oldValue: string;
  newValue: string;
  reason: string;
  applied: boolean;
  detail: string;
  seq: number;
}

export function auditLine(e: AuditEntry): string {
  const tags = tagString({ data_class: e.dataClass, scope: e.scope, setting: e.setting, source: e.source, tenant: e.tenant });
  return lineWithTags(
    AUDIT_LOG.measurement,
    tags,
    { actor: e.actor, old_value: e.oldValue, new_value: e.newValue, reason: e.reason, applied: e.applied, detail: e.detail, seq: int(e.seq) },
    e.at.getTime(),
  )!;
}

let lastAt = 0;
/** A time for a new entry, strictly after the previous one of this process: two entries never share a point. */
export function nextAuditTime(now = Date.now()): Date {
  lastAt = Math.max(now, lastAt + 1);
  return new Date(lastAt);
}

export async function writeAudit(influx: Pick<InfluxTarget, 'write'>, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await influx.write(Buffer.from(`${entries.map(auditLine).join('\n')}\n`), AUDIT_LOG.rp);
}

export interface AuditQuery {
  /** Entries of this tenant, and those that concern every tenant. */
  tenant?: string;
  from?: Date;
  to?: Date;
  scope?: AuditScope;
  dataClass?: DataClass;
  /** At most this many, newest first (default 1000). */
  limit?: number;
}

/** The audit log, newest first. What the HTTP API lists (`GET /v1/audit?tenant=&from=&to=`). */
export async function listAudit(influx: Pick<InfluxTarget, 'query'>, q: AuditQuery = {}): Promise<AuditEntry[]> {
  const where: Condition[] = [
    ...(q.from ? [{ time: '>=', at: q.from } as const] : []),
    ...(q.to ? [{ time: '<', at: q.to } as const] : []),
    ...(q.tenant !== undefined ? [{ tag: 'tenant', in: [q.tenant, ALL_TENANTS] }] : []),
    ...tagFilters({ scope: q.scope, data_class: q.dataClass }),
  ];
  const limit = Math.max(1, Math.min(100_000, Math.trunc(q.limit ?? 1000)));
  const series = await influx.query(select({ select: '*', from: AUDIT_LOG, where, order: 'desc', limit })).catch(noAuditPolicy);
  return allRows(series).map(entryFromRow);
}

/** Before the first start there is no audit policy yet: an empty log, not an error. */
function noAuditPolicy(err: unknown): never[] {
  if (/retention policy not found|database not found|bucket .*not found/i.test((err as Error).message)) return [];
  throw err;
}

function entryFromRow(r: Record<string, unknown>): AuditEntry {
  const s = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : '');
  return {
    at: new Date(Number(r.time)),
    tenant: s('tenant'),
    scope: s('scope') as AuditScope,
    setting: s('setting'),
    ...(s('data_class') ? { dataClass: s('data_class') as DataClass } : {}),
    source: s('source') as AuditSource,
    actor: s('actor'),
    oldValue: s('old_value'),
    newValue: s('new_value'),
    reason: s('reason'),
    applied: r.applied === true,
    detail: s('detail'),
    seq: Number(r.seq ?? 0),
  };
}

/** Latest entry per setting (applied or not), from the whole log: what Veilleur last decided for each. */
export async function latestAuditBySetting(influx: Pick<InfluxTarget, 'query'>): Promise<Map<string, AuditEntry>> {
  const series = await influx.query(select({ select: '*', from: AUDIT_LOG, where: [{ tag: 'tenant', equals: ALL_TENANTS }], groupBy: ['setting'], order: 'desc', limit: 1 }));
  const out = new Map<string, AuditEntry>();
  for (const s of series) {
    const row = Object.fromEntries(s.columns.map((c, i) => [c, s.values?.[0]?.[i]]));
    const e = entryFromRow({ ...row, ...s.tags });
    out.set(e.setting, e);
  }
  return out;
}
