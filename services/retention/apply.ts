/**
 * Applying retention and rollup settings: compare what is wanted (configuration file at start-up, `veilleur
 * retention set`, the HTTP API) with what InfluxDB has, refuse what needs a reason and has none, record each
 * difference in the audit log, then apply it.
 *
 * Rules:
 * - shortening a retention deletes data: refused without a reason, unless the policy holds no data at all (a fresh
 *   installation, where the defaults apply by themselves);
 * - turning a rollup off means data older than the raw retention is no longer kept at all: refused without a reason;
 * - a change seen in InfluxDB that Veilleur did not make (someone ran ALTER RETENTION POLICY) is recorded as
 *   `source=external` before anything else, so the log explains every value the database ever had;
 * - the whole request is checked before anything is applied: a refused request changes nothing.
 */
import { hostname, userInfo } from 'node:os';
import type { Logger } from 'pino';
import type { InfluxSettings, InfluxTarget } from '../storage/influx.ts';
import { ALL_TENANTS, latestAuditBySetting, nextAuditTime, writeAudit, type AuditEntry, type AuditScope, type AuditSource } from './audit.ts';
import { retentionBackend, RetentionBackendError, type BackendKind, type RetentionBackend } from './backend.ts';
import { CLASSES, CONFIGURABLE_CLASSES, DATA_CLASSES, durationMs, formatDuration, type ConfigurableClass, type DataClass } from './classes.ts';
import type { RetentionConfig, RollupSettings } from './config.ts';

/** A change refused (shortening without a reason): names each setting at fault. */
export class RetentionError extends Error {
  override name = 'RetentionError';
  constructor(
    message: string,
    readonly settings: string[],
  ) {
    super(message);
  }
}

/** The rollup settings whose changes are recorded (the others only tune when work is done). */
export const AUDITED_ROLLUP_SETTINGS = ['hourly', 'daily', 'timeZone'] as const;
type AuditedRollupSetting = (typeof AUDITED_ROLLUP_SETTINGS)[number];

export interface ChangeRequest {
  /** Wanted retention per class (a duration text); classes left out are not touched. */
  retention: Partial<Record<ConfigurableClass, string>>;
  rollups?: Partial<Pick<RollupSettings, AuditedRollupSetting>>;
  actor: string;
  reason?: string;
  source: AuditSource;
  /** Entries concern every tenant unless said otherwise. */
  tenant?: string;
}

export interface PlannedChange {
  scope: AuditScope;
  setting: string;
  dataClass?: DataClass;
  oldValue: string;
  newValue: string;
  kind: 'create' | 'shorten' | 'lengthen' | 'set';
  needsReason: boolean;
  /** Why it was refused, when it needs a reason. */
  problem?: string;
  /** Retention: whether the policy exists (alter) or not (create). */
  exists?: boolean;
}

export interface RetentionReport {
  backend: BackendKind;
  /** What was recorded and applied, in order. */
  entries: AuditEntry[];
}

export interface RetentionDeps {
  influx: Pick<InfluxTarget, 'query' | 'write'>;
  influxConfig: InfluxSettings;
  log?: Logger;
  /** Tests and tools may pass a backend; otherwise chosen from the InfluxDB version. */
  backend?: RetentionBackend;
}

const NONE = 'none';

const settingOf = (cls: DataClass) => `retention.${cls}`;

function valueText(ms: number | undefined, fallback?: string): string {
  if (ms === undefined) return NONE;
  if (Number.isNaN(ms)) return fallback ?? 'unknown';
  return formatDuration(ms);
}

/** Compares wanted and applied values; nothing is written. */
export async function planChanges(
  backend: RetentionBackend,
  applied: Partial<Record<DataClass, number>>,
  latest: Map<string, AuditEntry>,
  req: ChangeRequest,
): Promise<PlannedChange[]> {
  const out: PlannedChange[] = [];
  // The audit policy first: every other entry is written there.
  const wanted: [DataClass, string][] = [['audit', CLASSES.audit.default], ...CONFIGURABLE_CLASSES.filter((c) => req.retention[c] !== undefined).map((c) => [c, req.retention[c]!] as [DataClass, string])];
  for (const [cls, text] of wanted) {
    const want = durationMs(text);
    if (want === undefined) throw new RetentionError(`${settingOf(cls)}: expected a duration like '90d', '2w', '36h' or 'inf', got '${text}'`, [settingOf(cls)]);
    const min = durationMs(CLASSES[cls].minimum.duration)!;
    if (want < min) throw new RetentionError(`${settingOf(cls)}: expected at least ${CLASSES[cls].minimum.duration} (${CLASSES[cls].minimum.why}), got '${text}'`, [settingOf(cls)]);
    let have = applied[cls];
    // 3.x cannot tell a database's retention: trust what Veilleur last recorded for it.
    if (have !== undefined && Number.isNaN(have)) have = durationMs(latest.get(settingOf(cls))?.newValue ?? '') ?? NaN;
    const oldValue = valueText(have);
    const newValue = formatDuration(want);
    if (oldValue === newValue) continue;
    const base = { scope: 'retention' as const, setting: settingOf(cls), dataClass: cls, oldValue, newValue, exists: have !== undefined };
    if (have === undefined) out.push({ ...base, kind: 'create', needsReason: false });
    else if (Number.isNaN(have) || want > have) out.push({ ...base, kind: 'lengthen', needsReason: false });
    else {
      const holds = await backend.holdsData(cls);
      out.push({
        ...base,
        kind: 'shorten',
        needsReason: holds,
        ...(holds ? { problem: `shortening from ${oldValue} to ${newValue} deletes the data older than ${newValue} in ${backend.location(cls)}` } : {}),
      });
    }
  }
  for (const key of AUDITED_ROLLUP_SETTINGS) {
    const v = req.rollups?.[key];
    if (v === undefined) continue;
    const setting = `rollups.${key}`;
    const oldValue = latest.get(setting)?.newValue ?? NONE;
    const newValue = String(v);
    if (oldValue === newValue) continue;
    const off = oldValue === 'true' && newValue === 'false';
    out.push({
      scope: 'rollups',
      setting,
      ...(key === 'hourly' ? { dataClass: 'hourly' as const } : key === 'daily' ? { dataClass: 'daily' as const } : {}),
      oldValue,
      newValue,
      kind: 'set',
      needsReason: off,
      ...(off ? { problem: `turning ${key} rollups off means data older than the raw retention is no longer kept at all` } : {}),
    });
  }
  return out;
}

/** Changes made to InfluxDB behind Veilleur's back: the last recorded value differs from the applied one. */
function driftEntries(applied: Partial<Record<DataClass, number>>, latest: Map<string, AuditEntry>, tenant: string): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const cls of DATA_CLASSES) {
    const have = applied[cls];
    const last = latest.get(settingOf(cls));
    if (!last || !last.applied || have === undefined || Number.isNaN(have)) continue;
    const now = formatDuration(have);
    if (now === last.newValue) continue;
    out.push({
      at: nextAuditTime(),
      tenant,
      scope: 'retention',
      setting: settingOf(cls),
      dataClass: cls,
      source: 'external',
      actor: 'unknown (changed outside Veilleur)',
      oldValue: last.newValue,
      newValue: now,
      reason: 'found in InfluxDB: not changed by Veilleur',
      applied: true,
      detail: 'detected before applying the configuration',
      seq: 0,
    });
  }
  return out;
}

async function latestOrEmpty(influx: Pick<InfluxTarget, 'query'>, auditExists: boolean): Promise<Map<string, AuditEntry>> {
  return auditExists ? latestAuditBySetting(influx) : new Map();
}

/**
 * Applies a change request: refuses it whole when a change needs a reason and has none; otherwise records each
 * change in the audit log (before applying it, then marked applied) and applies it.
 */
export async function applyChanges(deps: RetentionDeps, req: ChangeRequest): Promise<RetentionReport> {
  const backend = deps.backend ?? (await retentionBackend(deps.influxConfig, deps.influx));
  const applied = await backend.applied();
  const latest = await latestOrEmpty(deps.influx, applied.audit !== undefined);
  const plan = await planChanges(backend, applied, latest, req);
  const reason = req.reason?.trim() ?? '';
  const refused = plan.filter((c) => c.needsReason && reason.length < 3);
  if (refused.length > 0) {
    throw new RetentionError(
      `refused: ${refused.map((c) => `${c.setting}: ${c.problem}`).join('; ')}. Give the reason for this decision (retention.reason in the configuration file, --reason with veilleur retention set); nothing was changed`,
      refused.map((c) => c.setting),
    );
  }
  // A reason left in the configuration file from an earlier decision does not explain this one.
  const stale = plan.some((c) => c.needsReason) && req.source === 'config' ? [...latest.values()].find((e) => e.source === 'config' && e.applied && e.reason === reason) : undefined;
  if (stale) {
    const settings = plan.filter((c) => c.needsReason).map((c) => c.setting);
    throw new RetentionError(
      `refused: ${settings.join(', ')}: retention.reason is the one recorded for the change of ${stale.setting} on ${stale.at.toISOString()} ('${stale.reason}'); write the reason for this decision; nothing was changed`,
      settings,
    );
  }
  const tenant = req.tenant ?? ALL_TENANTS;
  // Changes made behind Veilleur's back are recorded first, so the log explains the old values below.
  const entries = driftEntries(applied, latest, tenant);
  if (entries.length) {
    await writeAudit(deps.influx, entries);
    for (const d of entries) deps.log?.warn({ setting: d.setting, from: d.oldValue, to: d.newValue }, 'retention changed outside Veilleur; recorded in the audit log');
  }
  let seq = 0;
  const entryFor = (c: PlannedChange): AuditEntry => ({
    at: nextAuditTime(),
    tenant,
    scope: c.scope,
    setting: c.setting,
    ...(c.dataClass ? { dataClass: c.dataClass } : {}),
    source: req.source,
    actor: req.actor,
    oldValue: c.oldValue,
    newValue: c.newValue,
    reason: reason || (c.kind === 'create' || c.oldValue === NONE ? 'initial setting' : c.kind === 'shorten' ? 'no reason needed: the policy held no data' : 'not given'),
    applied: false,
    detail: c.scope === 'retention' ? `applying to ${backend.location(c.dataClass!)}` : 'applying',
    seq: seq++,
  });

  for (const c of plan) {
    const e = entryFor(c);
    const isAuditPolicy = c.dataClass === 'audit' && c.scope === 'retention';
    // The audit policy must exist before anything can be recorded in it: it is created first, then recorded.
    if (!isAuditPolicy) await writeAudit(deps.influx, [e]);
    try {
      if (c.scope === 'retention') e.detail = await backend.apply(c.dataClass!, durationMs(c.newValue)!, c.exists === true);
      else e.detail = 'recorded; the rollup scheduler reads it from the configuration';
      e.applied = true;
    } catch (err) {
      e.detail = `failed: ${(err as Error).message}`;
      if (!isAuditPolicy) await writeAudit(deps.influx, [e]).catch(() => undefined);
      throw err instanceof RetentionBackendError ? err : new RetentionBackendError(`${c.setting}: ${(err as Error).message}`);
    }
    await writeAudit(deps.influx, [e]);
    entries.push(e);
    deps.log?.info({ setting: c.setting, from: c.oldValue, to: c.newValue, by: req.actor, reason: e.reason }, 'storage setting changed');
  }
  return { backend: backend.kind, entries };
}

/** The actor of a configuration-file change: `retention.changedBy`, else the file. */
function configActor(retention: RetentionConfig, configFile: string | undefined): string {
  return retention.changedBy ?? (configFile ? `configuration file ${configFile}` : 'configuration defaults');
}

/**
 * At start-up: applies the `retention:` configuration (every class and the audited rollup settings), before
 * ingestion starts. Throws RetentionError (a configuration problem: name the setting, exit 2) or
 * RetentionBackendError (InfluxDB unreachable or refusing).
 */
export async function applyRetention(deps: RetentionDeps & { retention: RetentionConfig; configFile?: string }): Promise<RetentionReport> {
  const r = deps.retention;
  return applyChanges(deps, {
    retention: { raw: r.raw, hourly: r.hourly, daily: r.daily, events: r.events, actions: r.actions },
    rollups: { hourly: r.rollups.hourly, daily: r.rollups.daily, timeZone: r.rollups.timeZone },
    actor: configActor(r, deps.configFile),
    ...(r.reason ? { reason: r.reason } : {}),
    source: 'config',
  });
}

export interface ClassRetention {
  dataClass: DataClass;
  /** `raw`: the default policy; others: `rollup_1h`, `rollup_1d`, `events`, `audit`. */
  retentionPolicy: string | undefined;
  location: string;
  description: { fr: string; en: string };
  /** What InfluxDB applies now ('90d', 'inf'; 'none' when missing, 'unknown' when the server cannot tell). */
  applied: string;
  /** What the configuration asks for. */
  configured: string;
  lastChange?: AuditEntry;
}

export interface CurrentRetention {
  backend: BackendKind;
  classes: ClassRetention[];
  rollups: { configured: RollupSettings; recorded: Partial<Record<AuditedRollupSetting, string>> };
}

/** Current retention settings, as the HTTP API shows them (`GET /v1/retention`). */
export async function currentRetention(deps: RetentionDeps & { retention: RetentionConfig }): Promise<CurrentRetention> {
  const backend = deps.backend ?? (await retentionBackend(deps.influxConfig, deps.influx));
  const applied = await backend.applied();
  const latest = await latestOrEmpty(deps.influx, applied.audit !== undefined);
  const configured: Record<DataClass, string> = { ...deps.retention, audit: CLASSES.audit.default };
  return {
    backend: backend.kind,
    classes: DATA_CLASSES.map((cls) => {
      const last = latest.get(settingOf(cls));
      return {
        dataClass: cls,
        retentionPolicy: CLASSES[cls].rp,
        location: backend.location(cls),
        description: CLASSES[cls].description,
        applied: valueText(applied[cls], last?.newValue),
        configured: configured[cls],
        ...(last ? { lastChange: last } : {}),
      };
    }),
    rollups: {
      configured: deps.retention.rollups,
      recorded: Object.fromEntries(AUDITED_ROLLUP_SETTINGS.flatMap((k) => (latest.has(`rollups.${k}`) ? [[k, latest.get(`rollups.${k}`)!.newValue]] : []))),
    },
  };
}

/** Who runs a command: `user@host`. */
export function localActor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return `${user}@${hostname()}`;
}
