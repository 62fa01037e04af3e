/**
 * `veilleur demo` as a user runs it: a child process with a short history, in a directory of its own. Whatever ends
 * it (SIGTERM as `kill` sends, SIGHUP when the terminal closes, its parent killed as when npm is) stops the
 * Mosquitto and InfluxDB it started; while it runs, the README's CLI commands typed in another terminal of the same
 * directory find its settings without any variable to export.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../services/dev/servers.ts';
import { waitFor } from './support.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'veilleur.js');

/** The environment of a new terminal: none of the service's variables set. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(MQTT_|INFLUX_|HTTP_|VEILLEUR_|DATA_DIR$)/.test(k)));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface RunningDemo {
  cwd: string;
  /** The process that received the signal: the demo itself, or the shell that started it. */
  child: ChildProcess;
  demoPid: number;
  serverPids: { mosquitto: number; influxd: number };
  output: () => string;
}

const started: RunningDemo[] = [];

/**
 * Starts the demo (one hour of history, two minutes live) and waits for its "running" line. With `viaShell`, the
 * demo is the child of a shell, as under npm, so that the test can take its parent away.
 */
async function startDemo(viaShell = false): Promise<RunningDemo> {
  const cwd = mkdtempSync(join(tmpdir(), 'veilleur-demo-'));
  const args = [BIN, 'demo', '--minutes', '2', '--history-hours', '1'];
  const child = viaShell
    ? spawn('sh', ['-c', `"${process.execPath}" ${args.map((a) => `'${a}'`).join(' ')} & wait`], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const demo: RunningDemo = { cwd, child, demoPid: 0, serverPids: { mosquitto: 0, influxd: 0 }, output: () => out };
  started.push(demo);
  await waitFor(async () => /Veilleur is running\./.test(out) || child.exitCode !== null, 90_000, `the demo's running line (output so far: ${out.slice(-500)})`);
  expect(out).toMatch(/Veilleur is running\./);
  const dir = /starting a private Mosquitto and InfluxDB in (.+)$/m.exec(out)?.[1];
  expect(dir, out).toBeDefined();
  const pid = (file: string) => Number(readFileSync(join(dir!, file), 'utf8'));
  demo.serverPids = { mosquitto: pid('mosquitto/mosquitto.pid'), influxd: pid('influxdb/influxd.pid') };
  demo.demoPid = Number(/Demo processes: this one (\d+),/.exec(out)?.[1]);
  // The PIDs it prints are those of its servers, all running.
  expect(out).toContain(`Mosquitto ${demo.serverPids.mosquitto}, InfluxDB ${demo.serverPids.influxd}.`);
  for (const p of [demo.demoPid, demo.serverPids.mosquitto, demo.serverPids.influxd]) expect(alive(p), `process ${p}`).toBe(true);
  return demo;
}

/** Every process the demo started (and the demo) gone, within a bounded wait. */
async function expectAllGone(demo: RunningDemo): Promise<void> {
  const pids = [demo.demoPid, demo.serverPids.mosquitto, demo.serverPids.influxd];
  await waitFor(async () => pids.every((p) => !alive(p)), 30_000, `processes ${pids.join(', ')} to exit (still running: ${pids.filter(alive).join(', ')})`);
  expect(existsSync(join(demo.cwd, '.data', 'demo.env'))).toBe(false);
}

afterEach(() => {
  // A failed test must not leave servers behind either: stop by PID what this file started.
  for (const d of started.splice(0)) {
    for (const p of [d.demoPid, d.serverPids.mosquitto, d.serverPids.influxd]) if (p && alive(p)) process.kill(p, 'SIGKILL');
    if (d.child.exitCode === null) d.child.kill('SIGKILL');
    rmSync(d.cwd, { recursive: true, force: true });
  }
});

/** A veilleur command typed in another terminal of the demo's directory. */
function cli(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the demo', () => {
  it('lets the README commands run in another terminal, then stops its servers on SIGTERM', async () => {
    const demo = await startDemo();
    const env = readFileSync(join(demo.cwd, '.data', 'demo.env'), 'utf8');
    expect(env).toContain(`# demo-pid ${demo.demoPid}`);
    expect(env).toMatch(/^INFLUX_DB='veilleur'$/m);

    // Written as in the README, with nothing exported: the commands find the running demo.
    const year = String(new Date().getFullYear());
    const yearly = cli(demo.cwd, 'report', 'yearly', '--tenant', 'saint-veilleur', '--year', year, '--out', `revue-reen-${year}.html`);
    expect(yearly.stderr).toContain(`using the settings of the demo running as process ${demo.demoPid}`);
    expect(yearly.code, yearly.stderr).toBe(0);
    expect(readFileSync(join(demo.cwd, `revue-reen-${year}.html`), 'utf8')).toContain('Commune de Saint-Veilleur');
    const parsimony = cli(demo.cwd, 'report', 'parsimony', '--tenant', 'saint-veilleur');
    expect(parsimony.code, parsimony.stderr).toBe(0);
    const redecode = cli(demo.cwd, 'redecode', '--from', '2026-01-01T00:00:00Z');
    expect(redecode.code, redecode.stderr).toBe(0);
    expect(JSON.parse(redecode.stdout)).toBeTypeOf('object');
    const decode = cli(demo.cwd, 'decode', '--vendor', 'milesight', '--model', 'em300-zld', '--fport', '85', '--hex', '050001');
    expect(decode.code, decode.stderr).toBe(0);

    // A key created as the README says works at once on the demo's service, which listens where the README's curl
    // goes when 8080 is free.
    const service = /^# demo-service (\S+)$/m.exec(env)?.[1];
    expect(service).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const created = cli(demo.cwd, 'keys', 'create', '--name', 'astreinte eau', '--role', 'operator', '--tenant', 'saint-veilleur');
    expect(created.code, created.stderr).toBe(0);
    const key = /vk_[\w-]+/.exec(created.stdout)?.[0];
    expect(key, created.stdout).toBeDefined();
    const alerts = await fetch(`${service}/api/v1/alerts`, { headers: { authorization: `Bearer ${key}` } });
    expect(alerts.status).toBe(200);

    // `serve` would take over the demo's broker session and port: it says where the demo's service is, and how to
    // run a second one, which works as said.
    const serve = cli(demo.cwd, 'serve');
    expect(serve.code).toBe(2);
    expect(serve.stderr).toMatch(/already runs the service at http:\/\/127\.0\.0\.1:\d+/);
    const advice = /^\s+(set -a; \. .+ npx veilleur serve)$/m.exec(serve.stderr)?.[1];
    expect(advice, serve.stderr).toBeDefined();
    const port = await freePort();
    // In a process group of its own, so that the shell and the service it starts are stopped together.
    const second = spawn('sh', ['-c', advice!.replace('HTTP_PORT=8081', `HTTP_PORT=${port}`).replace('npx veilleur', `"${process.execPath}" '${BIN}'`)], { cwd: demo.cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    // Its output, to say why it stopped if it does not become ready.
    let secondOutput = '';
    for (const s of [second.stdout, second.stderr]) s.on('data', (c: Buffer) => (secondOutput = (secondOutput + c.toString()).slice(-4000)));
    const group = -second.pid!;
    const groupAlive = () => {
      try {
        process.kill(group, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      await waitFor(async () => {
        if (!groupAlive()) throw new Error(`the second service exited before it was ready:\n${secondOutput}`);
        return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
      }, 60_000, 'the second service ready');
    } finally {
      // Already gone (it failed to start): nothing to stop; the error above says why.
      if (groupAlive()) process.kill(group, 'SIGTERM');
      await waitFor(async () => !groupAlive(), 20_000, 'the second service stopped');
    }

    demo.child.kill('SIGTERM');
    await expectAllGone(demo);
    expect(demo.output()).toMatch(/SIGTERM: stopping the simulator/);

    // Once the demo is gone its settings are too: a command says what is missing instead of using a dead demo.
    const after = cli(demo.cwd, 'report', 'parsimony', '--tenant', 'saint-veilleur');
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/INFLUX_DB/);
  }, 240_000);

  it('stops its servers on SIGHUP (the terminal closed)', async () => {
    const demo = await startDemo();
    demo.child.kill('SIGHUP');
    await expectAllGone(demo);
  }, 180_000);

  it('stops its servers when the process that started it goes away (kill <npm pid>)', async () => {
    const demo = await startDemo(true);
    // The shell dies at once (as npm does on SIGTERM) without passing anything on to the demo.
    demo.child.kill('SIGKILL');
    await expectAllGone(demo);
    expect(demo.output()).toMatch(/parent process gone: stopping/);
  }, 180_000);
});
