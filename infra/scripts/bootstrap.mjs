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

if (needServers && !(has('mosquitto') && has('influxd'))) {
  if (process.getuid?.() !== 0) {
    console.error('bootstrap: Mosquitto and InfluxDB 1.x are needed. Install them: sudo apt-get update && sudo apt-get install -y mosquitto influxdb');
    process.exit(1);
  }
  console.error('bootstrap: installing mosquitto and influxdb from Debian packages…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execSync('apt-get update -qq', { stdio: 'inherit', env });
  execSync('apt-get install -y -qq mosquitto influxdb', { stdio: 'inherit', env });
}

// The TLS test makes a throw-away certificate authority with openssl; the yearly report test screenshots its
// HTML in a headless Chromium.
const testPackages = needTestTools ? [has('openssl') ? '' : 'openssl', existsSync('/usr/bin/chromium') ? '' : 'chromium'].filter(Boolean) : [];
if (testPackages.length) {
  if (process.getuid?.() !== 0) {
    console.error(`bootstrap: the tests need ${testPackages.join(' and ')}. Install: sudo apt-get install -y ${testPackages.join(' ')}`);
    process.exit(1);
  }
  console.error(`bootstrap: installing ${testPackages.join(', ')} for the tests…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execSync('apt-get update -qq', { stdio: 'inherit', env });
  execSync(`apt-get install -y -qq ${testPackages.join(' ')}`, { stdio: 'inherit', env });
}

const hasCompose = () => spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0 || has('docker-compose');
if (needTestTools && !hasCompose()) {
  if (process.getuid?.() !== 0) {
    console.error('bootstrap: a Compose client is needed to validate docker-compose.yml. Install one: sudo apt-get install -y docker-compose (or Docker Compose v2)');
    process.exit(1);
  }
  console.error('bootstrap: installing docker-compose (client only, to validate docker-compose.yml)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execSync('apt-get update -qq', { stdio: 'inherit', env });
  execSync('apt-get install -y -qq docker-compose', { stdio: 'inherit', env });
}
