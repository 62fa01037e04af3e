/**
 * The audit trail of actions: who (API key id and name, or the person signed in to the console), when, from which
 * client address, what (acknowledge, resolve, re-decode, retention change, report and CSV export, console sign-in
 * and sign-out), on which commune, with what outcome. One instance per service, shared by the API routes and the
 * web console (`ApiDeps.audit`).
 *
 * Records go through the service's spool like alert events (acknowledged to nobody until appended, replayed after
 * a crash), then to InfluxDB, measurement `action_log`, in the `actions` retention policy when retention is managed
 * (the writer moves them there), else the default one. A record names people and addresses (personal data): kept a
 * year by default (services/retention/classes.ts), never the API key itself.
 */
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { toCsv } from '../csv.ts';
import { nextAuditTime } from '../retention/audit.ts';
import { allRows, type InfluxTarget } from '../storage/influx.ts';
import { during, select, tagFilters, type Condition } from '../storage/influxql.ts';
import { int, line } from '../storage/line-protocol.ts';

export const AUDIT_ACTIONS = [
  'alert.acknowledge',
  'alert.resolve',
  'data.redecode',
  'retention.change',
  'report.export',
  'data.export',
  'audit.export',
  'console.sign-in',
  'console.sign-out',
  'key.create',
  'key.revoke',
  'key.rotate',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_OUTCOMES = ['success', 'refused', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const AUDIT_SOURCES = ['api', 'console'] as const;
export type AuditSource = (typeof AUDIT_SOURCES)[number];

/** Tenant value of records about the whole instance, or of attempts outside the actor's communes. */
export const INSTANCE = '*';

export const ACTION_LOG = {
  measurement: 'action_log',
  tags: ['tenant', 'action', 'outcome', 'source'] as const,
  fields: {
    key_id: 'string: the API key id used (the public part of the key), or claimed at a failed sign-in; oidc:<provider>:<subject> for a person signed in through single sign-on',
    actor: 'string: the key name, or the person signed in',
    ip: 'string: the client address (behind a proxy: as trustProxy resolves it)',
    target: 'string: what was acted on (alert id, site, device, report)',
    status: 'integer: the HTTP status answered',
    detail: 'string: comment, period, format, or why it was refused',
  },
} as const;

/** Columns of the CSV export (GET /api/v1/audit?format=csv). */
export const AUDIT_CSV_COLUMNS = ['time_utc', 'tenant', 'action', 'outcome', 'source', 'key_id', 'actor', 'ip', 'target', 'status', 'detail'] as const;

export interface AuditRecordInput {
  actor: { keyId?: string | undefined; name: string };
  action: AuditAction;
  /** The commune acted on, or several; undefined or '*': the whole instance (Principal.tenants' convention). */
  tenant: string | readonly string[] | ReadonlySet<string> | undefined;
  target?: string | undefined;
  ip: string;
  outcome: AuditOutcome;
  detail?: string | undefined;
  source?: AuditSource;
  status?: number | undefined;
}

export interface AuditRecord {
  at: Date;
  tenant: string;
  action: AuditAction;
  outcome: AuditOutcome;
  source: AuditSource;
  keyId: string;
  actor: string;
  ip: string;
  target: string;
  status: number | null;
  detail: string;
}

export interface AuditListQuery {
  /** Records of these communes only ('*' records are the instance's); undefined: every record. */
  tenants: readonly string[] | undefined;
  from: Date;
  to: Date;
  action?: AuditAction | undefined;
  outcome?: AuditOutcome | undefined;
  limit: number;
  offset?: number;
}

/** The key id in a presented `vk_<id>_<secret>` (public), never the secret; '' when it is not shaped like a key. */
export function claimedKeyId(presented: string | undefined): string {
  return /^vk_([a-z0-9]{8,32})_/.exec(presented?.trim() ?? '')?.[1] ?? '';
}

const clip = (s: string | undefined, n: number) => (s ?? '').slice(0, n);

function tenantsOf(t: AuditRecordInput['tenant']): string[] {
  if (t === undefined) return [INSTANCE];
  const list = typeof t === 'string' ? [t] : [...t];
  return list.length ? list : [INSTANCE];
}

/** Line protocol of a record (one line per commune it concerns). */
export function actionLines(r: AuditRecordInput, at: Date): string[] {
  return tenantsOf(r.tenant).map(
    (tenant) =>
      line(
        ACTION_LOG.measurement,
        { tenant, action: r.action, outcome: r.outcome, source: r.source ?? 'api' },
        {
          key_id: clip(r.actor.keyId, 200),
          actor: clip(r.actor.name, 200),
          ip: clip(r.ip, 64),
          target: clip(r.target, 200),
          status: r.status !== undefined ? int(r.status) : undefined,
          detail: clip(r.detail, 1000),
        },
        at.getTime(),
      )!,
  );
}

function recordFromRow(r: Record<string, unknown>): AuditRecord {
  const s = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : '');
  return {
    at: new Date(Number(r.time)),
    tenant: s('tenant'),
    action: s('action') as AuditAction,
    outcome: s('outcome') as AuditOutcome,
    source: (s('source') || 'api') as AuditSource,
    keyId: s('key_id'),
    actor: s('actor'),
    ip: s('ip'),
    target: s('target'),
    status: typeof r.status === 'number' ? r.status : null,
    detail: s('detail'),
  };
}

/** The JSON form of a record (API answers and JSON lines). */
export function auditView(r: AuditRecord) {
  return { time: r.at.toISOString(), tenant: r.tenant, action: r.action, outcome: r.outcome, source: r.source, keyId: r.keyId, actor: r.actor, ip: r.ip, target: r.target, status: r.status, detail: r.detail };
}

/** CSV through the shared formula-safe writer: actor names and comments come from people. */
export function auditCsv(records: readonly AuditRecord[]): string {
  return toCsv(
    AUDIT_CSV_COLUMNS,
    records.map((r) => ({ time_utc: r.at.toISOString(), tenant: r.tenant, action: r.action, outcome: r.outcome, source: r.source, key_id: r.keyId, actor: r.actor, ip: r.ip, target: r.target, status: r.status, detail: r.detail })),
  );
}

/** JSON lines (one record per line), what log collectors (SIEM) ingest. */
export function auditJsonLines(records: readonly AuditRecord[]): string {
  return records.map((r) => `${JSON.stringify({ ...auditView(r), product: 'veilleur', event: 'audit' })}\n`).join('');
}

export interface AuditLogOptions {
  /** Appends lines durably (the service's spool); false when it could not. */
  append(lines: string[]): boolean;
  influx: Pick<InfluxTarget, 'query'>;
  /** Retention policy the records end up in; undefined: the default one. */
  rp: string | undefined;
  log: Logger;
}

export class AuditLog {
  constructor(private readonly opts: AuditLogOptions) {}

  /** Records an action; never throws (an action already done is not undone by a full disk: the log keeps it). */
  record(r: AuditRecordInput): void {
    const lines = actionLines(r, nextAuditTime());
    let ok = false;
    try {
      ok = this.opts.append(lines);
    } catch {
      ok = false;
    }
    if (!ok) this.opts.log.error({ audit: lines }, 'audit record not appended to the spool; kept in this log line');
  }

  /** Records an action of a request: actor from the principal (or the key id claimed), address from the request. */
  ofRequest(
    req: FastifyRequest,
    principal: { keyId: string; name: string; tenants: ReadonlySet<string> | undefined } | undefined,
    r: Omit<AuditRecordInput, 'actor' | 'ip' | 'tenant' | 'outcome'> & { tenant?: AuditRecordInput['tenant']; outcome?: AuditOutcome; presentedKey?: string },
  ): void {
    const { presentedKey, ...rest } = r;
    this.record({
      ...rest,
      actor: principal ? { keyId: principal.keyId, name: principal.name } : { keyId: claimedKeyId(presentedKey), name: '' },
      ip: req.ip,
      // Without a principal the commune is unknown: an instance-level record.
      tenant: 'tenant' in r ? r.tenant : principal ? principal.tenants : INSTANCE,
      outcome: r.outcome ?? 'success',
    });
  }

  /** Records newest first. */
  async list(q: AuditListQuery): Promise<AuditRecord[]> {
    if (q.tenants?.length === 0) return [];
    const where: Condition[] = [
      ...during(q.from, q.to),
      ...(q.tenants !== undefined ? [{ tag: 'tenant', in: q.tenants }] : []),
      ...tagFilters({ action: q.action, outcome: q.outcome }),
    ];
    const limit = Math.max(1, Math.min(100_000, Math.trunc(q.limit)));
    const from = { measurement: ACTION_LOG.measurement, rp: this.opts.rp };
    const statement = select({ select: '*', from, where, order: 'desc', limit, ...(q.offset ? { offset: Math.trunc(q.offset) } : {}) });
    try {
      return allRows(await this.opts.influx.query(statement)).map(recordFromRow);
    } catch (err) {
      // Before retention is first applied the policy does not exist: nothing recorded there yet.
      if (/retention policy not found|database not found|bucket .*not found/i.test((err as Error).message)) return [];
      throw err;
    }
  }
}
