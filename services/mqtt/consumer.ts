/**
 * Subscribes to the network server's broker with QoS 1 and a persistent session (fixed client id, clean session
 * off), so the broker keeps what arrives while Veilleur is down. MQTT.js calls `handleMessage` one message at a
 * time and writes the PUBACK when its callback runs; the callback is held back while the spool is full
 * (back-pressure: the broker queues instead of Veilleur dropping).
 *
 * Group commit: the socket is corked while the messages of one network read are handled, so their PUBACKs stay
 * in this process; then `flush()` writes their lines to the spool file in one write(2), and only then is the socket
 * uncorked and the PUBACKs leave. No acknowledgement ever precedes durability, and a burst costs one write, not
 * one per message. If the flush fails, the connection is dropped with the PUBACKs unsent: the broker redelivers.
 *
 * A message whose lines come later (an uplink waiting for its custom codec, or for room in a full spool) does not
 * hold the next ones: MQTT.js is told to go on without acknowledging it, and its PUBACK, with those of every message
 * received after it, is held here and sent once its lines are spooled — in the order the messages arrived, as MQTT
 * requires, and only on the connection they came on (after a reconnection the broker sends them again).
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';

/** What the consumer needs of the configuration: the broker connection (MQTT_* variables, config/load.ts). */
export interface MqttSettings {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  protocolVersion: 4 | 5;
  topics: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  tlsInsecure: boolean;
}
import type { Metrics } from '../metrics.ts';

/** How long the broker keeps the session (and queues for it) while Veilleur is away: a week. */
const SESSION_EXPIRY_S = 7 * 24 * 3600;
/**
 * MQTT 5 Receive Maximum: unacknowledged messages the broker may have in flight to Veilleur, and the most this
 * process holds (it stops reading beyond). Enough for a group commit to cover many messages per write; small enough
 * that a backlog stays in the broker, not in this process, and that a message is acknowledged before the garbage
 * collector moves it to the old generation. Measured (docs/performance.md): 250 held instead of 1000 took the CPU of a
 * 100,000-uplink run from 6.6 to 5.2 s at a higher rate; 100 did no better.
 */
const RECEIVE_MAXIMUM = 250;

/** Passed to MQTT.js's handleMessage callback: go on with the next message, send no PUBACK for this one (yet). */
const DEFERRED = new Error('acknowledgement deferred until the message is spooled');

interface HeldAck {
  messageId: number;
  stream: unknown;
  /** Its lines are staged: durable after the next flush. */
  staged: boolean;
  durable: boolean;
  /** Never to be acknowledged on this connection: the broker sends it again. */
  dropped: boolean;
}

export interface MessageSink {
  /**
   * Must not throw. Returns once the message is staged (durable after the next flush), or returns a promise that
   * resolves once its lines are staged or durable; either way it is acknowledged after the next successful flush.
   */
  handle(topic: string, payload: Buffer): void | Promise<void>;
  /** Makes everything staged durable; throws if it cannot. */
  flush(): void;
}

export class MqttConsumer {
  private client: MqttClient | undefined;
  private corked: { uncork(): void; destroy(err?: Error): void } | undefined;
  connected = false;
  /** Set by stop(): the close that follows is ours, not a lost connection. */
  private closing = false;
  /** PUBACKs held behind a message that waits for its lines, in the order of arrival. */
  private readonly held: HeldAck[] = [];
  /**
   * MQTT.js's "go on" for the last message, kept while `held` is full: MQTT.js then reads no further, the socket
   * fills and the broker holds the rest. Measured: mosquitto 2.0 kept sending beyond the Receive Maximum (17,000
   * messages unacknowledged at once in a 100,000-uplink run, and the heap ran out at 300,000), so the bound must be ours.
   */
  private resumeReading: (() => void) | undefined;

  constructor(
    private readonly cfg: MqttSettings,
    private readonly sink: MessageSink,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    const opts: IClientOptions = {
      clientId: this.cfg.clientId,
      clean: false,
      protocolVersion: this.cfg.protocolVersion,
      // MQTT 5: the session must outlive the connection explicitly (0 would end it at disconnect), and Receive
      // Maximum lets the broker keep sending while earlier messages wait for their PUBACK.
      ...(this.cfg.protocolVersion === 5 ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_S, receiveMaximum: RECEIVE_MAXIMUM } } : {}),
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: true,
      ...(this.cfg.username ? { username: this.cfg.username } : {}),
      ...(this.cfg.password ? { password: this.cfg.password } : {}),
      ...(this.cfg.caFile ? { ca: readFileSync(this.cfg.caFile) } : {}),
      ...(this.cfg.certFile ? { cert: readFileSync(this.cfg.certFile) } : {}),
      ...(this.cfg.keyFile ? { key: readFileSync(this.cfg.keyFile) } : {}),
      rejectUnauthorized: !this.cfg.tlsInsecure,
      // Not mqtt-packet's table of 65,536 two-byte buffers (6.5 MB of heap for ever); a PUBACK then allocates 2 bytes.
      writeCache: false,
    };
    const client = mqtt.connect(this.cfg.url, opts);
    this.client = client;
    client.handleMessage = (packet, done) => {
      this.beginBatch(client);
      let pending: void | Promise<void>;
      try {
        pending = this.sink.handle(packet.topic, packet.payload as Buffer);
      } catch (err) {
        // The sink never throws by contract. If it did: without done(), MQTT.js reads no further packet on this
        // connection (it hands them over one at a time), so nothing more is taken in until the connection drops;
        // only then does the broker redeliver the unacknowledged message to the persistent session.
        this.log.error({ err: (err as Error).message, topic: packet.topic }, 'message handling failed; not acknowledged');
        return;
      }
      if (!pending && this.held.length === 0) {
        done();
        return;
      }
      if (packet.qos === 0 || packet.messageId === undefined) {
        // Nothing to acknowledge; the lines still need a flush once staged.
        pending?.then(() => this.beginBatch(client), (err: Error) => this.log.error({ err: err.message }, 'message not stored'));
        done();
        return;
      }
      const ack: HeldAck = { messageId: packet.messageId, stream: client.stream, staged: !pending, durable: false, dropped: false };
      this.held.push(ack);
      pending?.then(
        () => {
          ack.staged = true;
          this.beginBatch(client);
        },
        (err: Error) => {
          ack.dropped = true;
          this.log.error({ err: err.message }, 'message not acknowledged');
          this.beginBatch(client);
        },
      );
      if (this.held.length >= RECEIVE_MAXIMUM) this.resumeReading = () => done(DEFERRED);
      else done(DEFERRED);
    };
    // A refused TLS handshake comes back at every reconnection (each second): the first is logged at warn with what
    // to configure, its repeats at debug and every 60th at warn, so that a misconfiguration does not flood the log.
    let lastError = '';
    let repeats = 0;
    client.on('error', (err: Error & { code?: string | number }) => {
      repeats = err.message === lastError ? repeats + 1 : 0;
      lastError = err.message;
      const fields = { err: err.message.trim(), ...(err.code ? { code: err.code } : {}), ...tlsHint(err.code), ...(repeats ? { repeats } : {}) };
      if (repeats % 60 === 0) this.log.warn(fields, 'MQTT error');
      else this.log.debug(fields, 'MQTT error');
    });
    client.on('connect', (connack) => {
      lastError = '';
      repeats = 0;
      this.connected = true;
      this.metrics.mqttConnected.set(1);
      this.log.info({ broker: redactUrl(this.cfg.url), clientId: this.cfg.clientId, sessionPresent: connack.sessionPresent }, 'connected to the MQTT broker');
      // Subscribing again on a present session is harmless and covers topics added to the configuration.
      client.subscribe(
        this.cfg.topics.map((t) => ({ topic: t, qos: 1 as const })).reduce<Record<string, { qos: 1 }>>((acc, s) => ({ ...acc, [s.topic]: { qos: s.qos } }), {}),
        (err, granted) => {
          if (err) this.log.error({ err: err.message }, 'subscription failed');
          else this.log.info({ topics: granted?.map((g) => `${g.topic} (QoS ${g.qos})`) }, 'subscribed');
        },
      );
    });
    client.on('close', () => {
      if (this.connected && !this.closing) this.log.warn({ broker: redactUrl(this.cfg.url) }, 'MQTT connection closed; reconnecting');
      this.connected = false;
      this.metrics.mqttConnected.set(0);
    });
  }

  /**
   * Publishes on the same connection (alert notifications), QoS 1. Never blocks: MQTT.js keeps the message and
   * sends it again after a reconnection. Published while a batch is corked, it leaves after the spool write.
   */
  publish(topic: string, payload: string): void {
    this.client?.publish(topic, payload, { qos: 1 }, (err) => {
      if (err) this.log.warn({ err: err.message, topic }, 'notification not published');
    });
  }

  /** Holds this read's PUBACKs in the socket until the spool flush at the end of the event-loop turn. */
  private beginBatch(client: MqttClient): void {
    if (this.corked) return;
    const stream = client.stream;
    stream.cork();
    this.corked = stream;
    setImmediate(() => this.endBatch());
  }

  private endBatch(): void {
    const stream = this.corked;
    this.corked = undefined;
    if (!stream) return;
    try {
      this.sink.flush();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'spool write failed: dropping the connection with the acknowledgements unsent');
      stream.destroy(err as Error);
      return;
    }
    if (this.held.length) this.releaseHeld();
    stream.uncork();
  }

  /** Sends the held PUBACKs now durable, from the oldest, up to the first message still waiting for its lines. */
  private releaseHeld(): void {
    for (const a of this.held) if (a.staged) a.durable = true;
    const client = this.client;
    while (this.held.length) {
      const a = this.held[0]!;
      const current = client !== undefined && client.connected && a.stream === client.stream;
      // A message of a previous connection is sent again by the broker: it holds nothing back.
      if (current && !a.durable && !a.dropped) break;
      this.held.shift();
      if (current && a.durable) {
        // noStore: a PUBACK is never queued for a later connection, where its message id would name another message.
        (client as unknown as { _sendPacket(p: object, cb?: () => void, cbStorePut?: () => void, noStore?: boolean): void })._sendPacket(
          { cmd: 'puback', messageId: a.messageId, reasonCode: 0 },
          undefined,
          undefined,
          true,
        );
      }
    }
    if (this.resumeReading && this.held.length < RECEIVE_MAXIMUM / 2) {
      const resume = this.resumeReading;
      this.resumeReading = undefined;
      resume();
    }
  }

  /** Closes the connection; messages not yet acknowledged stay with the broker for the next session. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.closing = true;
    // A clean DISCONNECT keeps the session; if the broker is unreachable, give up after 3 s.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => client.end(true, {}, () => resolve()), 3000);
      client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.connected = false;
  }
}

/** What to configure when the TLS handshake failed: OpenSSL alerts sent by the broker, Node's verification codes. */
function tlsHint(code: string | number | undefined): { hint?: string } {
  if (typeof code !== 'string') return {};
  if (/^ERR_SSL_.*ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE)$/.test(code)) {
    return { hint: 'the broker refused the TLS handshake: if it requires a client certificate, set MQTT_CERT_FILE and MQTT_KEY_FILE to one it trusts' };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { hint: "the broker's certificate does not name the host of MQTT_URL" };
  if (/CERT|SELF_SIGNED|ISSUER|VERIFY/.test(code)) return { hint: "the broker's certificate is not trusted: set MQTT_CA_FILE to the CA that signed it (and check its dates)" };
  return {};
}

/** mqtt://user:secret@host → mqtt://user:***@host, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
