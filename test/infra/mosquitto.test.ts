/**
 * The production broker configuration (infra/mosquitto/mosquitto.conf and acl) run on a real Mosquitto: only its
 * paths and ports are changed for the test (temporary directory, free loopback ports). It must refuse anonymous
 * clients and wrong passwords, let the network server publish only under its event topics and Veilleur only read
 * them and publish its alerts, and speak TLS on its second listener. The topic is what places an event in a
 * commune, so these refusals are what makes `tenants[].applications` an authority.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, which } from '../../services/dev/servers.ts';
import { ROOT, waitFor } from '../integration/support.ts';

const PASSWORDS = { veilleur: 'veilleur-pw-1', chirpstack: 'chirpstack-pw-2', supervision: 'supervision-pw-3' } as const;
type User = keyof typeof PASSWORDS;
const EVENT = 'application/0f4c6b2e-1d1a-4f5e-9a43-1b7f0e5a0a01/device/24e124136d490001/event/up';

let dir: string;
let broker: ChildProcess;
let plainPort: number;
let tlsPort: number;
const clients: MqttClient[] = [];

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
}

/** A throw-away CA and a server certificate for 127.0.0.1, where the configuration expects them. */
function makeCerts(certs: string): void {
  mkdirSync(certs, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', join(certs, 'ca.key'), '-out', join(certs, 'ca.crt'), '-days', '2', '-subj', '/CN=Veilleur test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  writeFileSync(join(certs, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  run('openssl', ['req', '-new', ...ec, '-keyout', join(certs, 'server.key'), '-out', join(certs, 'server.csr'), '-subj', '/CN=127.0.0.1']);
  run('openssl', ['x509', '-req', '-in', join(certs, 'server.csr'), '-CA', join(certs, 'ca.crt'), '-CAkey', join(certs, 'ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', join(certs, 'server.ext'), '-out', join(certs, 'server.crt')]);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function client(user: User | undefined, opts: { password?: string; tls?: boolean; ca?: boolean } = {}): Promise<MqttClient> {
  const url = opts.tls ? `mqtts://127.0.0.1:${tlsPort}` : `mqtt://127.0.0.1:${plainPort}`;
  const c = await mqtt.connectAsync(url, {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...(user ? { username: user, password: opts.password ?? PASSWORDS[user] } : {}),
    ...(opts.tls ? { ca: opts.ca === false ? undefined : readFileSync(join(dir, 'certs', 'ca.crt')), rejectUnauthorized: true } : {}),
  });
  clients.push(c);
  return c;
}

/** Messages a client receives, in order, as "topic payload". */
function inbox(c: MqttClient): string[] {
  const got: string[] = [];
  c.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
  return got;
}

beforeAll(async () => {
  for (const bin of ['mosquitto', 'mosquitto_passwd', 'openssl']) {
    if (!which(bin)) throw new Error(`${bin} is not installed: run 'sudo apt-get install -y mosquitto mosquitto-clients openssl'`);
  }
  dir = mkdtempSync(join(tmpdir(), 'veilleur-broker-'));
  [plainPort, tlsPort] = [await freePort(), await freePort()];
  makeCerts(join(dir, 'certs'));
  const users = Object.entries(PASSWORDS);
  run(which('mosquitto_passwd')!, ['-b', '-c', join(dir, 'passwd'), ...users[0]!]);
  for (const u of users.slice(1)) run(which('mosquitto_passwd')!, ['-b', join(dir, 'passwd'), ...u]);
  writeFileSync(join(dir, 'acl'), readFileSync(join(ROOT, 'infra', 'mosquitto', 'acl')));
  mkdirSync(join(dir, 'data'));
  const conf = readFileSync(join(ROOT, 'infra', 'mosquitto', 'mosquitto.conf'), 'utf8')
    .replace(/^listener 1883$/m, `listener ${plainPort} 127.0.0.1`)
    .replace(/^listener 8883$/m, `listener ${tlsPort} 127.0.0.1`)
    .replaceAll('/mosquitto/config/', `${dir}/`)
    .replaceAll('/mosquitto/data/', `${dir}/data/`);
  expect(conf).not.toMatch(/ \/mosquitto\//);
  // Started as root, mosquitto drops to the 'mosquitto' user, which cannot enter a private (0700) temp dir.
  writeFileSync(join(dir, 'mosquitto.conf'), `${conf}\n${process.getuid?.() === 0 ? 'user root\n' : ''}`);
  broker = spawn(which('mosquitto')!, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  broker.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(async () => {
    if (broker.exitCode !== null) throw new Error(`mosquitto exited with the production configuration:\n${stderr}`);
    return (await portOpen(plainPort)) && (await portOpen(tlsPort));
  }, 15_000, 'both listeners');
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  if (broker && broker.exitCode === null) {
    const exited = new Promise((r) => broker.once('exit', r));
    broker.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('production Mosquitto configuration', () => {
  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(client(undefined)).rejects.toThrow(/Not authorized|Bad username or password/i);
    await expect(client('veilleur', { password: 'wrong' })).rejects.toThrow(/Not authorized|Bad username or password/i);
  });

  it('lets the network server publish its events to Veilleur, and no one else publish there', async () => {
    const veilleur = await client('veilleur');
    const events = inbox(veilleur);
    await veilleur.subscribeAsync('application/#', { qos: 1 });
    const chirpstack = await client('chirpstack');
    await chirpstack.publishAsync(EVENT, 'genuine-1', { qos: 1 });

    // Veilleur (another connection of its user) and the supervision cannot publish an event: the broker drops it.
    const spoofer = await client('veilleur');
    await spoofer.publishAsync(EVENT, 'from-veilleur', { qos: 1 });
    const supervision = await client('supervision');
    await supervision.publishAsync(EVENT, 'from-supervision', { qos: 1 });
    // Handled in order: once the next genuine event arrives, the refused ones would have arrived before it.
    await chirpstack.publishAsync(EVENT, 'genuine-2', { qos: 1 });
    await waitFor(async () => events.length >= 2, 10_000, 'the network server’s events');
    expect(events).toEqual([`${EVENT} genuine-1`, `${EVENT} genuine-2`]);
  });

  it('lets Veilleur publish its alerts to supervision, and not the network server', async () => {
    const supervision = await client('supervision');
    const alerts = inbox(supervision);
    await supervision.subscribeAsync(['veilleur/alerts/#', 'application/#'], { qos: 1 });
    const chirpstack = await client('chirpstack');
    await chirpstack.publishAsync('veilleur/alerts/saint-veilleur/W7', 'forged', { qos: 1 });
    await chirpstack.publishAsync(EVENT, 'not-for-supervision', { qos: 1 });
    const veilleur = await client('veilleur');
    await veilleur.publishAsync('veilleur/alerts/saint-veilleur/W7', 'opened', { qos: 1 });
    await waitFor(async () => alerts.length >= 1, 10_000, 'Veilleur’s alert');
    expect(alerts).toEqual(['veilleur/alerts/saint-veilleur/W7 opened']);
  });

  it('gives Veilleur the uptime the Compose health check reads', async () => {
    const veilleur = await client('veilleur');
    const sys = inbox(veilleur);
    await veilleur.subscribeAsync('$SYS/broker/uptime', { qos: 0 });
    await waitFor(async () => sys.length >= 1, 15_000, '$SYS/broker/uptime');
    expect(sys[0]).toMatch(/^\$SYS\/broker\/uptime \d+ seconds$/);
  });

  it('speaks TLS on its second listener, with the same users and ACL', async () => {
    const veilleur = await client('veilleur');
    const events = inbox(veilleur);
    await veilleur.subscribeAsync('application/#', { qos: 1 });
    const overTls = await client('chirpstack', { tls: true });
    await overTls.publishAsync(EVENT, 'over-tls', { qos: 1 });
    await waitFor(async () => events.length >= 1, 10_000, 'the event sent over TLS');
    expect(events).toEqual([`${EVENT} over-tls`]);
    // A client that does not trust the broker's CA does not get in, nor does an anonymous one over TLS.
    await expect(client('chirpstack', { tls: true, ca: false })).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
    await expect(client(undefined, { tls: true })).rejects.toThrow(/Not authorized|Bad username or password/i);
  });

  it('is published by docker-compose.yml in clear on the loopback only, with its ACL and certificates mounted', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { ports?: string[]; volumes?: string[] }> };
    const m = compose.services.mosquitto!;
    const ports = m.ports ?? [];
    expect(ports.filter((p) => /(^|:)1883$/.test(p))).toEqual(['127.0.0.1:1883:1883']);
    expect(ports).toContain('8883:8883');
    expect(ports.filter((p) => !p.startsWith('127.0.0.1:') && p !== '8883:8883')).toEqual([]);
    const volumes = (m.volumes ?? []).join('\n');
    expect(volumes).toContain('./infra/mosquitto/acl:/mosquitto/config/acl:ro');
    expect(volumes).toContain('./infra/mosquitto/certs:/mosquitto/config/certs:ro');
  });
});
