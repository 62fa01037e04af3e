#!/usr/bin/env node
// Veilleur runs on Node.js 24 (LTS). Node 20 reached its end of life in April 2026 and some dependencies already
// require 22 or later. On a machine whose `node` is older (Debian 12 and 13 ship 18 and 20), this finds or installs
// Node 24 from the npm registry (the `node` package: the official binaries) in the user's cache directory, and never
// touches the system's node. Why not `npm install -g node@24`: with Debian's npm the global prefix is /usr, so it
// would have to replace /usr/bin/node, which the `nodejs` package owns; npm refuses (EEXIST), and with --force it
// would change the node of every user and program of the machine, until the next apt upgrade puts Debian's back.
//
//   node infra/scripts/node-runtime.mjs --bin-dir   prints the directory of a supported `node` (installs it if needed)
//
// Plain JavaScript without dependencies, runnable by an old Node: it runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The oldest major version Veilleur supports (package.json's engines say the same). */
export const MIN_MAJOR = 24;

/** True when a `process.version`-like string ("v24.1.0", "24.1.0") is a supported Node. */
export function isSupported(version) {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  return Number.isInteger(major) && major >= MIN_MAJOR;
}

/** Where the private Node is kept: VEILLEUR_NODE_CACHE, else the user's cache directory (shared by the clones). */
export function cacheDir(env = process.env) {
  if (env.VEILLEUR_NODE_CACHE) return env.VEILLEUR_NODE_CACHE;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'veilleur', `node-${MIN_MAJOR}`);
}

/** The version a node binary reports, or undefined when it does not run. */
function versionOf(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** What to type by hand when the automatic install is not possible. */
export function manualAdvice(dir) {
  return [
    `  npm install --prefix '${dir}' node@${MIN_MAJOR}`,
    `  export PATH='${join(dir, 'node_modules', '.bin')}':"$PATH"`,
    `or install Node.js ${MIN_MAJOR} from https://nodejs.org/ (or your distribution's NodeSource packages), then run the command again.`,
  ].join('\n');
}

/**
 * The directory holding a supported `node`: the running one's when it is supported, else the cached private one,
 * installed first when missing. Progress and errors go to stderr; throws with what to run by hand on failure.
 */
export function supportedNodeBinDir({ env = process.env, current = process.version, execPath = process.execPath, log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  if (isSupported(current)) return dirname(execPath);
  const dir = cacheDir(env);
  const bin = join(dir, 'node_modules', '.bin', 'node');
  const cached = existsSync(bin) ? versionOf(bin) : undefined;
  if (cached && isSupported(cached)) return dirname(bin);

  log(`Veilleur needs Node.js ${MIN_MAJOR} or later; this machine's node is ${current} (${execPath}).`);
  log(`Installing Node.js ${MIN_MAJOR} from the npm registry into ${dir} (once, about 130 MB on disk; the system's node is left as it is)…`);
  // npm's own output goes to stderr: stdout carries only the answer, which callers read with $(…).
  // Installed beside the final place then renamed: an interrupted or concurrent install never leaves a half-made
  // directory where the next run would look.
  mkdirSync(dirname(dir), { recursive: true });
  const staging = `${dir}.installing-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  const npm = spawnSync('npm', ['install', '--prefix', staging, `node@${MIN_MAJOR}`, '--no-audit', '--no-fund', '--no-save', '--loglevel=error'], { stdio: ['ignore', 2, 2], env });
  const staged = join(staging, 'node_modules', '.bin', 'node');
  const got = npm.status === 0 && existsSync(staged) ? versionOf(staged) : undefined;
  if (!got || !isSupported(got)) {
    rmSync(staging, { recursive: true, force: true });
    const why = npm.error ? `npm could not be started (${npm.error.message})` : npm.status !== 0 ? `npm install exited with ${npm.status ?? npm.signal}` : `the installed node reports ${got ?? 'nothing'}`;
    throw new Error(`could not install Node.js ${MIN_MAJOR} (${why}). To do it by hand:\n${manualAdvice(dir)}`);
  }
  rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(staging, dir);
  } catch (err) {
    // Another run installed it at the same moment: theirs is as good.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(bin)) throw err;
  }
  log(`Node.js ${got} installed: ${bin}`);
  return dirname(bin);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] !== '--bin-dir') {
    process.stderr.write('usage: node infra/scripts/node-runtime.mjs --bin-dir\n');
    process.exit(2);
  }
  try {
    process.stdout.write(`${supportedNodeBinDir()}\n`);
  } catch (err) {
    process.stderr.write(`node-runtime: ${err.message}\n`);
    process.exit(1);
  }
}
