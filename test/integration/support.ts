/**
 * What integration tests share: a private Mosquitto and InfluxDB per test file (real servers, free loopback ports,
 * temporary directories, stopped by PID), and the service run as a real child process (`veilleur serve`), so a
 * test can SIGKILL it like an operator's machine would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { freePort, startLocalStack, type InfluxServer, type MosquittoServer } from '../../services/dev/servers.ts';
import type { FileConfig } from '../../services/config/schema.ts';
import type { WindowContext } from '../../services/alerts/rules/define.ts';
import type { SiteRules } from '../../services/alerts/settings.ts';
import { createInfluxTarget } from '../../services/storage/influx.ts';
import { siteCalendarSchema, type SiteCalendar } from '../../services/time/calendar.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export interface Stack {
  dir: string;
  mqtt: MosquittoServer;
  influx: InfluxServer;
  db: string;
  close(): Promise<void>;
}

export async function startStack(opts: { persistence?: boolean } = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'veilleur-it-'));
  const db = 'veilleur';
  const { mqtt, influx } = await startLocalStack(dir, { persistence: opts.persistence ?? true, db });
  return {
    dir,
    mqtt,
    influx,
    db,
    async close() {
      await Promise.all([mqtt.stop(), influx.stop()]);
      if (!process.env.KEEP_TEST_DATA) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export class ServiceProcess {
  private child: ChildProcess | undefined;
  readonly port: Promise<number>;

  /**
   * `entry`: what node runs — the TypeScript CLI through tsx (default) or the bundled build with its flags
   * (`['--max-old-space-size=112', 'dist/veilleur.mjs']`), as the benchmark does.
   */
  constructor(
    private readonly stack: Stack,
    private readonly extraEnv: Record<string, string> = {},
    private readonly registry?: FileConfig,
    private readonly entry: string[] = [join(ROOT, 'bin', 'veilleur.js')],
  ) {
    this.port = freePort();
  }

  pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  get url(): Promise<string> {
    return this.port.then((p) => `http://127.0.0.1:${p}`);
  }

  async start(): Promise<void> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      MQTT_URL: this.stack.mqtt.url,
      MQTT_CLIENT_ID: 'veilleur-it',
      INFLUX_URL: this.stack.influx.url,
      INFLUX_DB: this.stack.db,
      HTTP_PORT: String(await this.port),
      DATA_DIR: join(this.stack.dir, 'service'),
      LOG_LEVEL: 'info',
      // Tests and the benchmark read the service's counters without a key.
      HTTP_METRICS_PUBLIC: 'true',
      ...this.extraEnv,
    };
    if (this.registry) {
      const file = join(this.stack.dir, 'veilleur.yaml');
      writeFileSync(file, stringify(this.registry));
      env.VEILLEUR_CONFIG = file;
    }
    const log = openSync(join(this.stack.dir, 'service.log'), 'a');
    // VEILLEUR_NODE_FLAGS: extra node flags for the service process (e.g. --cpu-prof when profiling the benchmark).
    const flags = (process.env.VEILLEUR_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...flags, ...this.entry, 'serve'], { env, stdio: ['ignore', log, log] });
    this.child = child;
    // Until it answers, or fails at once if it exits; 60 s because suites running side by side on two cores can
    // make a start take tens of seconds.
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the service exited while starting (code ${child.exitCode}, signal ${child.signalCode}); see ${join(this.stack.dir, 'service.log')}`);
        return (await this.ready()) !== undefined;
      },
      60_000,
      'service /healthz',
    );
  }

  /** The /readyz body, or undefined while the service does not answer. */
  async ready(): Promise<{ ready: boolean; checks: Record<string, boolean> } | undefined> {
    try {
      const r = await fetch(`${await this.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      return (await r.json()) as { ready: boolean; checks: Record<string, boolean> };
    } catch {
      return undefined;
    }
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    return signalChild(this.child, signal, 20_000);
  }

  stop(): Promise<number | null> {
    return this.kill('SIGTERM');
  }
}

/** Sends `signal` and waits for the exit (SIGKILL after `graceMs`); the exit code, or null after a signal. */
export async function signalChild(child: ChildProcess | undefined, signal: NodeJS.Signals, graceMs: number): Promise<number | null> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/**
 * What the rule tests evaluate windowed rules with: the stack's InfluxDB, the calendar and rule settings a test gives
 * a site (others: the default calendar and the rules' defaults), and the sites' display names (others: identifiers).
 */
export function windowContexts(stack: Stack, siteNames: Record<string, string> = {}) {
  const influx = createInfluxTarget({ api: 'v1', url: stack.influx.url, db: stack.db, timeoutMs: 30_000 });
  const defaultCalendar = siteCalendarSchema.parse({});
  return (now: Date | number | string, o: { calendars?: Record<string, SiteCalendar>; rules?: Record<string, SiteRules> } = {}): WindowContext => ({
    now: new Date(now),
    query: (q) => influx.query(q),
    calendarFor: (_tenant, site) => o.calendars?.[site] ?? defaultCalendar,
    rulesFor: (_tenant, site) => o.rules?.[site],
    siteName: (_tenant, site) => siteNames[site] ?? site,
  });
}

/** Writes line protocol (ms precision) straight into the stack's InfluxDB, 20,000 lines per request; each must be accepted. */
export async function writeLines(stack: Stack, lines: string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += 20_000) {
    const r = await fetch(`${stack.influx.url}/write?db=${stack.db}&precision=ms`, { method: 'POST', body: lines.slice(i, i + 20_000).join('\n') });
    // A thrown error rather than expect(): this module also serves the benchmarks, which run outside vitest.
    if (r.status !== 204) throw new Error(`InfluxDB refused the test data: ${r.status} ${await r.text()}`);
  }
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Stored uplinks as "devEui:fCnt" keys, one per point, to count losses and duplicates exactly. */
export async function storedUplinkKeys(influx: InfluxServer, db: string): Promise<string[]> {
  const res = await influx.query('SELECT f_cnt, dev_eui FROM uplink', db);
  const values = res.results?.[0]?.series?.[0]?.values ?? [];
  return values.map((v) => `${String(v[2])}:${String(v[1])}`);
}

export async function countPoints(influx: InfluxServer, db: string, q: string): Promise<number> {
  const res = await influx.query(q, db);
  let total = 0;
  for (const s of res.results?.[0]?.series ?? []) for (const row of s.values) total += Number(row[1] ?? 0);
  return total;
}

/** Every row of an InfluxQL result as an object (column → value), all series together. */
export async function queryRows(influx: InfluxServer, db: string, q: string): Promise<Record<string, unknown>[]> {
  const res = await influx.query(q, db);
  return (res.results?.[0]?.series ?? []).flatMap((s) => s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))));
}
