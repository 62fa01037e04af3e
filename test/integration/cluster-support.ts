/**
 * What the cluster tests share (issue 17): a private NATS server with JetStream next to the usual Mosquitto and
 * InfluxDB, and replicas of the real service as child processes, each with its own data directory, HTTP port, log
 * and processing trace (VEILLEUR_CLUSTER_TRACE: the order in which it handed messages to the ingestor).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { stringify } from 'yaml';
import { clusterSchema, type ClusterConfig } from '../../services/cluster/config.ts';
import type { FileConfig } from '../../services/config/schema.ts';
import { freePort, startNats, type NatsServer } from '../../services/dev/servers.ts';
import { ROOT, signalChild, startStack, waitFor, type Stack } from './support.ts';

/**
 * A private nats-server for tests that drive the cluster's pieces in this process: its temporary directory, and the
 * connections the test opens, all closed by `stop()`. Call `start()` in beforeAll and `stop()` in afterAll.
 */
export function privateNats(prefix: string) {
  const conns: NatsConnection[] = [];
  let dir = '';
  let server: NatsServer | undefined;
  return {
    get dir(): string {
      return dir;
    },
    get server(): NatsServer {
      if (!server) throw new Error('privateNats: start() first');
      return server;
    },
    async start(): Promise<void> {
      dir = mkdtempSync(join(tmpdir(), prefix));
      server = await startNats(dir);
    },
    async connect(opts: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
      const nc = await connect({ servers: this.server.url, ...opts });
      conns.push(nc);
      return nc;
    },
    async stop(): Promise<void> {
      for (const nc of conns) await nc.close().catch(() => undefined);
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ClusterStack extends Stack {
  nats: NatsServer;
}

export async function startClusterStack(): Promise<ClusterStack> {
  const stack = await startStack({ persistence: true });
  const nats = await startNats(stack.dir);
  return {
    ...stack,
    nats,
    async close() {
      await nats.stop();
      await stack.close();
    },
  };
}

/** The registry with a `cluster:` section pointing at the stack's NATS server, written once for every replica. */
export function writeClusterConfig(stack: ClusterStack, registry: FileConfig, cluster: Partial<ClusterConfig> = {}, name = 'veilleur-cluster.yaml'): string {
  const file = join(stack.dir, name);
  const section = clusterSchema.parse({ nats: { servers: [stack.nats.url] }, leaseTtlSeconds: 5, ...cluster });
  writeFileSync(file, stringify({ ...registry, cluster: section }));
  return file;
}

export class Replica {
  private child: ChildProcess | undefined;
  readonly port: Promise<number>;
  readonly dir: string;
  readonly traceFile: string;

  constructor(
    readonly id: string,
    private readonly stack: ClusterStack,
    private readonly configFile: string,
    private readonly extraEnv: Record<string, string> = {},
  ) {
    this.port = freePort();
    this.dir = join(stack.dir, id);
    mkdirSync(this.dir, { recursive: true });
    this.traceFile = join(this.dir, 'trace.tsv');
  }

  get url(): Promise<string> {
    return this.port.then((p) => `http://127.0.0.1:${p}`);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    await this.spawn();
    await waitFor(async () => (await this.metric('veilleur_cluster_partitions_owned')) !== undefined, 60_000, `replica ${this.id} /metrics`);
  }

  /** Starts the process and resolves with its exit code, for a replica that must refuse to start. */
  async startAndWaitForExit(timeoutMs = 60_000): Promise<number | null> {
    await this.spawn();
    const child = this.child!;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`replica ${this.id} still running after ${timeoutMs} ms`)), timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  log(): string {
    return readFileSync(join(this.dir, 'service.log'), 'utf8');
  }

  private async spawn(): Promise<void> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      MQTT_URL: this.stack.mqtt.url,
      MQTT_CLIENT_ID: 'veilleur-ha',
      INFLUX_URL: this.stack.influx.url,
      INFLUX_DB: this.stack.db,
      HTTP_PORT: String(await this.port),
      DATA_DIR: this.dir,
      LOG_LEVEL: 'info',
      HTTP_METRICS_PUBLIC: 'true',
      VEILLEUR_CONFIG: this.configFile,
      VEILLEUR_REPLICA_ID: this.id,
      VEILLEUR_CLUSTER_TRACE: this.traceFile,
      ...this.extraEnv,
    };
    const log = openSync(join(this.dir, 'service.log'), 'a');
    this.child = spawn(process.execPath, [join(ROOT, 'bin', 'veilleur.js'), 'serve'], { env, stdio: ['ignore', log, log] });
  }

  /** The sum of a metric's samples on /metrics, or undefined while the replica does not answer. */
  async metric(name: string): Promise<number | undefined> {
    try {
      const r = await fetch(`${await this.url}/metrics`, { signal: AbortSignal.timeout(2000) });
      if (!r.ok) return undefined;
      const text = await r.text();
      let sum: number | undefined;
      for (const line of text.split('\n')) {
        if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    } catch {
      return undefined;
    }
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    return signalChild(this.child, signal, 30_000);
  }

  stop(): Promise<number | null> {
    return this.kill('SIGTERM');
  }

  /** Trace lines: ownership epoch, partition, stream sequence, redelivered, DevEUI, fCnt. */
  trace(): { epoch: string; partition: number; seq: number; redelivered: boolean; devEui: string; fCnt: number }[] {
    if (!existsSync(this.traceFile)) return [];
    return readFileSync(this.traceFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [epoch = '', p = '', seq = '', re = '', devEui = '', fCnt = ''] = l.split('\t');
        return { epoch, partition: Number(p), seq: Number(seq), redelivered: re === '1', devEui, fCnt: Number(fCnt) };
      });
  }
}

/** Partitions owned by the replicas that answer, summed. */
export async function partitionsOwned(replicas: Replica[]): Promise<number> {
  let total = 0;
  for (const r of replicas) if (r.running) total += (await r.metric('veilleur_cluster_partitions_owned')) ?? 0;
  return total;
}
