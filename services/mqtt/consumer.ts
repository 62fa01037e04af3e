/**
 * Subscribes to the network server's broker with QoS 1 and a persistent session (fixed client id, clean session
 * off), so the broker keeps what arrives while Veilleur is down. MQTT.js calls `handleMessage` one message at a
 * time and sends the PUBACK only when its callback runs: the callback runs after the message is durably in the
 * spool, and is held back while the spool is full (back-pressure: the broker queues instead of Veilleur dropping).
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Config } from '../config/load.ts';
import type { Metrics } from '../metrics.ts';

export interface MessageSink {
  /** Must not throw. Resolves (or returns) once the message is durably held. */
  (topic: string, payload: Buffer): void | Promise<void>;
}

export class MqttConsumer {
  private client: MqttClient | undefined;
  connected = false;

  constructor(
    private readonly cfg: Config['mqtt'],
    private readonly sink: MessageSink,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    const opts: IClientOptions = {
      clientId: this.cfg.clientId,
      clean: false,
      // MQTT 3.1.1: what ChirpStack's and The Things Stack's brokers all speak.
      protocolVersion: 4,
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
    };
    const client = mqtt.connect(this.cfg.url, opts);
    this.client = client;
    client.handleMessage = (packet, done) => {
      let pending: void | Promise<void>;
      try {
        pending = this.sink(packet.topic, packet.payload as Buffer);
      } catch (err) {
        // The sink never throws by contract; if it did, not acknowledging lets the broker redeliver.
        this.log.error({ err: (err as Error).message, topic: packet.topic }, 'message handling failed; not acknowledged');
        return;
      }
      if (pending) pending.then(() => done(), (err: Error) => this.log.error({ err: err.message }, 'message not acknowledged'));
      else done();
    };
    client.on('connect', (connack) => {
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
      if (this.connected) this.log.warn({ broker: redactUrl(this.cfg.url) }, 'MQTT connection closed; reconnecting');
      this.connected = false;
      this.metrics.mqttConnected.set(0);
    });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT error'));
  }

  /** Closes the connection; messages not yet acknowledged stay with the broker for the next session. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
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
