/**
 * The ingestion source of a replica in cluster mode, in place of the single process's MqttConsumer: it relays the
 * broker into JetStream (relay.ts; on one replica at a time in `relay: leader` mode) and consumes the partitions
 * this replica holds a lease on, one durable pull consumer each, into the same `{ handle, flush }` sink as
 * MqttConsumer; a message is acknowledged to JetStream only once InfluxDB confirmed its lines (ClusterSink).
 *
 * Order: a partition's messages reach the ingestor in stream order, one partition on one replica at a time. A new
 * owner recreates the partition's consumer from its acknowledgement floor (the last message acknowledged, cumulative
 * acknowledgements), so the messages the previous owner had received but not acknowledged come first, in order,
 * rather than as redeliveries after later ones; recreating it also fences a previous owner that lost its lease
 * without knowing (its consumer is gone, its acknowledgements land nowhere).
 *
 * Rebalancing: every second each replica counts the live members, takes free partitions up to its fair share
 * (partitions.ts) and hands over those beyond it; a handover stops the consumer, waits for its messages to be
 * spooled and acknowledged (confirmed by the server), and only then releases the lease.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import mqtt, { type MqttClient } from 'mqtt';
import { Gauge } from 'prom-client';
import type { Logger } from 'pino';
import { parseLnsMessage } from '../lns/parse.ts';
import type { Metrics } from '../metrics.ts';
import { MqttConsumer, type MessageSink } from '../mqtt/consumer.ts';
import type { ClusterConfig } from './config.ts';
import type { ClusterNode } from './node.ts';
import { rebalance } from './partitions.ts';
import { Relay } from './relay.ts';
import { consumerOf, PARTITION_LEASE_PREFIX, partitionLease, RELAY_LEASE, subjectOf, TOPIC_HEADER } from './subjects.ts';

/**
 * The sink of the partitions: MqttConsumer's, plus two positions of the spool, so that a message is acknowledged to
 * JetStream only once InfluxDB holds its lines. Acknowledging after the spool write alone (as to MQTT) would leave
 * a replica that dies for good with acknowledged messages in its own spool, which no other replica can replay:
 * here the stream is the replicated journal, and the spool only a local buffer.
 */
export interface ClusterSink extends MessageSink {
  /** Where the journal's end is after the last flush (monotonic). */
  flushedMark(): number;
  /** Up to where InfluxDB has confirmed the journal (monotonic, same scale). */
  persistedMark(): number;
}

/** The MQTT settings the relay needs (those of the single-process consumer). */
export type MqttSettings = ConstructorParameters<typeof MqttConsumer>[0];

export interface ClusterSourceHooks {
  /**
   * Called before the first message of newly acquired partitions is handled, e.g. to reload the open alerts that
   * their previous owner raised; retried until it resolves.
   */
  beforeConsume?: (partitions: number[]) => Promise<void>;
}

/** Messages handed to the sink and not yet acknowledged, per partition, at most (back-pressure). */
const MAX_HELD = 1000;
const TICK_MS = 1000;

interface HeldMsg {
  msg: JsMsg;
  staged: boolean;
  /** In the spool; `mark` is the journal position InfluxDB must reach before the message is acknowledged. */
  durable: boolean;
  mark: number;
  failed: boolean;
}

interface Partition {
  p: number;
  /** `<replicaId>#<pid>.<n>`: one per ownership, for the trace. */
  epoch: string;
  messages: ConsumerMessages | undefined;
  loop: Promise<void> | undefined;
  held: HeldMsg[];
  lastAcked: JsMsg | undefined;
  /** Stream sequence of the last message handed to the ingestor in this ownership. */
  lastSeq: number;
  stopped: boolean;
  /** Resolved when `held` shrinks, for a loop waiting for room. */
  room: (() => void) | undefined;
  lag: number;
}

export class ClusterSource {
  private jsm: JetStreamManager | undefined;
  private js: JetStreamClient | undefined;
  private readonly owned = new Map<number, Partition>();
  private relay: { sink: Relay; consumer: MqttConsumer } | undefined;
  private publisher: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private flushScheduled = false;
  private stopping = false;
  private epochs = 0;
  private readonly trace: string | undefined = process.env.VEILLEUR_CLUSTER_TRACE || undefined;
  private traceLines: string[] = [];

  constructor(
    private readonly node: ClusterNode,
    private readonly mqttCfg: MqttSettings,
    private readonly sink: ClusterSink,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly hooks: ClusterSourceHooks = {},
  ) {
    const owned = this.owned;
    const relayActive = () => this.relay !== undefined;
    new Gauge({
      name: 'veilleur_cluster_partitions_owned',
      help: 'Partitions of the uplink stream this replica consumes now',
      registers: [metrics.registry],
      collect() {
        this.set(owned.size);
      },
    });
    new Gauge({
      name: 'veilleur_cluster_consumer_lag',
      help: 'Messages of a partition this replica owns not yet acknowledged (pending in the stream plus in flight), sampled every few seconds',
      labelNames: ['partition'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const part of owned.values()) this.labels(String(part.p)).set(part.lag);
      },
    });
    new Gauge({
      name: 'veilleur_cluster_relay_active',
      help: '1 when this replica relays the broker into JetStream',
      registers: [metrics.registry],
      collect() {
        this.set(relayActive() ? 1 : 0);
      },
    });
  }

  private get cfg(): ClusterConfig {
    return this.node.cfg;
  }

  /** NATS reachable, and the broker too when this replica relays. */
  get connected(): boolean {
    return this.node.connected && (this.relay ? this.relay.consumer.connected : true);
  }

  /** What /readyz and people may want to know. */
  status(): { replicaId: string; partitions: number[]; lag: Record<string, number>; relay: boolean; nats: boolean } {
    const parts = [...this.owned.keys()].sort((a, b) => a - b);
    return {
      replicaId: this.node.replicaId,
      partitions: parts,
      lag: Object.fromEntries(parts.map((p) => [String(p), this.owned.get(p)!.lag])),
      relay: this.relay !== undefined,
      nats: this.node.connected,
    };
  }

  async start(): Promise<void> {
    const nc = this.node.nc;
    this.jsm = await jetstreamManager(nc);
    this.js = jetstream(nc);
    await this.ensureStream();
    // Alert notifications published over MQTT (ALERT_MQTT_TOPIC, notification routes) leave from every replica.
    this.publisher = mqtt.connect(this.mqttCfg.url, {
      clientId: `${this.mqttCfg.clientId}-${this.node.replicaId}-out`.slice(0, 64),
      clean: true,
      protocolVersion: this.mqttCfg.protocolVersion,
      reconnectPeriod: 1000,
      ...(this.mqttCfg.username ? { username: this.mqttCfg.username } : {}),
      ...(this.mqttCfg.password ? { password: this.mqttCfg.password } : {}),
      ...(this.mqttCfg.caFile ? { ca: readFileSync(this.mqttCfg.caFile) } : {}),
      ...(this.mqttCfg.certFile ? { cert: readFileSync(this.mqttCfg.certFile) } : {}),
      ...(this.mqttCfg.keyFile ? { key: readFileSync(this.mqttCfg.keyFile) } : {}),
      rejectUnauthorized: !this.mqttCfg.tlsInsecure,
    });
    this.publisher.on('error', (err) => this.log.debug({ err: err.message }, 'MQTT publisher error'));
    this.node.leases.on('lost', (key) => {
      if (key.startsWith(PARTITION_LEASE_PREFIX)) {
        const part = this.owned.get(Number(key.slice(PARTITION_LEASE_PREFIX.length)));
        if (part) void this.dropPartition(part, 'lease lost');
      } else if (key === RELAY_LEASE) void this.stopRelay();
    });
    if (this.cfg.relay === 'shared') await this.startRelay();
    await this.tick();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    // Acknowledgements follow InfluxDB's confirmations, which come from the writer: looked at every 50 ms.
    this.ackTimer = setInterval(() => {
      for (const part of this.owned.values()) if (part.held.length) this.ackDurable(part);
    }, 50);
  }

  publish(topic: string, payload: string): void {
    this.publisher?.publish(topic, payload, { qos: 1 }, (err) => {
      if (err) this.log.warn({ err: err.message, topic }, 'notification not published');
    });
  }

  /** Stops relaying and hands every partition over (their messages spooled and acknowledged first). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await this.stopRelay();
    await Promise.all([...this.owned.values()].map((part) => this.handOver(part)));
    if (this.ackTimer) clearInterval(this.ackTimer);
    await new Promise<void>((resolve) => (this.publisher ? this.publisher.end(false, {}, () => resolve()) : resolve()));
  }

  /** Creates the stream, or checks that the existing one has this partition count. */
  private async ensureStream(): Promise<void> {
    const jsm = this.jsm!;
    const description = `Veilleur uplinks, partitions=${this.cfg.partitions}`;
    try {
      const info = await jsm.streams.info(this.cfg.stream);
      if (info.config.description !== description) {
        throw new Error(
          `JetStream stream ${this.cfg.stream} was made with another partition count ('${info.config.description ?? ''}'), not ${this.cfg.partitions}: a device would land in another partition; use the same cluster.partitions everywhere, or a new cluster.stream`,
        );
      }
    } catch (err) {
      if (!/stream not found/i.test((err as Error).message)) throw err;
      await jsm.streams.add({
        name: this.cfg.stream,
        description,
        subjects: [`${this.cfg.subjects}.*`],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        num_replicas: this.cfg.streamReplicas,
        duplicate_window: this.cfg.duplicateWindowSeconds * 1e9,
        max_age: this.cfg.streamMaxAgeHours * 3600 * 1e9,
      });
      this.log.info({ stream: this.cfg.stream, partitions: this.cfg.partitions }, 'JetStream stream created');
    }
  }

  /** One round of ownership: the relay lease, then partitions up to the fair share. Never runs twice at once. */
  private tick(): Promise<void> {
    if (this.ticking || this.stopping) return this.ticking ?? Promise.resolve();
    this.ticking = this.rebalanceOnce()
      .catch((err: Error) => this.log.warn({ err: err.message }, 'partition rebalancing failed; trying again'))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async rebalanceOnce(): Promise<void> {
    const leases = this.node.leases;
    if (this.cfg.relay === 'leader' && !this.relay && (await leases.acquire(RELAY_LEASE))) await this.startRelay();
    const members = await this.node.members();
    const holders = await leases.list(PARTITION_LEASE_PREFIX);
    const taken = new Set<number>();
    for (const [key, v] of holders) {
      // A lease of an earlier run of this replica (same id, e.g. restarted after a crash) counts as free for it.
      if (v.holder !== this.node.replicaId || this.owned.has(Number(key.slice(PARTITION_LEASE_PREFIX.length)))) taken.add(Number(key.slice(PARTITION_LEASE_PREFIX.length)));
    }
    const all = Array.from({ length: this.cfg.partitions }, (_, p) => p);
    const free = all.filter((p) => !taken.has(p));
    const plan = rebalance(this.node.replicaId, this.cfg.partitions, members.length, this.owned.keys(), free);
    for (const p of plan.release) {
      const part = this.owned.get(p);
      if (part) await this.handOver(part);
    }
    const acquired: number[] = [];
    for (const p of plan.acquire) {
      if (this.stopping) break;
      if (await leases.acquire(partitionLease(p))) acquired.push(p);
    }
    if (acquired.length) {
      await this.beforeConsume(acquired);
      for (const p of acquired) {
        try {
          await this.startPartition(p);
        } catch (err) {
          // Given back: taken again at a later round, by this replica or another.
          this.log.warn({ partition: p, err: (err as Error).message }, 'cannot start consuming the partition; releasing it');
          await leases.release(partitionLease(p));
        }
      }
      this.log.info({ acquired, owned: [...this.owned.keys()].sort((a, b) => a - b), members: members.length }, 'partitions taken');
    }
    await this.sampleLag();
  }

  private async beforeConsume(partitions: number[]): Promise<void> {
    if (!this.hooks.beforeConsume) return;
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await this.hooks.beforeConsume(partitions);
        return;
      } catch (err) {
        if (attempt === 1) this.log.warn({ err: (err as Error).message }, 'cannot prepare the partitions yet (open alerts); retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async startRelay(): Promise<void> {
    const shared = this.cfg.relay === 'shared';
    const sink = new Relay(this.js!, { subjects: this.cfg.subjects, partitions: this.cfg.partitions }, this.log.child({ component: 'relay' }));
    const settings: MqttSettings = {
      ...this.mqttCfg,
      // Leader: the fixed client id, whose persistent session each new leader inherits. Shared: one per replica.
      ...(shared ? { clientId: `${this.mqttCfg.clientId}-${this.node.replicaId}`.slice(0, 64), topics: this.mqttCfg.topics.map((t) => `$share/veilleur/${t}`) } : {}),
    };
    const consumer = new MqttConsumer(settings, sink, this.metrics, this.log.child({ component: 'mqtt' }));
    this.relay = { sink, consumer };
    consumer.start();
    this.log.info({ mode: this.cfg.relay, clientId: settings.clientId }, 'relaying the broker into JetStream');
  }

  private async stopRelay(): Promise<void> {
    const relay = this.relay;
    if (!relay) return;
    this.relay = undefined;
    // The connection first (nothing new comes in; what is not yet acknowledged stays with the broker's session),
    // then the retries of publishes NATS has not acknowledged.
    await relay.consumer.stop();
    relay.sink.stop();
    if (this.cfg.relay === 'leader') await this.node.leases.release(RELAY_LEASE);
    this.log.info({ published: relay.sink.published, duplicates: relay.sink.duplicates, leftWithBroker: relay.sink.inFlight }, 'relay stopped');
  }

  /** Recreates the partition's durable consumer from its acknowledgement floor and starts consuming it. */
  private async startPartition(p: number): Promise<void> {
    const jsm = this.jsm!;
    const name = consumerOf(p);
    let floor: number | undefined;
    try {
      const info = await jsm.consumers.info(this.cfg.stream, name);
      // A consumer recreated from a floor and handed over before its first acknowledgement reports a floor of 0:
      // its own starting point is then the floor (else the next owner would replay the partition from the start).
      const startedAfter = info.config.deliver_policy === DeliverPolicy.StartSequence ? (info.config.opt_start_seq ?? 1) - 1 : 0;
      floor = Math.max(info.ack_floor.stream_seq, startedAfter);
      await jsm.consumers.delete(this.cfg.stream, name);
    } catch (err) {
      if (!/consumer not found/i.test((err as Error).message)) throw err;
    }
    await jsm.consumers.add(this.cfg.stream, {
      durable_name: name,
      filter_subject: subjectOf(this.cfg.subjects, p),
      // Cumulative: acknowledging a message acknowledges those before it, so the floor is exactly what was spooled.
      ack_policy: AckPolicy.All,
      ack_wait: 60 * 1e9,
      max_ack_pending: MAX_HELD * 2,
      ...(floor !== undefined && floor > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 } : { deliver_policy: DeliverPolicy.All }),
    });
    this.log.debug({ partition: p, floor }, 'partition consumer recreated from its acknowledgement floor');
    const consumer = await this.js!.consumers.get(this.cfg.stream, name);
    const part: Partition = { p, epoch: `${this.node.replicaId}#${process.pid}.${++this.epochs}`, messages: undefined, loop: undefined, held: [], lastAcked: undefined, lastSeq: 0, stopped: false, room: undefined, lag: 0 };
    part.messages = await consumer.consume({ max_messages: 256 });
    this.owned.set(p, part);
    part.loop = this.consumeLoop(part).catch((err: Error) => {
      this.log.error({ partition: p, err: err.message }, 'partition consumer failed; handing it over');
      void this.dropPartition(part, 'consumer failed');
    });
  }

  private async consumeLoop(part: Partition): Promise<void> {
    for await (const msg of part.messages!) {
      if (part.stopped) break;
      if (msg.seq <= part.lastSeq) {
        // Delivered again in this ownership (JetStream redelivers what it had not recorded as acknowledged, e.g.
        // after a server restart): the first copy is already with the ingestor, in order. Acknowledged again when
        // it is already in InfluxDB, else the first copy's acknowledgement covers it (cumulative).
        if (part.lastAcked && msg.seq <= part.lastAcked.seq) msg.ack();
        continue;
      }
      part.lastSeq = msg.seq;
      const topic = msg.headers?.get(TOPIC_HEADER) ?? '';
      const payload = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
      const held: HeldMsg = { msg, staged: false, durable: false, mark: 0, failed: false };
      part.held.push(held);
      if (this.trace) this.traceLines.push(traceLine(part, msg, topic, payload));
      let pending: void | Promise<void>;
      try {
        pending = this.sink.handle(topic, payload);
      } catch (err) {
        held.failed = true;
        this.log.error({ partition: part.p, err: (err as Error).message }, 'message handling failed; not acknowledged');
        pending = undefined;
      }
      if (pending) {
        pending.then(
          () => {
            held.staged = true;
            this.scheduleFlush();
          },
          (err: Error) => {
            held.failed = true;
            this.log.error({ partition: part.p, err: err.message }, 'message not stored; not acknowledged');
            this.scheduleFlush();
          },
        );
      } else if (!held.failed) held.staged = true;
      this.scheduleFlush();
      while (part.held.length >= MAX_HELD && !part.stopped) await new Promise<void>((r) => (part.room = r));
    }
    if (!part.stopped) void this.restartPartition(part, 'the consumer ended');
  }

  /** Group commit: one spool flush per event-loop turn, then the acknowledgements it made possible. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushAndAck();
    });
  }

  private flushAndAck(): void {
    try {
      this.sink.flush();
    } catch (err) {
      // Nothing acknowledged: the messages stay pending in JetStream; the partitions restart from their floor.
      this.log.error({ err: (err as Error).message }, 'spool write failed: handing the partitions over unacknowledged');
      for (const part of this.owned.values()) void this.dropPartition(part, 'spool write failed');
      return;
    }
    if (this.traceLines.length) {
      appendFileSync(this.trace!, this.traceLines.join(''));
      this.traceLines = [];
    }
    const mark = this.sink.flushedMark();
    for (const part of this.owned.values()) {
      for (const h of part.held) {
        if (h.staged && !h.durable) {
          h.durable = true;
          h.mark = mark;
        }
      }
      this.ackDurable(part);
    }
  }

  /** Acknowledges (cumulatively) the partition's messages in InfluxDB from the oldest, up to the first still waiting. */
  private ackDurable(part: Partition): void {
    const persisted = this.sink.persistedMark();
    let last: JsMsg | undefined;
    while (part.held.length) {
      const h = part.held[0]!;
      if (h.failed) {
        // Acknowledging past it would lose it: start the partition again from its floor (it comes first).
        void this.restartPartition(part, 'a message could not be stored');
        break;
      }
      if (!h.durable || persisted < h.mark) break;
      part.held.shift();
      last = h.msg;
    }
    // Acknowledging what InfluxDB holds is right even after the lease was lost (the next owner then has less to redo).
    // Not confirmed one by one (a request each would cost more than the message): a hand-over checks the floor.
    if (last) {
      part.lastAcked = last;
      last.ack();
    }
    if (part.room && part.held.length < MAX_HELD / 2) {
      const room = part.room;
      part.room = undefined;
      room();
    }
  }

  /** Stops consuming; what was received but not acknowledged is delivered again from the floor. */
  private async stopConsumer(part: Partition): Promise<void> {
    part.stopped = true;
    part.room?.();
    await part.messages?.close().catch(() => undefined);
    await part.loop;
  }

  /** Graceful hand-over: stop, wait until everything handled is spooled and acknowledged (confirmed), release. */
  private async handOver(part: Partition): Promise<void> {
    if (this.owned.get(part.p) !== part) return;
    await this.stopConsumer(part);
    const deadline = Date.now() + 10_000;
    while (part.held.length && Date.now() < deadline) {
      this.flushAndAck();
      if (!part.held.length || part.held[0]!.failed) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    // The consumer's floor must have reached the last acknowledgement before the lease is given up, so that the
    // next owner starts exactly after it.
    const ok = part.lastAcked ? await this.floorReached(part.p, part.lastAcked.seq) : true;
    if (!ok) this.log.warn({ partition: part.p }, 'last acknowledgement not confirmed; the next owner may handle a few messages again (stored once)');
    this.owned.delete(part.p);
    await this.node.leases.release(partitionLease(part.p));
    this.log.info({ partition: part.p, left: part.held.length, lastAcked: part.lastAcked?.seq, confirmed: ok }, 'partition handed over');
  }

  /** Waits (5 s at most) until the server's acknowledgement floor of the partition is at `seq` or beyond. */
  private async floorReached(p: number, seq: number): Promise<boolean> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      try {
        const info = await this.jsm!.consumers.info(this.cfg.stream, consumerOf(p));
        if (info.ack_floor.stream_seq >= seq) return true;
      } catch {
        // NATS unreachable for a moment: asked again below
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  /** The lease is gone (or the spool failed): stop at once, acknowledge nothing more, do not touch the lease. */
  private async dropPartition(part: Partition, reason: string): Promise<void> {
    if (this.owned.get(part.p) !== part) return;
    this.owned.delete(part.p);
    part.stopped = true;
    this.log.warn({ partition: part.p, reason }, 'partition dropped');
    await this.stopConsumer(part);
    if (reason !== 'lease lost') await this.node.leases.release(partitionLease(part.p));
  }

  /**
   * A message could not be stored, or the consumer ended by itself: the partition is given up (its lease released,
   * nothing more acknowledged) and taken again at the next round, by this replica or another, from its floor.
   */
  private async restartPartition(part: Partition, why: string): Promise<void> {
    if (this.owned.get(part.p) !== part || part.stopped) return;
    this.log.warn({ partition: part.p, why }, 'partition given up; it is consumed again from the last acknowledged message');
    this.owned.delete(part.p);
    await this.stopConsumer(part);
    await this.node.leases.release(partitionLease(part.p));
  }

  private lagSampledAt = 0;
  private async sampleLag(): Promise<void> {
    if (Date.now() - this.lagSampledAt < 5000) return;
    this.lagSampledAt = Date.now();
    for (const part of this.owned.values()) {
      try {
        const info = await this.jsm!.consumers.info(this.cfg.stream, consumerOf(part.p));
        part.lag = info.num_pending + info.num_ack_pending;
      } catch {
        // sampled again in 5 s
      }
    }
  }
}

/** Debug only (VEILLEUR_CLUSTER_TRACE=file): the order in which this replica handed messages to the ingestor. */
function traceLine(part: Partition, msg: JsMsg, topic: string, payload: Buffer): string {
  const e = parseLnsMessage(topic, payload);
  const dev = e.kind === 'uplink' ? `${e.devEui}\t${e.fCnt}` : '-\t-';
  return `${part.epoch}\t${part.p}\t${msg.seq}\t${msg.redelivered ? 1 : 0}\t${dev}\n`;
}
