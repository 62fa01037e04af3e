#!/usr/bin/env node
// Makes a fresh clone runnable: npm dependencies (npm ci) and, for the demo and the integration tests, Debian's
// mosquitto and influxdb (installed with apt-get when running as root; otherwise says what to install).
// Plain JavaScript without dependencies: it runs before node_modules exists.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const needServers = process.argv.includes('--servers');
// --test-tools: what only the tests need: a Compose client to validate docker-compose.yml (Compose v2, or Debian's
// docker-compose 1.29), openssl for the TLS test, chromium for the report screenshot test.
const needTestTools = process.argv.includes('--test-tools');

function has(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin} || test -x /usr/bin/${bin}`]).status === 0;
}

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  console.error('bootstrap: installing npm dependencies (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}

// Debian packages still missing, each with what needs it: the servers for the demo and the integration tests;
// for the tests only, openssl (the TLS test's throw-away CA), chromium (the yearly report's screenshot) and a
// Compose client (docker-compose.yml validated without an engine; Compose v2 counts when present).
const hasCompose = () => spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0 || has('docker-compose');
const missing = [
  ...(needServers && !has('mosquitto') ? ['mosquitto'] : []),
  ...(needServers && !has('influxd') ? ['influxdb'] : []),
  ...(needTestTools && !has('openssl') ? ['openssl'] : []),
  ...(needTestTools && !existsSync('/usr/bin/chromium') ? ['chromium'] : []),
  ...(needTestTools && !hasCompose() ? ['docker-compose'] : []),
];
if (missing.length) {
  if (process.getuid?.() !== 0) {
    console.error(`bootstrap: missing Debian packages. Install them: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.error(`bootstrap: installing ${missing.join(', ')} from Debian packages…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execSync('apt-get update -qq', { stdio: 'inherit', env });
  execSync(`apt-get install -y -qq ${missing.join(' ')}`, { stdio: 'inherit', env });
}
