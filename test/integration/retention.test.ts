/**
 * Retention per data class on a real InfluxDB 1.x (its retention service checking every second, so forgetting is
 * seen, not assumed): policies created and changed from the configuration and from `veilleur retention`, an audit
 * entry for each change, shortening refused without a reason, changes made behind Veilleur's back recorded, and
 * alert events copied to their long-kept policy by the spool writer.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadFile } from '../../services/config/load.ts';
import { freePort, InfluxServer } from '../../services/dev/servers.ts';
import { createMetrics } from '../../services/metrics.ts';
import { applyRetention, currentRetention, RetentionError } from '../../services/retention/apply.ts';
import { ALL_TENANTS, listAudit, nextAuditTime, writeAudit, type AuditEntry } from '../../services/retention/audit.ts';
import { COPIED_MEASUREMENTS, CLASSES } from '../../services/retention/classes.ts';
import { retentionSchema, type RetentionConfigInput } from '../../services/retention/config.ts';
import { createInfluxTarget, type InfluxTarget } from '../../services/storage/influx.ts';
import { Spool } from '../../services/storage/spool.ts';
import { SpoolWriter } from '../../services/storage/writer.ts';
import { queryRows, ROOT, waitFor } from './support.ts';

const DAY = 86_400_000;
const DB = 'veilleur';
const silent = pino({ level: 'silent' });

let dir: string;
let server: InfluxServer;
let influx: InfluxTarget;
let influxConfig: { api: 'v1'; url: string; db: string; timeoutMs: number };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'veilleur-retention-'));
  server = new InfluxServer(await freePort(), await freePort(), join(dir, 'influxdb'));
  // The retention service checks every 30 min by default: every second here, so deletions can be observed.
  const conf = join(dir, 'influxdb', 'influxdb.conf');
  writeFileSync(conf, `${readFileSync(conf, 'utf8')}[retention]\n  enabled = true\n  check-interval = "1s"\n`);
  await server.start();
  await server.createDatabase(DB);
  influxConfig = { api: 'v1', url: server.url, db: DB, timeoutMs: 10_000 };
  influx = createInfluxTarget(influxConfig);
});
afterAll(async () => {
  await server?.stop();
  if (dir && !process.env.KEEP_TEST_DATA) rmSync(dir, { recursive: true, force: true });
});

const apply = (retention: RetentionConfigInput, configFile = '/etc/veilleur/veilleur.yaml') =>
  applyRetention({ influx, influxConfig, retention: retentionSchema.parse(retention), configFile, log: silent });

async function policies(): Promise<Record<string, { duration: string; shard: string; isDefault: boolean }>> {
  const rows = await queryRows(server, DB, `SHOW RETENTION POLICIES ON "${DB}"`);
  return Object.fromEntries(rows.map((r) => [String(r.name), { duration: String(r.duration), shard: String(r.shardGroupDuration), isDefault: r.default === true }]));
}

const auditCount = async () => (await listAudit(influx, { limit: 100_000 })).length;

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'veilleur.js'), 'retention', ...args], {
    env: { PATH: process.env.PATH ?? '', INFLUX_URL: server.url, INFLUX_DB: DB, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function writeRaw(lines: string[]): Promise<void> {
  const r = await fetch(`${server.url}/write?db=${DB}&precision=ms`, { method: 'POST', body: lines.join('\n') });
  expect(r.status).toBe(204);
}

// The tests share one database and build on each other, in order: a history of decisions.
describe('retention per data class on InfluxDB 1.x', () => {
  it('a first start on a fresh database creates one policy per class with the defaults, each change audited', async () => {
    const report = await apply({ changedBy: 'Marie Dupont (DSI)' });
    expect(report.backend).toBe('influxdb-1');
    expect(await policies()).toEqual({
      autogen: { duration: '2160h0m0s', shard: '24h0m0s', isDefault: true },
      // Sparse classes get long shard groups (4 and 52 weeks): per-series overhead is paid once per group.
      rollup_1h: { duration: '17520h0m0s', shard: '672h0m0s', isDefault: false },
      rollup_1d: { duration: '45600h0m0s', shard: '8736h0m0s', isDefault: false },
      events: { duration: '87600h0m0s', shard: '8736h0m0s', isDefault: false },
      actions: { duration: '8760h0m0s', shard: '672h0m0s', isDefault: false },
      audit: { duration: '0s', shard: '8736h0m0s', isDefault: false },
    });
    const log = await listAudit(influx);
    const bySetting = Object.fromEntries(log.map((e) => [e.setting, e]));
    expect(Object.keys(bySetting).sort()).toEqual(['retention.actions', 'retention.audit', 'retention.daily', 'retention.events', 'retention.hourly', 'retention.raw', 'rollups.daily', 'rollups.hourly', 'rollups.timeZone']);
    expect(bySetting['retention.raw']).toMatchObject({
      tenant: ALL_TENANTS,
      dataClass: 'raw',
      source: 'config',
      actor: 'Marie Dupont (DSI)',
      oldValue: 'inf',
      newValue: '90d',
      reason: 'no reason needed: the policy held no data',
      applied: true,
      detail: 'ALTER RETENTION POLICY "autogen" ON "veilleur" DURATION 2160h SHARD DURATION 24h',
    });
    expect(bySetting['retention.hourly']).toMatchObject({ oldValue: 'none', newValue: '730d', reason: 'initial setting', applied: true });
    expect(bySetting['retention.audit']).toMatchObject({ oldValue: 'none', newValue: 'inf', applied: true });
    expect(bySetting['rollups.timeZone']).toMatchObject({ scope: 'rollups', oldValue: 'none', newValue: 'Europe/Paris' });
    for (const e of log) expect(Math.abs(e.at.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('applying the same configuration again changes and records nothing', async () => {
    const before = await auditCount();
    expect((await apply({ changedBy: 'Marie Dupont (DSI)' })).entries).toEqual([]);
    expect(await auditCount()).toBe(before);
  });

  it('shortening a retention without a reason is refused, naming the setting, and nothing of the request is applied', async () => {
    const now = Date.now();
    await writeRaw([`water,tenant=sv,dev_eui=b1 volume_index_l=1 ${now - 40 * DAY}`, `water,tenant=sv,dev_eui=b1 volume_index_l=2 ${now - 3_600_000}`]);
    const before = await auditCount();
    const err = await apply({ raw: '30d', hourly: '1000d', changedBy: 'Marie Dupont (DSI)' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetentionError);
    expect((err as RetentionError).settings).toEqual(['retention.raw']);
    expect((err as Error).message).toContain('retention.raw: shortening from 90d to 30d deletes the data older than 30d in retention policy "autogen" of database "veilleur"');
    expect((err as Error).message).toContain('Give the reason for this decision (retention.reason');
    const p = await policies();
    expect([p.autogen?.duration, p.rollup_1h?.duration]).toEqual(['2160h0m0s', '17520h0m0s']);
    expect(await auditCount()).toBe(before);
  });

  it('shortening with a reason is applied and audited, and InfluxDB then forgets the older data', async () => {
    const reason = 'Délibération 2026-014 : conservation minimale des relevés bruts';
    const report = await apply({ raw: '30d', changedBy: 'Conseil municipal', reason });
    expect(report.entries).toEqual([expect.objectContaining({ setting: 'retention.raw', oldValue: '90d', newValue: '30d', reason, actor: 'Conseil municipal', applied: true })]);
    expect((await policies()).autogen?.duration).toBe('720h0m0s');
    const [latest] = await listAudit(influx, { limit: 1 });
    expect(latest).toMatchObject({ setting: 'retention.raw', oldValue: '90d', newValue: '30d', reason, source: 'config' });
    // The reason of that decision, left in the file, does not explain the next one.
    const stale = await apply({ raw: '20d', changedBy: 'Conseil municipal', reason }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(RetentionError);
    expect((stale as Error).message).toContain('retention.raw: retention.reason is the one recorded for the change of retention.raw on');
    expect((await policies()).autogen?.duration).toBe('720h0m0s');
    // The 40-day-old reading goes with its shard group at the next retention check; yesterday's stays.
    await waitFor(async () => (await queryRows(server, DB, 'SELECT volume_index_l FROM water')).length === 1, 30_000, 'the old reading to be deleted');
    expect((await queryRows(server, DB, 'SELECT volume_index_l FROM water'))[0]?.volume_index_l).toBe(2);
  });

  it('veilleur retention set: shortening needs --reason (exit 2), lengthening is recorded with who', async () => {
    const refused = cli(['set', 'raw=10d', '--by', 'Jean Martin']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('retention.raw: shortening from 30d to 10d');
    expect(refused.stderr).toContain('--reason');
    expect((await policies()).autogen?.duration).toBe('720h0m0s');

    const longer = cli(['set', 'hourly=1000d', '--by', 'Jean Martin']);
    expect(longer.status).toBe(0);
    const printed = JSON.parse(longer.stdout.trim()) as AuditEntry;
    expect(printed).toMatchObject({ setting: 'retention.hourly', oldValue: '730d', newValue: '1000d', actor: 'Jean Martin', source: 'cli', reason: 'not given', applied: true });
    expect((await policies()).rollup_1h?.duration).toBe('24000h0m0s');

    const shorter = cli(['set', 'raw=10d', '--by', 'Jean Martin', '--reason', 'test de purge']);
    expect(shorter.status).toBe(0);
    expect((await policies()).autogen?.duration).toBe('240h0m0s');
    const log = cli(['log', '--from', new Date(Date.now() - 600_000).toISOString()]);
    expect(log.status).toBe(0);
    const entries = log.stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);
    expect(entries.slice(0, 2).map((e) => [e.setting, e.oldValue, e.newValue, e.reason])).toEqual([
      ['retention.raw', '30d', '10d', 'test de purge'],
      ['retention.hourly', '730d', '1000d', 'not given'],
    ]);
  });

  it('a change made outside Veilleur is recorded as such before the configuration is applied again', async () => {
    await server.query(`ALTER RETENTION POLICY "events" ON "${DB}" DURATION 5000d`);
    const report = await apply({ raw: '10d', hourly: '1000d', changedBy: 'Marie Dupont (DSI)' });
    expect(report.entries.map((e) => [e.setting, e.source, e.oldValue, e.newValue])).toEqual([
      ['retention.events', 'external', '3650d', '5000d'],
      // The events policy holds no data yet: nothing is lost, no reason is needed.
      ['retention.events', 'config', '5000d', '3650d'],
    ]);
    expect((await policies()).events?.duration).toBe('87600h0m0s');
  });

  it('turning a rollup off needs a reason', async () => {
    const err = await apply({ raw: '10d', hourly: '1000d', rollups: { daily: false } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetentionError);
    expect((err as RetentionError).settings).toEqual(['rollups.daily']);
    const ok = await apply({ raw: '10d', hourly: '1000d', rollups: { daily: false }, reason: 'les agrégats horaires suffisent' });
    expect(ok.entries.map((e) => [e.setting, e.oldValue, e.newValue])).toEqual([['rollups.daily', 'true', 'false']]);
  });

  it('the audit log is listed by tenant and time, newest first, and its policy is infinite and not configurable', async () => {
    const other: AuditEntry = {
      at: nextAuditTime(),
      tenant: 'autre-commune',
      scope: 'retention',
      setting: 'retention.raw',
      dataClass: 'raw',
      source: 'api',
      actor: 'x',
      oldValue: '1d',
      newValue: '2d',
      reason: 'r',
      applied: true,
      detail: '',
      seq: 0,
    };
    await writeAudit(influx, [other]);
    const all = await listAudit(influx);
    expect(all[0]?.tenant).toBe('autre-commune');
    expect(all.map((e) => e.at.getTime())).toEqual([...all.map((e) => e.at.getTime())].sort((a, b) => b - a));
    const forSv = await listAudit(influx, { tenant: 'saint-veilleur' });
    expect(forSv.length).toBe(all.length - 1);
    expect(forSv.every((e) => e.tenant === ALL_TENANTS)).toBe(true);
    expect(await listAudit(influx, { tenant: 'autre-commune', from: other.at, to: new Date(other.at.getTime() + 1) })).toEqual([other]);
    expect(await listAudit(influx, { from: new Date(Date.now() + DAY) })).toEqual([]);

    expect((await policies()).audit?.duration).toBe('0s');
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'retention:\n  audit: 30d\n');
    expect(() => loadFile(file)).toThrow(ConfigError);
    expect(() => loadFile(file)).toThrow(/path retention: Unrecognized key: "audit"/);
    writeFileSync(file, 'retention:\n  raw: 90\n');
    expect(() => loadFile(file)).toThrow(`${file}, path retention.raw: expected a duration like '90d', '2w', '36h' or 'inf'`);
    writeFileSync(file, 'retention:\n  raw: 2d\n');
    expect(() => loadFile(file)).toThrow(`${file}, path retention.raw: expected at least 8d (the windowed alert rules read up to 7 days of raw readings), got '2d'`);
  });

  it('current settings show, per class, what InfluxDB applies, what is configured and the last change', async () => {
    const current = await currentRetention({ influx, influxConfig, retention: retentionSchema.parse({}) });
    const raw = current.classes.find((c) => c.dataClass === 'raw')!;
    expect(raw).toMatchObject({ applied: '10d', configured: '90d', retentionPolicy: undefined, lastChange: { oldValue: '30d', newValue: '10d' } });
    expect(current.classes.map((c) => [c.dataClass, c.applied])).toEqual([
      ['raw', '10d'],
      ['hourly', '1000d'],
      ['daily', '1900d'],
      ['events', '3650d'],
      ['actions', '365d'],
      ['audit', 'inf'],
    ]);
    expect(current.rollups.recorded).toEqual({ hourly: 'true', daily: 'false', timeZone: 'Europe/Paris' });
  });

  it('the spool writer copies alert events to the events policy, other lines stay where they were', async () => {
    const spoolDir = join(dir, 'spool');
    const spool = new Spool({ dir: spoolDir, maxBytes: 1 << 20, segmentBytes: 1 << 20, fsyncMs: 0 });
    spool.open();
    const copies = COPIED_MEASUREMENTS.map((c) => ({ measurement: c.measurement, rp: CLASSES[c.dataClass].rp! }));
    const writer = new SpoolWriter(spool, influx, { batchBytes: 1 << 20, flushMs: 1, copies }, createMetrics(), silent);
    const t = Date.now();
    spool.append([
      `alert_event,tenant=sv,rule=W7,category=water,severity=major,event=opened alert_id="a1",state="open" ${t}`,
      `water,tenant=sv,dev_eui=b2 volume_index_l=7 ${t}`,
      `alert_event_like,tenant=sv x=1 ${t}`,
    ]);
    writer.start();
    await waitFor(async () => spool.pendingBytes() === 0, 10_000, 'the spool to drain');
    await writer.stop();
    spool.close();
    expect(await queryRows(server, DB, `SELECT alert_id FROM "events"."alert_event"`)).toEqual([{ time: t, alert_id: 'a1' }]);
    expect(await queryRows(server, DB, 'SELECT alert_id FROM alert_event')).toEqual([{ time: t, alert_id: 'a1' }]);
    expect(await queryRows(server, DB, `SELECT * FROM "events"./.*/ WHERE time >= ${t}ms`)).toHaveLength(1);
  });
});
