/**
 * Private Mosquitto and InfluxDB 1.x servers for the demo, the integration tests and the benchmark: Debian's
 * binaries on free 127.0.0.1 ports, in a temporary directory, started as child processes and stopped by PID.
 * Nothing here is used in production (docker-compose.yml runs the real stack).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request as plainRequest } from 'node:http';
import { request as tlsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createDatabase } from '../storage/influxql.ts';

/**
 * A port free on 127.0.0.1 now, chosen below the kernel's ephemeral range: a port from `listen(0)` is in that range,
 * where any outgoing connection (thousands, in the tests) may take it before the server it was meant for binds it.
 */
export async function freePort(): Promise<number> {
  const [low, high] = reservablePortRange();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await portIsBindable(port)) return port;
  }
  return anyFreePort();
}

function reservablePortRange(): [number, number] {
  try {
    const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (ephemeralLow > 12_000) return [10_000, ephemeralLow];
  } catch {
    // Not Linux: any port the system hands out.
  }
  return [0, 0];
}

function portIsBindable(port: number): Promise<boolean> {
  if (port === 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export function which(binary: string, dirs = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/sbin']): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${binary} || true`], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH}:${dirs.join(':')}` } });
  const found = r.stdout.trim();
  return found || undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** TLS for a private server: its certificate and key, and the CA that signed them (which these helpers trust). */
export interface ServerTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Mosquitto only: every client must present a certificate signed by `caFile` (mutual TLS). */
  requireClientCert?: boolean;
}

export interface ManagedServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  pid(): number | undefined;
  /** (Re)starts the process with the same configuration, data and port. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; waits for the process to exit. */
  stop(graceMs?: number): Promise<void>;
}

abstract class ChildServer implements ManagedServer {
  protected child: ChildProcess | undefined;
  abstract readonly name: string;
  abstract readonly url: string;

  constructor(
    readonly port: number,
    protected readonly dir: string,
  ) {}

  pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  protected abstract command(): { bin: string; args: string[] };
  protected abstract ready(): Promise<boolean>;

  async start(): Promise<void> {
    const { bin, args } = this.command();
    const log = openSync(join(this.dir, `${this.name}.log`), 'a');
    // INFLUXDB_* variables would override the generated configuration file.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));
    const child = spawn(bin, args, { stdio: ['ignore', log, log], env, detached: false });
    this.child = child;
    writeFileSync(join(this.dir, `${this.name}.pid`), String(child.pid));
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) {
        const logFile = join(this.dir, `${this.name}.log`);
        const why = /address already in use/i.test(readFileSync(logFile, 'utf8')) ? ': a port was taken meanwhile' : '';
        throw new Error(`${this.name} exited during start-up (code ${child.exitCode})${why}; see ${logFile}`);
      }
      if (await this.ready()) return;
      await sleep(100);
    }
    await this.stop();
    throw new Error(`${this.name} did not become ready on port ${this.port} within 30 s`);
  }

  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGKILL, for fault tests. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
}

export class MosquittoServer extends ChildServer {
  readonly name = 'mosquitto';
  get url(): string {
    return `${this.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  constructor(
    port: number,
    dir: string,
    persistence: boolean,
    private readonly tls?: ServerTls,
  ) {
    super(port, dir);
    mkdirSync(join(dir, 'persist'), { recursive: true });

    // max_queued_messages: the default (1000) makes the broker drop QoS 1 messages for a slow subscriber.
    writeFileSync(
      join(dir, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        // TLS settings belong to the listener above; cafile verifies client certificates when they are required.
        ...(tls
          ? [`cafile ${tls.caFile}`, `certfile ${tls.certFile}`, `keyfile ${tls.keyFile}`, `require_certificate ${tls.requireClientCert ? 'true' : 'false'}`]
          : []),
        'allow_anonymous true',
        `persistence ${persistence ? 'true' : 'false'}`,
        `persistence_location ${join(dir, 'persist')}/`,
        'autosave_interval 1',
        // Started as root, mosquitto drops to the 'mosquitto' user, which cannot enter a private (0700) temp dir.
        ...(process.getuid?.() === 0 ? ['user root'] : []),
        'max_queued_messages 10000000',
        'max_queued_bytes 0',
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        '',
      ].join('\n'),
    );
  }

  protected command() {
    const bin = which('mosquitto');
    if (!bin) throw new Error(missing('mosquitto'));
    return { bin, args: ['-c', join(this.dir, 'mosquitto.conf')] };
  }

  protected async ready(): Promise<boolean> {
    return new Promise((resolve) => {
      import('node:net').then(({ connect }) => {
        const s = connect(this.port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
    });
  }
}

export class InfluxServer extends ChildServer {
  readonly name = 'influxd';
  /** The CA the helpers below trust when the server speaks HTTPS. */
  private readonly ca: Buffer | undefined;
  get url(): string {
    return `${this.ca ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  constructor(port: number, rpcPort: number, dir: string, tls?: ServerTls) {
    super(port, dir);
    this.ca = tls ? readFileSync(tls.caFile) : undefined;
    for (const d of ['meta', 'data', 'wal']) mkdirSync(join(dir, d), { recursive: true });
    // influxd 1.x always opens its RPC listener: bound to loopback. Everything else that listens is off.
    writeFileSync(
      join(dir, 'influxdb.conf'),
      `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  auth-enabled = false
  log-enabled = false
  suppress-write-log = true
  pprof-enabled = false
  unix-socket-enabled = false
${tls ? `  https-enabled = true\n  https-certificate = "${tls.certFile}"\n  https-private-key = "${tls.keyFile}"\n` : ''}[ifql]
  enabled = false
[logging]
  level = "warn"
  suppress-logo = true
`,
    );
  }

  protected command() {
    const bin = which('influxd');
    if (!bin) throw new Error(missing('influxdb'));
    return { bin, args: ['run', '-config', join(this.dir, 'influxdb.conf')] };
  }

  protected async ready(): Promise<boolean> {
    try {
      const r = await httpRequest(`${this.url}/ping`, { ca: this.ca, timeoutMs: 1000 });
      return r.status === 204;
    } catch {
      return false;
    }
  }

  async query(q: string, db?: string): Promise<InfluxQueryResponse> {
    const body = new URLSearchParams({ q, epoch: 'ms', ...(db ? { db } : {}) }).toString();
    const r = await httpRequest(`${this.url}/query`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      ca: this.ca,
      timeoutMs: 30_000,
    });
    const json = JSON.parse(r.body) as InfluxQueryResponse;
    const err = json.error ?? json.results?.find((x) => x.error)?.error;
    if (err) throw new Error(`InfluxQL '${q}': ${err}`);
    return json;
  }

  async createDatabase(db: string): Promise<void> {
    await this.query(createDatabase(db));
  }
}

export interface InfluxQueryResponse {
  error?: string;
  results?: { statement_id?: number; error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
}

/** One HTTP(S) request; node:https because fetch cannot be told to trust a private CA. No agent: nothing lingers. */
function httpRequest(
  url: string,
  opts: { method?: string; body?: string; headers?: Record<string, string>; ca?: Buffer | undefined; timeoutMs: number },
): Promise<{ status: number; body: string }> {
  const https = url.startsWith('https:');
  return new Promise((resolve, reject) => {
    const req = (https ? tlsRequest : plainRequest)(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false, signal: AbortSignal.timeout(opts.timeoutMs), ...(https && opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

function missing(pkg: string): string {
  return `${pkg} is not installed: run 'sudo apt-get install -y mosquitto influxdb' (Debian/Ubuntu), or use docker-compose.yml`;
}

/** Starts both servers in `dir`; the caller stops them. With `tls`, both use that certificate (mqtts://, https://). */
export async function startLocalStack(
  dir: string,
  opts: { persistence?: boolean; db?: string; tls?: ServerTls } = {},
): Promise<{ mqtt: MosquittoServer; influx: InfluxServer }> {
  const [mqtt, influx] = await Promise.all([
    startOnFreePorts(async (attempt) => new MosquittoServer(await freePort(), join(dir, `mosquitto${suffix(attempt)}`), opts.persistence ?? true, opts.tls)),
    startOnFreePorts(async (attempt) => new InfluxServer(await freePort(), await freePort(), join(dir, `influxdb${suffix(attempt)}`), opts.tls)),
  ]);
  if (opts.db) await influx.createDatabase(opts.db);
  return { mqtt, influx };
}

const suffix = (attempt: number) => (attempt === 0 ? '' : `-${attempt}`);

/** Starts the server `make` builds; if another process took one of its ports meanwhile, builds it again on new ones. */
export async function startOnFreePorts<S extends ManagedServer>(make: (attempt: number) => Promise<S>, attempts = 3): Promise<S> {
  for (let attempt = 0; ; attempt++) {
    const server = await make(attempt);
    try {
      await server.start();
      return server;
    } catch (err) {
      if (attempt + 1 >= attempts || !String(err).includes('a port was taken meanwhile')) throw err;
    }
  }
}

/**
 * A private NATS server with JetStream on file storage (Debian's `nats-server`, 2.9 here), for the cluster mode's
 * tests and demo: 127.0.0.1 only, its JetStream data in `dir/jetstream`, so a restart keeps streams, consumers and
 * key-value buckets as a production server does. The monitoring port answers `/healthz` only once JetStream is up.
 */
export class NatsServer extends ChildServer {
  readonly name = 'nats-server';
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  constructor(
    port: number,
    private readonly monitorPort: number,
    dir: string,
  ) {
    super(port, dir);
    mkdirSync(join(dir, 'jetstream'), { recursive: true });
    writeFileSync(
      join(dir, 'nats.conf'),
      [
        'server_name: veilleur-dev',
        `listen: "127.0.0.1:${port}"`,
        `http: "127.0.0.1:${monitorPort}"`,
        'jetstream {',
        `  store_dir: "${join(dir, 'jetstream')}"`,
        '  max_memory_store: 64MB',
        '  max_file_store: 4GB',
        '}',
        '',
      ].join('\n'),
    );
  }

  protected command() {
    const bin = which('nats-server');
    if (!bin) throw new Error(`nats-server is not installed: run 'sudo apt-get install -y nats-server' (Debian/Ubuntu)`);
    return { bin, args: ['-c', join(this.dir, 'nats.conf')] };
  }

  protected async ready(): Promise<boolean> {
    try {
      const r = await httpRequest(`http://127.0.0.1:${this.monitorPort}/healthz`, { timeoutMs: 1000 });
      return r.status === 200;
    } catch {
      return false;
    }
  }
}

/** Starts a private NATS server with JetStream in `dir/nats…`; the caller stops it. */
export function startNats(dir: string): Promise<NatsServer> {
  return startOnFreePorts(async (attempt) => new NatsServer(await freePort(), await freePort(), join(dir, `nats${suffix(attempt)}`)));
}
