/**
 * Issue #6: MQTT over TLS and InfluxDB over HTTPS, set up through the environment only, on real servers. A
 * throw-away CA (openssl) signs certificates for 127.0.0.1; Mosquitto and influxd speak TLS only, and a second
 * Mosquitto also requires client certificates (mutual TLS). The service runs as a child process, as in production.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, MosquittoServer, startLocalStack, which } from '../../services/dev/servers.ts';
import { generateUplinks, type SimUplink } from '../../services/simulator/generator.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import { queryRows, ROOT, ServiceProcess, waitFor, type Stack } from './support.ts';

interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: trusting it alone must fail. */
  otherCa: string;
}

/** Runs openssl in `dir`; a failure shows its stderr. */
function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
}

/** P-256 keys: quick to generate, and what Mosquitto, Go (influxd) and Node all accept. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=Veilleur test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

/** A leaf certificate signed by `ca`; `extensions` in openssl's extfile syntax (SAN, extended key usage). */
function makeLeaf(dir: string, name: string, ca: string, cn: string, extensions: string[]): void {
  writeFileSync(join(dir, `${name}.ext`), [...extensions, 'basicConstraints=CA:FALSE', ''].join('\n'));
  openssl(dir, ['req', '-new', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
}

function makePki(dir: string): Pki {
  if (!which('openssl')) throw new Error("openssl is not installed: run 'sudo apt-get install -y openssl' (it makes this test's certificates)");
  mkdirSync(dir, { recursive: true });
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  // Clients connect to 127.0.0.1: the IP must be in the subjectAltName (the CN is not checked).
  makeLeaf(dir, 'server', 'ca', '127.0.0.1', ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth']);
  makeLeaf(dir, 'client', 'ca', 'veilleur-it', ['extendedKeyUsage=clientAuth']);
  const f = (n: string) => join(dir, n);
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key'), otherCa: f('other-ca.pem') };
}

// Secrets given to every service run; none may reach its log.
const MQTT_PASSWORD = `mqtt-pw-${randomBytes(12).toString('hex')}`;
const INFLUX_PASSWORD = `influx-pw-${randomBytes(12).toString('hex')}`;
const secretEnv = { MQTT_USERNAME: 'veilleur', MQTT_PASSWORD, INFLUX_USERNAME: 'veilleur', INFLUX_PASSWORD };

let dir: string;
let pki: Pki;
let stack: Stack;
let mtls: MosquittoServer;
const services: ServiceProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'veilleur-tls-'));
  pki = makePki(join(dir, 'pki'));
  const db = 'veilleur';
  const tls = { caFile: pki.ca, certFile: pki.serverCert, keyFile: pki.serverKey };
  const { mqtt: broker, influx } = await startLocalStack(dir, { persistence: true, db, tls });
  mtls = new MosquittoServer(await freePort(), join(dir, 'mosquitto-mtls'), false, { ...tls, requireClientCert: true });
  stack = {
    dir,
    mqtt: broker,
    influx,
    db,
    close: async () => {
      await Promise.all([broker.stop(), influx.stop(), mtls.stop()]);
    },
  };
  await mtls.start();
});

afterAll(async () => {
  for (const s of services) await s.stop();
  await stack?.close();
  if (dir && !process.env.KEEP_TEST_DATA) rmSync(dir, { recursive: true, force: true });
});

const LOG = () => join(dir, 'service.log');

/** The secrets given to the runs (passwords, their Basic form, private keys) that the service log holds. */
function secretsInLog(): string[] {
  if (!existsSync(LOG())) return [];
  const log = readFileSync(LOG(), 'utf8');
  const keyLines = [pki.serverKey, pki.clientKey].flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')));
  const secrets = [MQTT_PASSWORD, INFLUX_PASSWORD, Buffer.from(`veilleur:${INFLUX_PASSWORD}`).toString('base64'), 'PRIVATE KEY', ...keyLines];
  return secrets.filter((s) => log.includes(s));
}

// Every test's runs are checked when it ends, so the check holds whatever tests run, and in whatever order.
afterEach(() => {
  expect(secretsInLog()).toEqual([]);
});

interface Run {
  service: ServiceProcess;
  /** This run's log lines (every run appends to the stack's service.log), parsed. */
  log(): Record<string, unknown>[];
}

/** Starts the service against the TLS stack: `name` keeps its spool and broker session apart from other runs. */
async function startService(name: string, env: Record<string, string>): Promise<Run> {
  let from = 0;
  try {
    from = statSync(LOG()).size;
  } catch {
    // First run: no log yet.
  }
  // Alerts off: they are not what this file tests, and they would add InfluxDB queries to the failing runs.
  const service = new ServiceProcess(
    stack,
    { ...secretEnv, MQTT_CLIENT_ID: `veilleur-${name}`, DATA_DIR: join(dir, `service-${name}`), ALERTS_ENABLED: 'false', ...env },
    townRegistry(),
  );
  services.push(service);
  await service.start();
  return {
    service,
    log: () =>
      readFileSync(LOG())
        .subarray(from)
        .toString('utf8')
        .split('\n')
        // Only complete lines: the last one may still be being written.
        .slice(0, -1)
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const tlsEnv = () => ({ MQTT_URL: stack.mqtt.url, MQTT_CA_FILE: pki.ca, INFLUX_URL: stack.influx.url, INFLUX_CA_FILE: pki.ca });

/** Publishes like a network server would, over TLS, trusting the test CA (and presenting a client certificate if given). */
async function publish(url: string, uplinks: SimUplink[], client?: { cert: string; key: string }): Promise<void> {
  const conn = await mqtt.connectAsync(
    url,
    {
      clientId: `tls-it-pub-${randomBytes(4).toString('hex')}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
      // A broker that refuses the client certificate after a TLS 1.3 handshake may never answer CONNECT: fail in
      // 10 s, not MQTT.js's default 30 s (the whole test's budget).
      connectTimeout: 10_000,
      ca: readFileSync(pki.ca),
      ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
    },
    false,
  );
  try {
    for (const u of uplinks) await conn.publishAsync(u.topic, u.payload, { qos: 1 });
  } finally {
    await conn.endAsync();
  }
}

/** A few simulated uplinks in a one-hour window of their own, so each test counts only its own. */
function uplinksAt(start: string): { sent: SimUplink[]; keys: string[]; from: Date; to: Date } {
  const from = new Date(start);
  const to = new Date(from.getTime() + 3600_000);
  const sent = [...generateUplinks({ start: from, end: to, count: 12, seed: 6 })];
  return { sent, keys: sent.map((u) => `${u.devEui}:${u.fCnt}`).sort(), from, to };
}

async function storedKeys(w: { from: Date; to: Date }): Promise<string[]> {
  const rows = await queryRows(stack.influx, stack.db, `SELECT f_cnt, dev_eui FROM uplink WHERE time >= '${w.from.toISOString()}' AND time < '${w.to.toISOString()}'`);
  return rows.map((r) => `${String(r.dev_eui)}:${String(r.f_cnt)}`).sort();
}

async function metric(service: ServiceProcess, line: string): Promise<number> {
  const text = await (await fetch(`${await service.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : NaN;
}

describe('MQTT over TLS and InfluxDB over HTTPS', () => {
  it('the test servers speak TLS only: a plain MQTT or HTTP client gets nowhere', async () => {
    expect(stack.mqtt.url).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.influx.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const plainMqtt = mqtt.connectAsync(`mqtt://127.0.0.1:${stack.mqtt.port}`, { reconnectPeriod: 0, connectTimeout: 5000 }, false);
    await expect(plainMqtt).rejects.toThrow();
    const plainHttp = await fetch(`http://127.0.0.1:${stack.influx.port}/ping`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plainHttp).not.toBe(204);
    // The helpers themselves reach influxd over HTTPS, trusting the test CA.
    expect((await stack.influx.query('SHOW DATABASES')).results?.[0]?.series?.[0]?.values).toContainEqual(['veilleur']);
  });

  it('stores uplinks received over mqtts:// in InfluxDB over https://, and is ready', async () => {
    const run = await startService('tls', tlsEnv());
    await waitFor(async () => (await run.service.ready())?.ready === true, 20_000, 'service ready over TLS');
    const w = uplinksAt('2026-03-01T00:00:00Z');
    await publish(stack.mqtt.url, w.sent);
    await waitFor(async () => (await storedKeys(w)).length >= w.keys.length, 20_000, 'uplinks stored over HTTPS');
    expect(await storedKeys(w)).toEqual(w.keys);
    expect(await run.service.ready()).toMatchObject({ ready: true, checks: { mqtt: true, influxdb: true } });
    expect(run.log().find((l) => l.msg === 'connected to the MQTT broker')?.broker).toBe(`${stack.mqtt.url}`);
    expect(await run.service.stop()).toBe(0);
  }, 60_000);

  it('mutual TLS: with MQTT_CERT_FILE/MQTT_KEY_FILE the broker that requires a client certificate lets it in', async () => {
    // The broker really requires one: the same connection without a client certificate is turned away.
    await expect(publish(mtls.url, [])).rejects.toThrow();
    const run = await startService('mtls', { ...tlsEnv(), MQTT_URL: mtls.url, MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.clientKey });
    await waitFor(async () => (await run.service.ready())?.ready === true, 20_000, 'service ready with a client certificate');
    const w = uplinksAt('2026-03-02T00:00:00Z');
    await publish(mtls.url, w.sent, { cert: pki.clientCert, key: pki.clientKey });
    await waitFor(async () => (await storedKeys(w)).length >= w.keys.length, 20_000, 'uplinks stored (mutual TLS)');
    expect(await storedKeys(w)).toEqual(w.keys);
    expect(await run.service.stop()).toBe(0);
  }, 90_000);

  it('without MQTT_CA_FILE the broker certificate is refused: not ready, the log says why once, and the service keeps running', async () => {
    // debug: the repeated refusals are logged there, which shows the service went on retrying instead of crashing.
    const run = await startService('no-ca', { MQTT_URL: stack.mqtt.url, INFLUX_URL: stack.influx.url, INFLUX_CA_FILE: pki.ca, LOG_LEVEL: 'debug' });
    const refusals = () => run.log().filter((l) => l.component === 'mqtt' && l.msg === 'MQTT error');
    await waitFor(async () => refusals().length >= 3, 20_000, 'three refused TLS handshakes in the log');
    const [first, ...repeats] = refusals();
    expect(first).toMatchObject({ level: 40, code: expect.stringMatching(/CERT|ISSUER|VERIFY/) as unknown, hint: expect.stringContaining('MQTT_CA_FILE') as unknown });
    expect(String(first!.err)).toMatch(/self[- ]signed|unable to verify|local issuer/i);
    // The same refusal every second is not repeated at warn.
    expect(repeats.map((l) => l.level)).toEqual(repeats.map(() => 20));
    expect(run.service.pid()).toBeDefined();
    expect(await run.service.ready()).toMatchObject({ ready: false, checks: { mqtt: false, influxdb: true } });
    expect(run.log().some((l) => l.msg === 'connected to the MQTT broker')).toBe(false);
    expect(run.log().some((l) => Number(l.level) >= 50)).toBe(false);
    expect(await run.service.stop()).toBe(0);
  }, 60_000);

  it('without a client certificate, the broker that requires one refuses the service: not ready, the log says what to set', async () => {
    const run = await startService('no-client-cert', { ...tlsEnv(), MQTT_URL: mtls.url });
    const refusals = () => run.log().filter((l) => l.component === 'mqtt' && l.msg === 'MQTT error');
    await waitFor(async () => refusals().length > 0, 20_000, 'a refused connection in the log');
    expect(refusals()[0]).toMatchObject({ level: 40, hint: expect.stringContaining('MQTT_CERT_FILE') as unknown });
    expect(String(refusals()[0]!.err)).toMatch(/certificate required|handshake failure|bad certificate/i);
    expect(run.service.pid()).toBeDefined();
    expect(await run.service.ready()).toMatchObject({ ready: false, checks: { mqtt: false, influxdb: true } });
    expect(run.log().some((l) => l.msg === 'connected to the MQTT broker')).toBe(false);
    expect(await run.service.stop()).toBe(0);
  }, 60_000);

  it('with a wrong INFLUX_CA_FILE the data stays in the spool, readiness says InfluxDB is unreachable, and nothing is lost', async () => {
    const w = uplinksAt('2026-03-03T00:00:00Z');
    const run = await startService('influx-ca', { ...tlsEnv(), INFLUX_CA_FILE: pki.otherCa });
    await waitFor(async () => (await run.service.ready())?.checks.mqtt === true, 20_000, 'broker connected');
    await publish(stack.mqtt.url, w.sent);
    await waitFor(async () => (await metric(run.service, 'veilleur_mqtt_messages_total{kind="uplink"}')) === w.sent.length, 20_000, 'uplinks received');
    const writeFailures = () => run.log().filter((l) => l.msg === 'InfluxDB write failed; data stays in the spool');
    await waitFor(async () => writeFailures().length > 0, 20_000, 'a failed write in the log');
    expect(String(writeFailures()[0]!.err)).toMatch(/certificate|self[- ]signed|local issuer/i);
    const ready = await run.service.ready();
    expect(ready).toMatchObject({ ready: false, checks: { mqtt: true, influxdb: false, spool: true } });
    expect((ready as unknown as { spoolBytes: number }).spoolBytes).toBeGreaterThan(0);
    expect(await storedKeys(w)).toEqual([]);
    // A clean stop cannot drain to InfluxDB: the spool keeps the data on disk.
    expect(await run.service.stop()).toBe(0);
    expect(run.log().some((l) => l.msg === 'stopped with data still in the spool; it is written at next start')).toBe(true);

    // Restarted with the right CA and a new broker session (another client id), so whatever arrives now can only
    // come from the spool, not from the broker redelivering.
    const fixed = await startService('influx-ca', { ...tlsEnv(), MQTT_CLIENT_ID: 'veilleur-influx-ca-fixed' });
    await waitFor(async () => (await storedKeys(w)).length >= w.keys.length, 30_000, 'spooled uplinks written after the fix');
    expect(await storedKeys(w)).toEqual(w.keys);
    await waitFor(async () => (await fixed.service.ready())?.ready === true, 20_000, 'service ready after the fix');
    expect(await fixed.service.stop()).toBe(0);
  }, 90_000);

  it('a TLS file that cannot work stops the start at once (exit 2), naming the variable and never printing the key', () => {
    const missing = join(dir, 'pki', 'missing.pem');
    const cases: [Record<string, string>, RegExp][] = [
      [{ MQTT_CA_FILE: missing }, /variable MQTT_CA_FILE: cannot read .*missing\.pem \(ENOENT\)/],
      [{ MQTT_CA_FILE: pki.clientKey }, /variable MQTT_CA_FILE: .*client\.key holds no PEM certificate/],
      [{ MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.serverKey }, /variable MQTT_KEY_FILE: .*server\.key: expected the unencrypted PEM private key of MQTT_CERT_FILE \(.*key values mismatch\)/],
      [{ MQTT_CERT_FILE: pki.clientCert }, /variable MQTT_KEY_FILE: a client certificate needs both/],
      [{ INFLUX_CA_FILE: missing }, /variable INFLUX_CA_FILE: cannot read/],
    ];
    const keyLines = readFileSync(pki.serverKey, 'utf8').split('\n').filter((l) => l && !l.startsWith('-----'));
    for (const [env, expected] of cases) {
      // Before these checks, an unreadable MQTT file left a half-started process behind: the timeout would show it.
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'veilleur.js'), 'serve'], {
        env: { PATH: process.env.PATH ?? '', ...tlsEnv(), INFLUX_DB: stack.db, HTTP_PORT: '0', DATA_DIR: join(dir, 'service-config'), ...env },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: 2, stderr: expect.stringMatching(expected) as unknown });
      expect(keyLines.filter((l) => r.stderr.includes(l) || r.stdout.includes(l))).toEqual([]);
    }
  }, 120_000);

  it('no secret of any run reaches the service log: passwords, Basic credentials, private keys', async () => {
    // A run of its own that reads every secret (passwords, the client key of mutual TLS), so this test stands alone.
    const run = await startService('secrets', { ...tlsEnv(), MQTT_URL: mtls.url, MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.clientKey });
    await waitFor(async () => (await run.service.ready())?.ready === true, 20_000, 'service ready with every secret');
    expect(await run.service.stop()).toBe(0);
    const log = readFileSync(LOG(), 'utf8');
    // Every run of this file so far logged here (the check below is about a real log, not an empty file).
    expect(log.split('\n').filter((l) => l.includes('"msg":"Veilleur started"')).length).toBe(services.length);
    expect(run.log().some((l) => l.msg === 'connected to the MQTT broker')).toBe(true);
    expect(secretsInLog()).toEqual([]);
  }, 60_000);
});
