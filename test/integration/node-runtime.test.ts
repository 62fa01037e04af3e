/**
 * Node.js 24 on a machine whose own node is older (Debian's 20 here): `infra/scripts/with-node.sh`, which
 * `npm run demo`, `npm test` and `.ci/run` go through, runs the command with a supported node taken from the cache,
 * and hands over with `exec`, so that the demo it starts is still the process that npm's shell started: SIGHUP and
 * the loss of its parent stop everything it started, as `demo.test.ts` checks for the demo run directly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cacheDir, isSupported, supportedNodeBinDir } from '../../infra/scripts/node-runtime.mjs';
import { ROOT, waitFor } from './support.ts';

const WITH_NODE = join(ROOT, 'infra', 'scripts', 'with-node.sh');
const BIN = join(ROOT, 'bin', 'veilleur.js');

/** The machine's own node, found on the system's PATH, with its version. */
function systemNode(): { path: string; version: string } | undefined {
  const onPath = spawnSync('sh', ['-c', 'PATH=/usr/local/bin:/usr/bin:/bin command -v node'], { encoding: 'utf8' }).stdout.trim();
  for (const p of ['/usr/bin/node', '/usr/local/bin/node', onPath].filter(Boolean)) {
    const r = spawnSync(p, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return { path: p, version: r.stdout.trim() };
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'veilleur-node-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A cache holding a supported node (the one running this test when supported, else the real cache's, installed if
 * needed), and a PATH whose first `node` is the old system one: the situation of a fresh Debian machine.
 */
function oldMachine(): { env: NodeJS.ProcessEnv; supported: string } {
  const supported = join(supportedNodeBinDir({ log: () => {} }), 'node');
  const cache = join(tmp, 'cache');
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(join(cache, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(realpathSync(supported), join(cache, 'node_modules', '.bin', 'node'));
  const old = join(tmp, 'old-bin');
  rmSync(old, { recursive: true, force: true });
  mkdirSync(old);
  symlinkSync(systemNode()!.path, join(old, 'node'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(MQTT_|INFLUX_|HTTP_|VEILLEUR_|DATA_DIR$)/.test(k)));
  return { env: { ...env, PATH: `${old}:/usr/bin:/bin`, VEILLEUR_NODE_CACHE: cache }, supported: realpathSync(supported) };
}

describe('the supported Node.js', () => {
  it('knows which versions are supported and where its private copy lives', () => {
    expect(isSupported('v24.0.0')).toBe(true);
    expect(isSupported('v25.2.1')).toBe(true);
    expect(isSupported('v22.12.0')).toBe(false);
    expect(isSupported('v20.20.2')).toBe(false);
    expect(isSupported('garbage')).toBe(false);
    expect(cacheDir({ HOME: '/home/agent' })).toBe('/home/agent/.cache/veilleur/node-24');
    expect(cacheDir({ HOME: '/home/agent', XDG_CACHE_HOME: '/var/cache/agent' })).toBe('/var/cache/agent/veilleur/node-24');
    expect(cacheDir({ VEILLEUR_NODE_CACHE: '/opt/node' })).toBe('/opt/node');
    // Running on a supported node, nothing is installed: its own directory is the answer.
    expect(supportedNodeBinDir({ current: 'v24.1.0', execPath: '/opt/n/bin/node', log: () => {} })).toBe('/opt/n/bin');
  });

  const sys = systemNode();
  it(`runs commands with Node 24 where the machine's node is ${sys?.version ?? 'absent'}`, () => {
    const { env, supported } = oldMachine();
    const r = spawnSync('sh', [WITH_NODE, 'node', '-p', 'process.version + " " + process.execPath'], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [version, path] = r.stdout.trim().split(' ');
    expect(isSupported(version!)).toBe(true);
    expect(realpathSync(path!)).toBe(supported);
    // npm itself (Debian's, started through `#!/usr/bin/env node`) runs on it too, as in `npm test`.
    const npm = spawnSync('sh', [WITH_NODE, 'sh', '-c', 'node --version && npm exec --offline -- node --version'], { env, encoding: 'utf8', cwd: ROOT });
    expect(npm.status, npm.stderr).toBe(0);
    expect(npm.stdout.trim().split('\n').every((v) => isSupported(v))).toBe(true);
  });

  it('installs it once into the cache with npm, and prints nothing but its directory on stdout', () => {
    const { env, supported } = oldMachine();
    // An npm standing for the registry's: it talks on stdout as npm does, and installs the supported node.
    const fakeNpm = join(tmp, 'fake-npm');
    mkdirSync(fakeNpm, { recursive: true });
    writeFileSync(
      join(fakeNpm, 'npm'),
      `#!/bin/sh\nwhile [ "$1" != "--prefix" ]; do shift; done\necho "added 2 packages in 3s"\nmkdir -p "$2/node_modules/.bin" && ln -s '${supported}' "$2/node_modules/.bin/node"\necho "$2" >> '${join(fakeNpm, 'calls')}'\n`,
      { mode: 0o755 },
    );
    const cache = join(tmp, 'fresh-cache', 'node-24');
    const run = () => spawnSync(systemNode()!.path, [join(ROOT, 'infra', 'scripts', 'node-runtime.mjs'), '--bin-dir'], { env: { ...env, PATH: `${fakeNpm}:${env.PATH}`, VEILLEUR_NODE_CACHE: cache }, encoding: 'utf8' });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    if (isSupported(systemNode()!.version)) {
      // The machine's node is recent enough: nothing to install.
      expect(first.stdout).toBe(`${dirname(systemNode()!.path)}\n`);
      return;
    }
    expect(first.stdout).toBe(`${join(cache, 'node_modules', '.bin')}\n`);
    expect(first.stderr).toMatch(/Installing Node\.js 24 from the npm registry into .*fresh-cache\/node-24/);
    expect(first.stderr).toContain('added 2 packages');
    expect(realpathSync(join(cache, 'node_modules', '.bin', 'node'))).toBe(supported);
    // Once installed, it is found again without npm.
    const second = run();
    expect(second.stdout).toBe(first.stdout);
    expect(readFileSync(join(fakeNpm, 'calls'), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  describe('the demo started through it', () => {
    const started: { child: ChildProcess; pids: number[]; cwd: string }[] = [];
    afterEach(() => {
      for (const d of started.splice(0)) {
        for (const p of d.pids) if (p && alive(p)) process.kill(p, 'SIGKILL');
        if (d.child.exitCode === null) d.child.kill('SIGKILL');
        rmSync(d.cwd, { recursive: true, force: true });
      }
    });

    /** `npm run demo`'s command line, under a shell standing for npm's when `viaShell`. */
    async function startDemo(viaShell: boolean) {
      const { env, supported } = oldMachine();
      const cwd = mkdtempSync(join(tmpdir(), 'veilleur-demo-n24-'));
      const args = [WITH_NODE, 'node', BIN, 'demo', '--minutes', '2', '--history-hours', '1'];
      const child = viaShell
        ? spawn('sh', ['-c', `sh ${args.map((a) => `'${a}'`).join(' ')} & wait`], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('sh', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
      const demo = { child, pids: [] as number[], cwd };
      started.push(demo);
      await waitFor(async () => /Veilleur is running\./.test(out) || child.exitCode !== null, 90_000, `the demo's running line (output so far: ${out.slice(-500)})`);
      const dir = /starting a private Mosquitto and InfluxDB in (.+)$/m.exec(out)?.[1];
      expect(dir, out).toBeDefined();
      const pid = (file: string) => Number(readFileSync(join(dir!, file), 'utf8'));
      const demoPid = Number(/Demo processes: this one (\d+),/.exec(out)?.[1]);
      demo.pids = [demoPid, pid('mosquitto/mosquitto.pid'), pid('influxdb/influxd.pid')];
      for (const p of demo.pids) expect(alive(p), `process ${p}`).toBe(true);
      // The demo runs on the supported node, and no wrapper stands between it and its starter.
      expect(realpathSync(readlinkSync(`/proc/${demoPid}/exe`))).toBe(supported);
      if (!viaShell) expect(demoPid).toBe(child.pid);
      return { ...demo, out: () => out };
    }

    it('stops everything it started on SIGHUP', async () => {
      const demo = await startDemo(false);
      demo.child.kill('SIGHUP');
      await waitFor(async () => demo.pids.every((p) => !alive(p)), 30_000, `processes ${demo.pids.join(', ')} to exit`);
    }, 180_000);

    it('stops everything it started when its parent goes away (kill <npm pid>)', async () => {
      const demo = await startDemo(true);
      demo.child.kill('SIGKILL');
      await waitFor(async () => demo.pids.every((p) => !alive(p)), 30_000, `processes ${demo.pids.join(', ')} to exit`);
      expect(demo.out()).toMatch(/parent process gone: stopping/);
    }, 180_000);
  });
});
