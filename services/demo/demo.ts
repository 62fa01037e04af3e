/**
 * `npm run demo`: the whole chain on one machine, with nothing to configure. Starts a private Mosquitto and a
 * private InfluxDB 1.x (Debian packages; installed when missing and running as root), the service, and the
 * simulated town (two days of history, then live uplinks); prints where to look. Ctrl-C, SIGTERM, SIGHUP (the
 * terminal closed) or the end of its parent (`kill <npm pid>`) stop everything it started; its settings are in
 * `.data/demo.env` meanwhile, where the CLI commands of another terminal find them.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { loadConfig } from '../config/load.ts';
import { freePort, startLocalStack, which } from '../dev/servers.ts';
import { createLogger } from '../logger.ts';
import { select } from '../storage/influxql.ts';
import { createService } from '../service.ts';
import { generateUplinks } from '../simulator/generator.ts';
import { publishUplinks } from '../simulator/publish.ts';
import { generateKey } from '../api/keys.ts';
import { townRegistry } from '../simulator/town.ts';
import { demoEnvFile, removeDemoEnv, writeDemoEnv } from '../cli/demo-env.ts';

const say = (text: string) => {
  // Once the terminal or npm is gone, stdout is a closed pipe: printing must not stop the clean-up.
  if (process.stdout.writable) process.stdout.write(`${text}\n`);
};

/** Signals that end the demo: Ctrl-C, `kill` (what scripts and npm send), the terminal closing. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', () => done(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => done(true)));
  });
}

function ensurePackages(): boolean {
  if (which('mosquitto') && which('influxd')) return true;
  if (process.getuid?.() !== 0) {
    say('The demo needs Mosquitto and InfluxDB 1.x. Install them with:\n  sudo apt-get update && sudo apt-get install -y mosquitto influxdb');
    return false;
  }
  say('Installing mosquitto and influxdb from Debian packages (apt-get)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'mosquitto', 'influxdb'], { stdio: 'inherit', env });
  // Debian starts the packaged daemons where systemd runs; the demo uses its own private instances instead.
  return r.status === 0 && !!which('mosquitto') && !!which('influxd');
}

export async function demo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'history-hours': { type: 'string', default: '48' }, speed: { type: 'string', default: '30' }, minutes: { type: 'string', default: '60' } },
  });
  if (!ensurePackages()) return 1;
  const dir = resolve('.data', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  say(`Veilleur demo: starting a private Mosquitto and InfluxDB in ${dir}`);
  // An EPIPE on stdout (its reader gone) would otherwise be an uncaught error that leaves the servers running.
  process.stdout.on('error', () => undefined);
  const { mqtt, influx } = await startLocalStack(dir, { persistence: true, db: 'veilleur' });
  // From here on, whatever ends the demo stops what it started (the service once it runs, the servers always).
  const abort = new AbortController();
  // Assigned once further down, but read by stop() (defined here) before that: `let`, not `const`.
  // oxlint-disable-next-line prefer-const
  let service: ReturnType<typeof createService> | undefined;
  // oxlint-disable-next-line prefer-const
  let status: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (why?: string) =>
    (stopping ??= (async () => {
      say(`\n${why ? `${why}: s` : 'S'}topping the simulator, the service (draining its spool), InfluxDB and Mosquitto…`);
      abort.abort();
      clearInterval(status);
      clearInterval(parentWatch);
      removeDemoEnv();
      try {
        await service?.stop();
      } finally {
        await Promise.all([mqtt.stop(), influx.stop()]);
      }
      say(`Stopped. Data stays in ${dir} (delete it when done).`);
    })());
  for (const signal of STOP_SIGNALS) process.on(signal, () => void stop(signal).finally(() => process.exit(0)));
  // npm does not pass its own SIGTERM on to the demo: when the parent that started it is gone, the demo is
  // reparented, and stops.
  const parent = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid !== parent) void stop('parent process gone').finally(() => process.exit(0));
  }, 500);
  parentWatch.unref();
  const registryFile = join(dir, 'veilleur.yaml');
  // Two demo keys (printed below): the agglomeration's own team sees everything, the town's agent sees its town.
  const adminKey = generateKey();
  const townKey = generateKey();
  const town = townRegistry();
  const registry = {
    ...town,
    // The demo's devices talk 30 times faster than in the field: the parsimony rule (P1) would flag every one.
    sites: [...new Set(town.devices.map((d) => d.site ?? ''))].map((site) => ({ ...town.sites.find((s) => s.site === site), site, rules: { P1: { enabled: false } } })),
    // Decided retention, applied at start-up and recorded in the audit log (GET /api/v1/retention/audit).
    retention: { raw: '90d', hourly: '730d', daily: '1900d', events: '3650d', changedBy: 'démo Veilleur', reason: 'démo : conservation minimale, oubli automatique' },
    apiKeys: [
      { id: adminKey.id, name: 'démo agglomération', role: 'admin' as const, tenants: ['*'], hash: adminKey.hash },
      { id: townKey.id, name: 'démo mairie de Saint-Veilleur', role: 'operator' as const, tenants: ['saint-veilleur'], hash: townKey.hash },
    ],
  };
  writeFileSync(registryFile, `# The simulated town's devices (generated by the demo from services/simulator/town.ts)\n${stringify(registry)}`);
  // The README's examples use 8080: the demo takes it when it is free.
  const httpPort = process.env.HTTP_PORT ?? String((await portIsFree(8080)) ? 8080 : await freePort());
  const cfg = loadConfig({
    MQTT_URL: mqtt.url,
    INFLUX_URL: influx.url,
    INFLUX_DB: 'veilleur',
    HTTP_PORT: httpPort,
    DATA_DIR: join(dir, 'veilleur'),
    VEILLEUR_CONFIG: registryFile,
    HTTP_DOCS_PUBLIC: 'true',
    HTTP_METRICS_PUBLIC: 'true',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  service = createService(cfg, createLogger(cfg.logLevel));
  await service.start();
  if (stopping) return 0;
  // For the CLI commands typed in another terminal (`npx veilleur report …`): services/cli/demo-env.ts.
  writeDemoEnv({ MQTT_URL: mqtt.url, INFLUX_URL: influx.url, INFLUX_DB: 'veilleur', VEILLEUR_CONFIG: registryFile, DATA_DIR: cfg.spool.dir }, service.address());

  // Single-quoted for the shell: the statements quote their identifiers with double quotes.
  const q = (s: string) => `curl -sG ${influx.url}/query --data-urlencode db=veilleur --data-urlencode '${`q=${s}`.replace(/'/g, `'\\''`)}'`;
  say(`
Veilleur is running.
  Web console      ${service.address()}/   ← open it in a browser and sign in with a key below
                   (the operator key of Saint-Veilleur can acknowledge alerts; the admin key sees every commune)
  MQTT broker      ${mqtt.url}    (ChirpStack v4 and TTS v3 uplinks of the simulated town are published here)
  InfluxDB 1.x     ${influx.url}  database 'veilleur'
  Health           ${service.address()}/healthz   ${service.address()}/readyz
  Metrics          ${service.address()}/metrics
  API and its docs ${service.address()}/docs
    admin key, every tenant:         ${adminKey.key}
    operator key, saint-veilleur:    ${townKey.key}
    curl -s -H 'Authorization: Bearer ${townKey.key}' ${service.address()}/api/v1/devices
    curl -s -H 'Authorization: Bearer ${townKey.key}' '${service.address()}/api/v1/alerts?lang=fr'
    curl -s -H 'Authorization: Bearer ${townKey.key}' '${service.address()}/api/v1/export/daily.csv?site=gymnase&quantity=metering.water.total'
Look at the data in InfluxDB:
  ${q(select({ select: [{ fn: 'last', field: 'volume_index_l' }], from: 'water', groupBy: ['device'] }))}
  ${q(select({ select: [{ fn: 'mean', field: 'temperature_c' }], from: 'air', where: [{ time: '>', at: { ago: '1h' } }], groupBy: ['device'] }))}
  ${q(select({ select: [{ fn: 'count', field: 'f_cnt' }], from: 'uplink', groupBy: ['tenant'] }))}
The veilleur commands of another terminal in this directory use this demo (its settings: ${demoEnvFile()}):
  npx veilleur report yearly --tenant saint-veilleur --year ${new Date().getFullYear()} --out revue-reen-${new Date().getFullYear()}.html
  npx veilleur report parsimony --tenant saint-veilleur
  npx veilleur backtest --rule W1
  For curl or your own tools: set -a; . ${demoEnvFile()}; set +a
Demo processes: this one ${process.pid}, Mosquitto ${String(mqtt.pid())}, InfluxDB ${String(influx.pid())}.
Press Ctrl-C to stop (or kill ${process.pid}).
`);

  const running = service;
  status = setInterval(() => {
    running.influx
      .query(select({ select: [{ fn: 'count', field: 'f_cnt' }], from: 'uplink' }))
      .then((s) => say(`[${new Date().toLocaleTimeString('fr-FR')}] uplinks stored in InfluxDB: ${String(s[0]?.values[0]?.[1] ?? 0)}`))
      .catch((err: Error) => say(`status query failed: ${err.message}`));
  }, 10_000);

  // One simulation from two days ago to the end of the demo: the history is published as fast as the broker takes
  // it, then each uplink at its time (devices report faster from now on), so meter indexes run on without a jump.
  const now = Date.now();
  const historyH = Number(values['history-hours']);
  let announced = false;
  const minutes = Number(values.minutes);
  const uplinks = generateUplinks({ start: new Date(now - historyH * 3_600_000), seed: 1, speed: Number(values.speed), speedFrom: new Date(now) });
  await publishUplinks(uplinks, {
    url: mqtt.url,
    live: true,
    maxSeconds: minutes * 60,
    signal: abort.signal,
    onAck: (u) => {
      if (!announced && u.time.getTime() >= now) {
        announced = true;
        say(`Simulator: the last ${historyH} h are published; now live (devices report ${values.speed}× faster than in the field).`);
      }
    },
  });
  await stop();
  return 0;
}
