/**
 * A running demo's settings, for the commands typed in another terminal: `npm run demo` writes the environment its
 * service runs with to `.data/demo.env` (shell syntax, so `set -a; . .data/demo.env; set +a` also works), and the
 * CLI commands that read InfluxDB or publish to the broker use it when the environment names no target of its own.
 * The file names the demo's process: a file left by a demo that is gone is ignored.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where the demo started in the current directory writes its settings (`.data/` is where its servers live). */
export const demoEnvFile = (cwd = process.cwd()): string => resolve(cwd, '.data', 'demo.env');

/** What the CLI needs from the demo: its broker, its InfluxDB, its registry and its data directory (API keys). */
export const DEMO_VARIABLES = ['MQTT_URL', 'INFLUX_URL', 'INFLUX_DB', 'VEILLEUR_CONFIG', 'DATA_DIR'] as const;
type DemoVariable = (typeof DEMO_VARIABLES)[number];

/** Variables that mean the user chose a target: then the demo's settings are not applied, not even in part. */
const OWN_TARGET = ['MQTT_URL', 'INFLUX_URL', 'INFLUX_DB', 'INFLUX_BUCKET', 'INFLUX_TOKEN', 'VEILLEUR_CONFIG'] as const;

const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

export function writeDemoEnv(vars: Record<DemoVariable, string>, service: string, pid = process.pid, file = demoEnvFile()): void {
  const lines = [
    `# Settings of the Veilleur demo running as process ${pid} (removed when it stops).`,
    '# The veilleur commands of another terminal read them by themselves; for curl or your own tools:',
    '#   set -a; . .data/demo.env; set +a',
    `# demo-pid ${pid}`,
    `# demo-service ${service}`,
    ...DEMO_VARIABLES.map((k) => `${k}=${shellQuote(vars[k])}`),
    '',
  ];
  writeFileSync(file, lines.join('\n'), { mode: 0o600 });
}

/** Removes the file if this process wrote it (another demo may have started since). */
export function removeDemoEnv(pid = process.pid, file = demoEnvFile()): void {
  if (readDemoEnv(file)?.pid === pid) rmSync(file, { force: true });
}

export interface DemoSettings {
  pid: number;
  /** The demo's service (HTTP API and console). */
  service: string;
  vars: Partial<Record<DemoVariable, string>>;
}

export function readDemoEnv(file = demoEnvFile()): DemoSettings | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const pid = Number(/^# demo-pid (\d+)$/m.exec(text)?.[1]);
  const service = /^# demo-service (\S+)$/m.exec(text)?.[1] ?? '';
  const vars: Partial<Record<DemoVariable, string>> = {};
  for (const m of text.matchAll(/^([A-Z_]+)='((?:[^']|'\\'')*)'$/gm)) {
    if ((DEMO_VARIABLES as readonly string[]).includes(m[1]!)) vars[m[1] as DemoVariable] = m[2]!.replace(/'\\''/g, "'");
  }
  return Number.isInteger(pid) && pid > 0 ? { pid, service, vars } : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The demo running from this directory, when `env` names no target of its own (else the user's choice wins). */
export function runningDemo(env: NodeJS.ProcessEnv = process.env, file = demoEnvFile()): DemoSettings | undefined {
  if (OWN_TARGET.some((k) => env[k] !== undefined && env[k] !== '')) return undefined;
  const demo = readDemoEnv(file);
  return demo && alive(demo.pid) ? demo : undefined;
}

/**
 * Fills `env` with the running demo's settings when it names no target of its own. Returns a sentence for stderr
 * saying what was used (or why a stale file was not), or undefined when nothing applies.
 */
export function applyDemoEnv(env: NodeJS.ProcessEnv = process.env, file = demoEnvFile()): string | undefined {
  if (OWN_TARGET.some((k) => env[k] !== undefined && env[k] !== '')) return undefined;
  const demo = readDemoEnv(file);
  if (!demo) return undefined;
  if (!alive(demo.pid)) return `${file} was written by a demo that is no longer running (process ${demo.pid}): not used`;
  for (const k of DEMO_VARIABLES) if (demo.vars[k] !== undefined && !env[k]) env[k] = demo.vars[k];
  return `using the settings of the demo running as process ${demo.pid} (${file})`;
}

/**
 * What `veilleur serve` says when the demo already runs the service and nothing else is configured: a second
 * service would take over the demo's broker session (same client id) and its HTTP port.
 */
export function serveBesideDemo(demo: DemoSettings, file = demoEnvFile()): string {
  return [
    `the demo running as process ${demo.pid} already runs the service${demo.service ? ` at ${demo.service}` : ''}: its API, console and metrics are there.`,
    "'veilleur serve' runs the service on your own broker and InfluxDB, set by the environment variables of the README (Configuration).",
    `A second service on the demo's servers needs a port and an MQTT client id of its own:`,
    `  set -a; . ${file}; set +a; HTTP_PORT=8081 MQTT_CLIENT_ID=veilleur-2 DATA_DIR=.data/serve npx veilleur serve`,
  ].join('\n');
}
